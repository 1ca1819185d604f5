#!/usr/bin/env python3
"""The certificates table at scale, without a window: load, set_rows, sort, filter, repaint.

    .venv/bin/python bench/table_bench.py                  # 100,000 certificates
    .venv/bin/python bench/table_bench.py 20000 --repeat 5
    .venv/bin/python bench/table_bench.py 100000 --setup direct --keep /tmp/tb100k
    .venv/bin/python bench/table_bench.py 100000 --keep /tmp/tb100k   # reuses that store
    .venv/bin/python bench/table_bench.py 20000 --profile             # cProfile the slowest

The store is a fresh temporary folder (the keyring is the fail backend, Qt is offscreen),
unless --keep DIR: then it is made in DIR and kept, and a later run with the same DIR
reuses it. Setup (not counted):

  --setup import   one PEM bundle through app.services.certificates.import_bytes
  --setup direct   the same facts (app.crypto.certinfo) bulk-inserted with the models;
                   it skips the import service and its audit events
  --setup auto     (default) import up to 20,000 certificates, direct above: the import
                   slows down as the store grows (~11 ms per certificate at 100,000), so
                   100,000 through import_bytes takes about ten minutes

Then, unless --plain, some rows get groups, policies, usage counts, owners, PINs and a
disabled flag (written with the models), so that every column has something to sort.
Each step runs --repeat times; "first" is the first run (cold caches), "median" the rest.
"""

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
# The working tree first: an editable install made before resources/__init__.py existed
# maps `resources` as a namespace package, and importlib.resources then fails on it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import certfactory
from cryptography import x509

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.crypto.certinfo import certificate_facts
from app.services import certificate_import, certificates, users
from app.services.session import Session, write_transaction
from app.store import DB_FILE, default_store_dir
from models import (
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    User,
)
from ui.certificates_model import (
    FILTER_ALL,
    FILTER_EXPIRED,
    FILTER_EXPIRING,
    FILTER_HIDE_EXPIRED,
    CertificatesModel,
)

PASSWORD = "bench-password-123"
ADMIN = "bench"
ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
REPAINT_ROWS = 40
REPAINT_ROLES = (
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.DecorationRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.BackgroundRole,
)
GROUPS = 24
AUTO_IMPORT_LIMIT = 20_000
POLICIES = 6


@dataclass
class Figure:
    section: str
    name: str
    times: list[float] = field(default_factory=list)
    note: str = ""
    prep: Callable[[], object] | None = None
    action: Callable[[], object] | None = None

    @property
    def first_ms(self) -> float:
        return self.times[0] * 1000

    @property
    def median_ms(self) -> float:
        rest = self.times[1:] or self.times
        return statistics.median(rest) * 1000


class Bench:
    def __init__(self, repeat: int):
        self.repeat = repeat
        self.figures: list[Figure] = []

    def measure(
        self,
        section: str,
        name: str,
        action: Callable[[], object],
        prep: Callable[[], object] | None = None,
        repeat: int | None = None,
        note: Callable[[], str] | str = "",
    ) -> Figure:
        figure = Figure(section, name, prep=prep, action=action)
        for _ in range(repeat or self.repeat):
            if prep:
                prep()
            start = time.perf_counter()
            action()
            figure.times.append(time.perf_counter() - start)
        figure.note = note() if callable(note) else note
        self.figures.append(figure)
        return figure

    def report(self) -> None:
        section = None
        for f in self.figures:
            if f.section != section:
                section = f.section
                print(f"\n{section}")
                print(f"  {'step':<44} {'first ms':>10} {'median ms':>10}  note")
            print(f"  {f.name:<44} {f.first_ms:>10.1f} {f.median_ms:>10.1f}  {f.note}")


def rss_mib() -> float | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        return None


# -- setup ------------------------------------------------------------------------------


def setup_import(session: Session, batch: certfactory.Batch) -> None:
    result = certificate_import.import_bytes(session, "bench-bundle.pem", b"".join(batch.pems))
    if result.error or len(result.imported) != len(batch.pems):
        sys.exit(f"import failed: {result.error or len(result.imported)} imported")


