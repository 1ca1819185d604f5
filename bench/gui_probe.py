#!/usr/bin/env python3
"""The GUI figures of one store, in a process of their own (so that its memory is the
app's): figures.py runs it and reads the JSON object it prints last.

    gui_probe.py STORE N SCREEN_CONFIG

Signed in with CERTDESK_USER / CERTDESK_PASSWORD, the real ui.main_window.MainWindow is
shown offscreen at 1024×700 and driven through the certificates page's public faces:

- load: from constructing the window to the first screen (a paint of the table's viewport
  once the model covers the rows that fit; timed in a 0 ms timer after that paint event,
  so the paint itself is included) and to all rows in (`CertificatesView.loaded`, with
  `model.total_count() == N`), then to the end of the check of the keys for equal ones
  that follows (`CertificatesView.checking`). The stall is the largest lateness of a
  10 ms repeating timer, from the window's show() until that check ended: what a user
  would feel as a frozen window (the constructor itself runs before anything is shown).
- RSS after loading (VmRSS), beside the RSS of the same process signed in, before the
  window (its floor: interpreter, Qt, the session).
- sort: the first click on each titled column header after the load
  (`setSortIndicator`, as a click does) and a synchronous `viewport().repaint()`.
- search: one keystroke's work, `model.set_filter(text, expiry)` + repaint, from an
  empty search and narrowing (`acm` → `acme`); the debounce is excluded.
- disable: the first 10,000 enabled rows in name order (scattered ids; all of them below
  that), checked, the page's Disable action,
  until the model reads every one of them disabled; then they are enabled again (not
  timed) so that the store is as before.
"""

import cProfile
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={sys.argv[3]}"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer

from app.services import users
from ui.application import create_application
from ui.main_window import MainWindow

WIDTH, HEIGHT = 1024, 700
DISABLE_COUNT = 10_000
SEARCH_REPEAT = 3
ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
FIRST_KEYSTROKES = ("a", "acme", "e3b0c4", "no such certificate")  # e3b0c4: a thumbprint part


def vmrss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def wait_until(condition, timeout_s: float, poll_ms: int = 2) -> bool:
    """Run the event loop until `condition()` holds (checked every `poll_ms`)."""
    if condition():
        return True
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    timer = QTimer(interval=poll_ms)
    timer.timeout.connect(
        lambda: loop.quit() if condition() or time.perf_counter() > deadline else None
    )
    timer.start()
    loop.exec()
    timer.stop()
    return condition()


class Stalls:
    """How long the GUI thread was busy at a stretch: the largest lateness of a precise
    timer ticking every INTERVAL_MS. (A 0 ms timer would keep the GUI thread running
    Python all the time, taking the GIL from the worker at each of its rows: the load
    measured that way took twice as long as the load a user waits for.)"""

    INTERVAL_MS = 10

    def __init__(self):
        self.worst = 0.0
        self.last = 0.0
        self.timer = QTimer(interval=self.INTERVAL_MS, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last - self.INTERVAL_MS / 1000)
        self.last = now

    def stop(self) -> None:
        self.tick()
        self.timer.stop()


class FirstScreen(QObject):
    """When the table's viewport first painted with the rows that fit in the model."""

    def __init__(self, page, n: int):
        super().__init__()
        self.page = page
        self.n = n
        self.at: float | None = None
        self.pending = False

    def rows_that_fit(self) -> int:
        table = self.page.table
        height = max(1, table.verticalHeader().defaultSectionSize())
        return min(self.n, math.ceil(table.viewport().height() / height))

    def eventFilter(self, watched, event) -> bool:
        if (
            self.at is None
            and not self.pending
            and event.type() == QEvent.Type.Paint
            and self.page.model.rowCount() >= self.rows_that_fit()
        ):
            self.pending = True
            QTimer.singleShot(0, self.mark)
        return False

    def mark(self) -> None:
        self.at = time.perf_counter()


def load(session, n: int) -> tuple[MainWindow, dict]:
    loaded: list[float] = []
    stalls = Stalls()
    start = time.perf_counter()
    window = MainWindow(session)
    built = time.perf_counter()
    page = window.certificates
    window.open_page("Certificates")  # the window opens on the Dashboard; this is timed
    page.loaded.connect(lambda: loaded.append(time.perf_counter()))
    first = FirstScreen(page, n)
    page.table.viewport().installEventFilter(first)
    window.resize(WIDTH, HEIGHT)
    window.show()
    stalls.start()
    # Polled at leisure: `loaded` notes its own time.
    done = wait_until(
        lambda: bool(loaded) and page.model.total_count() == n, timeout_s=3600, poll_ms=50
    )
    rss = vmrss_mib()
    # The keys' check for equal ones that follows the load: the window stays responsive
    # through it too, and the sorts are measured after it.
    wait_until(lambda: not page.checking, timeout_s=3600, poll_ms=50)
    checked = time.perf_counter()
    stalls.stop()
    wait_until(lambda: first.at is not None, timeout_s=10)
    page.table.viewport().removeEventFilter(first)
    if not done:
        raise SystemExit(f"the table never held {n} rows (it holds {page.model.total_count()})")
    return window, {
        "construct_s": built - start,
        "first_screen_s": (first.at or math.nan) - start,
        "all_rows_s": loaded[-1] - start,
        "checked_s": checked - start,
        "stall_ms": stalls.worst * 1000,
        "rss_mib": rss,
        "total": page.model.total_count(),
    }


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def sorting(page) -> dict:
    header = page.table.horizontalHeader()
    viewport = page.table.viewport()
    model = page.model
    repaint_ms = 1000 * statistics.median(timed(viewport.repaint) for _ in range(5))
    columns = {}
    for column in range(model.columnCount()):
        title = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        if not title:
            continue  # the check box and actions columns do not sort
        current = header.sortIndicatorSection() == column and header.sortIndicatorOrder() == ASC
        order = DESC if current else ASC

        def click(column=column, order=order):
            header.setSortIndicator(column, order)
            viewport.repaint()

        columns[title] = 1000 * timed(click)
    return {"repaint_ms": repaint_ms, "sort_ms": columns}


