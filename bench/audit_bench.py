#!/usr/bin/env python3
"""The Audit Log's reads on a large log, against floors measured in the same run:

    .venv/bin/python bench/audit_bench.py [--events 1000000]

A store gets N events inserted as rows (their hashes are not a chain: verifying is not
timed here), 1 in 500 of them denied, by a handful of users and actions. Then:

- `newest` is `audit_log.newest_events` with no filter (what the page reads first: the
  newest PAGE_EVENTS and the count), against the floor of one SELECT of the same columns
  and rows, tuples only (no json.loads, no dataclasses);
- `denied` is the same filtered to the denied outcome (no index: a scan), against the
  floor of a SELECT count(*) with the same WHERE;
- `facets` is `audit_log.facets` (the filters' users and actions), against a
  SELECT count(*) of the whole table;
- `page` is the Audit Log page shown until its rows are in, in this process, offscreen,
  and the part of it the GUI thread spends showing them (its longest stall).

Each is the median of three runs; ratios are printed beside the times.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import keyslots

keyslots.DEFAULT_PARAMS = keyslots.Argon2Params(1, 1, 1024)  # the unlock is not timed

from app.services import audit_log, users  # noqa: E402
from app.services.audit_log import AuditFilter  # noqa: E402
from models.base import using  # noqa: E402

USERS = ("admin", "ana", "bob", "carol", "dora", "build-bot")
ACTIONS = ("certificate.sign", "certificate.import", "certificate.disable", "policy.add")


def fill(session, count: int) -> None:
    db = session.store.db
    start = 1_700_000_000_000_000
    rows = (
        (
            start + i * 1_000_000,
            USERS[i % len(USERS)],
            ACTIONS[i % len(ACTIONS)],
            f"Release Signing {i % 5000}",
            "denied" if i % 500 == 0 else "allowed",
            json.dumps({"sha256": f"{i:064x}"}),
            f"p{i}",
            f"h{i}",
        )
        for i in range(count)
    )
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO audit_event (time, user, action, target, outcome, details, prev_hash,"
            " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def timed(run) -> float:
    times = []
    for _ in range(3):
        begun = time.perf_counter()
        run()
        times.append(time.perf_counter() - begun)
    return statistics.median(times)


def page_time(session) -> tuple[float, float]:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from ui import tasks
    from ui.audit_view import AuditView

    app = QApplication.instance() or QApplication([])
    begun = time.perf_counter()
    page = AuditView(session)
    shown = page._show
    on_gui = []

    def show(read) -> None:
        started = time.perf_counter()
        shown(read)
        on_gui.append(time.perf_counter() - started)

    page._show = show
    page.resize(1024, 700)
    page.show()
    page.reload_when_shown()  # as the main window does for every page
    while not page.loaded or not tasks.idle():
        QCoreApplication.processEvents()
    app.processEvents()
    elapsed = time.perf_counter() - begun
    page.close()
    page.deleteLater()
    app.processEvents()
    return elapsed, max(on_gui)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="certdesk-audit-bench-")) / "store"
    session, _ = users.initialise_store(folder, "admin", "correct horse battery")
    fill(session, args.events)
    db = session.store.db
    limit = 100_000
    columns = "id, time, user, action, target, outcome, details"
    with using(db):
        figures = {
            "newest": (
                timed(lambda: audit_log.newest_events(session, AuditFilter(), limit)),
                timed(
                    lambda: db.execute_sql(
                        f"SELECT {columns} FROM audit_event ORDER BY id DESC LIMIT {limit}"
                    ).fetchall()
                ),
            ),
            "denied": (
                timed(
                    lambda: audit_log.newest_events(session, AuditFilter(outcome="denied"), limit)
                ),
                timed(
                    lambda: db.execute_sql(
                        "SELECT count(*) FROM audit_event WHERE outcome = 'denied'"
                    ).fetchall()
                ),
            ),
            "facets": (
                timed(lambda: audit_log.facets(session)),
                timed(lambda: db.execute_sql("SELECT count(*) FROM audit_event").fetchall()),
            ),
        }
    print(f"{args.events:,} events")
    for name, (figure, floor) in figures.items():
        ratio = figure / floor
        print(f"{name:>7}: {figure * 1e3:8.1f} ms   floor {floor * 1e3:7.1f} ms   ×{ratio:.1f}")
    whole, on_gui = page_time(session)
    print(f"   page: {whole * 1e3:8.1f} ms   until its rows are in; {on_gui * 1e3:.1f} ms of it")
    print("         on the GUI thread (the rest is read and prepared on a worker)")
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