def setup_direct(session: Session, batch: certfactory.Batch, chunk: int = 500) -> None:
    """What the import stores, bulk-inserted (no audit events, no alias de-duplication)."""
    start_id = (Certificate.select(Certificate.id).order_by(Certificate.id.desc()).scalar()) or 0
    with write_transaction(session):
        for offset in range(0, len(batch.pems), chunk):
            facts = [
                certificate_facts(x509.load_pem_x509_certificate(pem))
                for pem in batch.pems[offset : offset + chunk]
            ]
            ids = range(start_id + offset + 1, start_id + offset + 1 + len(facts))
            Certificate.insert_many(
                [
                    {
                        "id": cid,
                        "alias": f.common_name,
                        "sha1": f.sha1,
                        "sha256": f.sha256,
                        "subject": f.subject,
                        "issuer": f.issuer,
                        "serial": f.serial,
                        "not_before": f.not_before,
                        "not_after": f.not_after,
                        "spki_sha256": f.spki_sha256,
                        "key_algorithm": f.key_algorithm,
                    }
                    for cid, f in zip(ids, facts, strict=True)
                ]
            ).execute()
            CertificateDer.insert_many(
                [{"certificate": cid, "der": f.der} for cid, f in zip(ids, facts, strict=True)]
            ).execute()


def decorate(session: Session, seed: int = 7) -> None:
    """Groups, policies, usage, owners, PINs, disabled rows: every column gets values."""
    rng = random.Random(seed)
    ids = [cid for (cid,) in Certificate.select(Certificate.id).order_by(Certificate.id).tuples()]
    owner = User.get(User.name == ADMIN).id
    now = dt.datetime.now(dt.UTC)
    db = session.store.db
    table = Certificate._meta.table_name
    with write_transaction(session):
        groups = []
        for k in range(GROUPS):
            groups.append(CertificateGroup.create(name=f"Team {k + 1:02d} signing").id)
        members = []
        for n, cid in enumerate(ids):
            if n % 3 >= 1:
                members.append((groups[n % GROUPS], cid))
            if n % 3 == 2 and (n * 7) % GROUPS != n % GROUPS:
                members.append((groups[(n * 7) % GROUPS], cid))
        for offset in range(0, len(members), 5000):
            CertificateGroupMember.insert_many(
                members[offset : offset + 5000],
                fields=[CertificateGroupMember.group, CertificateGroupMember.certificate],
            ).execute()
        for p in range(POLICIES):
            policy = Policy.create(name=f"Policy {chr(ord('A') + p)}: release signing")
            for g in range(4):
                PolicyCertificateGroup.create(policy=policy, group=groups[(p * 4 + g) % GROUPS])
            direct = [(policy.id, cid) for cid in ids[p :: 97 + p]]
            for offset in range(0, len(direct), 5000):
                PolicyCertificate.insert_many(
                    direct[offset : offset + 5000],
                    fields=[PolicyCertificate.policy, PolicyCertificate.certificate],
                ).execute()
        usage = []
        for cid in ids:
            if rng.random() < 0.3:
                used = now - dt.timedelta(minutes=rng.randint(1, 400 * 24 * 60))
                usage.append((rng.randint(1, 5000), Certificate.last_used.db_value(used), cid))
        db.cursor().executemany(
            f'UPDATE "{table}" SET usage_count = ?, last_used = ? WHERE id = ?', usage
        )
        flags = [
            (
                0 if rng.random() < 0.02 else 1,
                owner if rng.random() < 0.1 else None,
                "bench-not-a-real-hash" if rng.random() < 0.05 else None,
                1 if rng.random() < 0.1 else 0,
                cid,
            )
            for cid in ids
        ]
        db.cursor().executemany(
            f'UPDATE "{table}" SET enabled = ?, owner_id = ?, pin_hash = ?, ask_reason = ? '
            "WHERE id = ?",
            flags,
        )


def open_store(args, folder: Path) -> tuple[Session, str]:
    """A new store with N certificates, or (with --keep DIR) the one a previous run left."""
    if (folder / DB_FILE).exists():
        session = users.sign_in(folder, ADMIN, password=PASSWORD)[0]
        count = Certificate.select().count()
        if count != args.n:
            session.close()
            sys.exit(f"{folder} holds {count:,} certificates, not {args.n:,}; use another DIR")
        return session, f"reused the store in {folder}"
    start = time.perf_counter()
    batch = certfactory.generate(args.n)
    generated = time.perf_counter() - start
    session = users.initialise_store(folder, ADMIN, PASSWORD)[0]
    start = time.perf_counter()
    (setup_import if args.setup == "import" else setup_direct)(session, batch)
    stored = time.perf_counter() - start
    start = time.perf_counter()
    if not args.plain:
        decorate(session)
    decorated = time.perf_counter() - start
    text = (
        f"generated {args.n:,} certificates in {generated:.1f} s; stored them with "
        f"--setup {args.setup} in {stored:.1f} s ({args.n / stored:,.0f}/s)"
    )
    if not args.plain:
        text += f"; groups, policies and usage added in {decorated:.1f} s"
    return session, text