def searching(page) -> dict:
    model, viewport = page.model, page.table.viewport()
    expiry = page.expiry.currentData()
    header = page.table.horizontalHeader()
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    if "Name" in titles:
        header.setSortIndicator(titles.index("Name"), ASC)

    def keystroke(before: str, text: str) -> float:
        model.set_filter(before, expiry)
        viewport.repaint()
        return timed(lambda: (model.set_filter(text, expiry), viewport.repaint()))

    figures = {}
    for text in FIRST_KEYSTROKES:
        figures[f'"" → "{text}"'] = 1000 * statistics.median(
            keystroke("", text) for _ in range(SEARCH_REPEAT)
        )
    figures['"acm" → "acme"'] = 1000 * statistics.median(
        keystroke("acm", "acme") for _ in range(SEARCH_REPEAT)
    )
    model.set_filter("", expiry)
    viewport.repaint()
    return {"search_ms": figures}


def enabled_ids(model, count: int) -> list[int]:
    ids = []
    for row in range(model.rowCount()):
        record = model.row_at(row)
        if record.enabled:
            ids.append(record.id)
            if len(ids) == count:
                break
    return ids


def all_enabled(model, ids: list[int], enabled: bool) -> bool:
    return all(model.row_by_id(i).enabled == enabled for i in ids)


class Changes:
    """Whether the model announced a change since last asked: the poll reads 10,000 rows
    only then, and does not take the GIL from the worker doing the operation."""

    def __init__(self, model):
        self.changed = True
        for signal in (model.dataChanged, model.modelReset, model.layoutChanged):
            signal.connect(self.note)

    def note(self, *_args) -> None:
        self.changed = True

    def take(self) -> bool:
        changed, self.changed = self.changed, False
        return changed


def disabling(page, n: int, profiled: "Profiled") -> dict:
    from ui import tasks

    model, actions = page.model, page.actions
    changes = Changes(model)
    ids = enabled_ids(model, DISABLE_COUNT if n > DISABLE_COUNT else n)
    model.set_checked(ids, True)
    wait_until(lambda: actions.disable_checked.isEnabled(), timeout_s=10)

    def disable() -> None:
        actions.disable_checked.trigger()
        wait_until(lambda: changes.take() and all_enabled(model, ids, False), timeout_s=600)

    seconds = timed(lambda: profiled.run("disable", disable))
    done = all_enabled(model, ids, False)
    wait_until(tasks.idle, timeout_s=60)
    actions.enable_checked.trigger()
    wait_until(
        lambda: tasks.idle() and changes.take() and all_enabled(model, ids, True), timeout_s=600
    )
    model.set_checked(ids, False)
    return {"disable_s": seconds if done else math.nan, "disabled": len(ids)}


class Profiled:
    """cProfile around one section when BENCH_PROFILE is `SECTION:PATH` (GUI thread only)."""

    def __init__(self):
        section, _, path = os.environ.get("BENCH_PROFILE", "").partition(":")
        self.section = section.removeprefix("gui-")
        self.path = path

    def run(self, section: str, call):
        if section != self.section:
            return call()
        profiler = cProfile.Profile()
        try:
            return profiler.runcall(call)
        finally:
            profiler.dump_stats(self.path)


def main() -> int:
    store, n = Path(sys.argv[1]), int(sys.argv[2])
    profiled = Profiled()
    app = create_application(["certdesk-bench"])
    session = users.sign_in(store, os.environ["CERTDESK_USER"], os.environ["CERTDESK_PASSWORD"])[0]
    app.processEvents()
    figures = {"rss_floor_mib": vmrss_mib()}
    window, loading = profiled.run("load", lambda: load(session, n))
    figures |= loading
    wait_until(lambda: False, timeout_s=0.2)  # let the first paints settle
    page = window.certificates
    figures |= profiled.run("sort", lambda: sorting(page))
    figures |= profiled.run("search", lambda: searching(page))
    figures |= disabling(page, n, profiled)
    print(json.dumps(figures), flush=True)
    os._exit(0)  # tearing down a million rows would only add to the figure's wall time


if __name__ == "__main__":
    sys.exit(main())