# -- the measurements -------------------------------------------------------------------


def repaint(model: CertificatesModel) -> None:
    """The data() calls one repaint of the visible rows makes. Called from Python, not
    through QModelIndex.data(): in PySide6 6.12 that drops a reference to None each time
    the answer is None, and Python 3.11 aborts once None's count reaches zero."""
    data = model.data
    rows = min(REPAINT_ROWS, model.rowCount())
    for index in [model.index(r, c) for r in range(rows) for c in range(model.columnCount())]:
        for role in REPAINT_ROLES:
            data(index, role)


def run_model_steps(
    bench: Bench, session: Session, expected: int
) -> tuple[CertificatesModel, list]:
    model = CertificatesModel()
    holder: dict = {}

    def load():
        holder["rows"] = certificates.list_certificates(session)

    rss_before = rss_mib()
    bench.measure("Load", "list_certificates(session)", load, note=lambda: "")
    rows = holder["rows"]
    if len(rows) != expected:
        print(f"  WARNING: list_certificates gave {len(rows):,} rows, expected {expected:,}")
    rss_rows = rss_mib()
    bench.figures[-1].note = f"{len(rows):,} rows" + (
        f", +{rss_rows - rss_before:.0f} MiB RSS" if rss_before and rss_rows else ""
    )

    model.sort(CertificatesModel.COL_NAME, ASC)
    bench.measure(
        "Load",
        "model.set_rows(rows)",
        lambda: model.set_rows(rows),
        note=lambda: f"{model.rowCount():,} visible; sorted by name (keys built)",
    )

    for column, header in enumerate(CertificatesModel.HEADERS):
        other = CertificatesModel.COL_VALID_TO if column == 0 else CertificatesModel.COL_NAME

        def fresh(other=other):  # a fresh load sorted by another column: no keys for this one
            model.sort(other, ASC)
            model.set_rows(rows)

        bench.measure(
            "Sort (model.sort)",
            f"{header}: ascending, first click",
            lambda column=column: model.sort(column, ASC),
            prep=fresh,
            note="builds this column's sort keys",
        )
        bench.measure(
            "Sort (model.sort)",
            f"{header}: descending",
            lambda column=column: model.sort(column, DESC),
            note="keys cached",
        )
        bench.measure(
            "Sort (model.sort)",
            f"{header}: ascending again",
            lambda column=column: model.sort(column, ASC),
            note="keys cached",
        )

    model.sort(CertificatesModel.COL_NAME, ASC)
    queries = [
        ("acme", FILTER_ALL),
        ("bench signer 00012", FILTER_ALL),
        ("bench issuing ca 2", FILTER_ALL),
        ("no such certificate", FILTER_ALL),
        ("", FILTER_EXPIRING),
        ("", FILTER_EXPIRED),
        ("", FILTER_HIDE_EXPIRED),
        ("umbrella", FILTER_EXPIRED),
        ("", FILTER_ALL),
    ]
    for query, expiry in queries:
        away = ("acme", FILTER_ALL) if (query, expiry) == ("", FILTER_ALL) else ("", FILTER_ALL)
        label = f'"{query}"' if query else "(no text)"
        if expiry != FILTER_ALL:
            label += f" + {expiry}"
        bench.measure(
            "Filter (model.set_filter), sorted by name",
            label,
            lambda query=query, expiry=expiry: model.set_filter(query, expiry),
            prep=lambda away=away: model.set_filter(*away),
            note=lambda: f"{model.rowCount():,} visible",
        )
    model.set_filter("", FILTER_ALL)

    for column, what in (
        (CertificatesModel.COL_NAME, "by name"),
        (CertificatesModel.COL_VALID_TO, "by valid-to: expired rows, icons, tints"),
    ):
        model.sort(column, ASC)
        cells = min(REPAINT_ROWS, model.rowCount()) * model.columnCount()
        bench.measure(
            f"Repaint: model.data(index, role) for the first {REPAINT_ROWS} rows × "
            f"{model.columnCount()} columns × {len(REPAINT_ROLES)} roles "
            f"({cells * len(REPAINT_ROLES):,} calls, QModelIndex creation included)",
            f"sorted {what.split(':')[0]}",
            lambda: repaint(model),
            repeat=max(bench.repeat, 20),
            note=what.split(": ")[1] if ": " in what else "",
        )
    model.sort(CertificatesModel.COL_NAME, ASC)
    return model, rows


def run_view_steps(bench: Bench, model: CertificatesModel, rows: list) -> None:
    """The same model in the real table widget, offscreen: sort clicks and real paints."""
    try:
        from ui.certificates_table import CertificatesTable
    except Exception as exc:  # the UI is being edited elsewhere: skip, do not fail
        print(f"\n(view steps skipped: cannot import CertificatesTable: {exc})")
        return
    app = QApplication.instance()
    table = CertificatesTable(model)
    table.resize(1400, 900)
    table.show()
    app.processEvents()
    section = "With a CertificatesTable (offscreen, 1400×900)"

    def paint():
        table.viewport().repaint()

    bench.measure(
        section,
        "set_rows(rows) + processEvents",
        lambda: (model.set_rows(rows), app.processEvents()),
    )
    bench.measure(section, "viewport().repaint(), by name", paint, repeat=max(bench.repeat, 10))
    header = table.horizontalHeader()
    for column, title in enumerate(CertificatesModel.HEADERS):
        other = CertificatesModel.COL_VALID_TO if column == 0 else CertificatesModel.COL_NAME

        def fresh(other=other):
            header.setSortIndicator(other, ASC)
            model.set_rows(rows)

        # What a click on the header does: setSortIndicator -> sortIndicatorChanged -> one
        # model.sort(). (QTableView.sortByColumn would sort twice: Qt sorts through the
        # signal and then again because the indicator already matches.)
        bench.measure(
            section,
            f"header click: {title} + repaint",
            lambda column=column: (header.setSortIndicator(column, ASC), paint()),
            prep=fresh,
            note="first click after a load",
        )
    header.setSortIndicator(CertificatesModel.COL_VALID_TO, ASC)
    bench.measure(section, "viewport().repaint(), by valid-to", paint, repeat=max(bench.repeat, 10))
    table.close()
    table.deleteLater()
    app.processEvents()


def profile(figures: list[Figure], count: int) -> None:
    import cProfile
    import pstats

    slowest = sorted((f for f in figures if f.action), key=lambda f: f.median_ms, reverse=True)
    for f in slowest[:count]:
        print(f"\n--- cProfile: {f.section} / {f.name} (median {f.median_ms:.1f} ms) ---")
        if f.prep:
            f.prep()
        profiler = cProfile.Profile()
        profiler.enable()
        f.action()
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.strip_dirs().sort_stats("tottime").print_stats(12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="certificates (100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (3)")
    parser.add_argument("--setup", choices=("auto", "import", "direct"), default="auto")
    parser.add_argument("--plain", action="store_true", help="no groups, policies, usage")
    parser.add_argument("--keep", metavar="DIR", help="make (or reuse) the store in DIR")
    parser.add_argument("--no-view", action="store_true", help="skip the CertificatesTable steps")
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=2,
        default=0,
        metavar="K",
        help="cProfile the K slowest steps afterwards (2)",
    )
    args = parser.parse_args()
    if args.n < 1 or args.repeat < 1:
        parser.error("N and --repeat must be at least 1")
    if args.setup == "auto":
        args.setup = "import" if args.n <= AUTO_IMPORT_LIMIT else "direct"

    app = QApplication.instance() or QApplication(["table_bench"])
    if args.keep:
        folder, temporary = Path(args.keep).expanduser().resolve(), False
        real = default_store_dir().resolve()
        if folder == real or real in folder.parents or folder in real.parents:
            parser.error(f"--keep {folder}: overlaps the real data folder {real}")
        if folder.exists() and any(folder.iterdir()) and not (folder / DB_FILE).exists():
            parser.error(f"--keep {folder}: neither empty nor a store left by this benchmark")
    else:
        folder, temporary = Path(tempfile.mkdtemp(prefix="certdesk-table-")).resolve(), True
    xdg = Path(tempfile.mkdtemp(prefix="certdesk-table-xdg-"))
    for variable, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        os.environ[variable] = str(xdg / sub)
    store = folder / "store" if temporary else folder
    session = None
    try:
        print(f"Certdesk table benchmark: {args.n:,} certificates, {args.repeat} run(s) per step")
        print(f"  store   {store}{'  (temporary)' if temporary else '  (kept)'}")
        print(f"  Python  {sys.version.split()[0]}, Qt platform {app.platformName()}")
        session, how = open_store(args, store)
        print(f"  setup   {how} (not counted)")
        bench = Bench(args.repeat)
        model, rows = run_model_steps(bench, session, args.n)
        if not args.no_view:
            run_view_steps(bench, model, rows)
        bench.report()
        rss = rss_mib()
        if rss:
            print(f"\nProcess RSS at the end: {rss:.0f} MiB")
        if args.profile:
            profile(bench.figures, args.profile)
        return 0
    finally:
        if session is not None:
            session.close()
        shutil.rmtree(xdg, ignore_errors=True)
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
