"""The background runner (ui.tasks) and the dialog helpers (ui.dialogs), on their own."""

import threading
import time

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from app.errors import CertdeskError, ValidationError
from tests.helpers.gui import settle
from ui import tasks
from ui.dialogs import Dialog, confirm_destructive
from ui.store_events import ALL, events
from ui.tasks import Task


def visible_box(widget: QWidget) -> QMessageBox | None:
    return next((b for b in widget.findChildren(QMessageBox) if b.isVisible()), None)


def test_writes_run_one_at_a_time_on_one_thread_reads_on_the_pool(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    lock = threading.Lock()
    running, most, threads = [0], [0], {"write": set(), "read": set()}
    both_reading = threading.Barrier(2, timeout=5)

    def work(kind: str) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            threads[kind].add(threading.current_thread().name)
        if kind == "read":
            both_reading.wait()  # two reads at once, or this times out
        else:
            time.sleep(0.02)
        with lock:
            running[0] -= 1

    for _ in range(4):
        Task(owner, work, "write").writes().start()
    settle(qtbot)
    assert most[0] == 1 and len(threads["write"]) == 1
    assert next(iter(threads["write"])).startswith("certdesk-write")
    for _ in range(2):
        Task(owner, work, "read").start()
    settle(qtbot)
    assert len(threads["read"]) == 2
    assert all(name.startswith("certdesk-read") for name in threads["read"])


def test_parts_given_at_once_reach_the_gui_one_per_pass_of_the_event_loop(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    seen: list[str] = []

    def take(part: int) -> None:
        seen.append(f"part {part}")
        # Runs in the next pass: between this part and the next one, if they are apart.
        QTimer.singleShot(0, lambda: seen.append("pass"))

    def give(chunk) -> str:
        for part in range(4):
            chunk(part)
        return "result"

    Task(owner, give).on_chunk(take).on_done(lambda r: seen.append(r)).start()
    settle(qtbot)
    qtbot.waitUntil(lambda: seen.count("pass") == 4, timeout=5000)
    parts_and_result = [s for s in seen if s != "pass"]
    assert parts_and_result == ["part 0", "part 1", "part 2", "part 3", "result"]
    assert all(seen[seen.index(f"part {n}") + 1] == "pass" for n in range(3))


def test_a_failure_nobody_handles_is_shown_in_a_box_over_the_owner(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    owner.show()
    settled = []

    def refuse():
        raise CertdeskError("The store is busy; try again.")

    Task(owner, refuse).always(lambda: settled.append(True)).start()
    settle(qtbot)
    box = visible_box(owner)
    assert box.text() == "The store is busy; try again." and settled == [True]
    box.close()

    def crash():
        raise KeyError("x")

    Task(owner, crash).start()
    settle(qtbot)
    assert visible_box(owner).text() == "Unexpected error: 'x'"


def test_on_error_takes_the_kinds_it_names_and_leaves_the_rest_to_the_box(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    owner.show()
    handled = []

    def fail(error):
        raise error

    for error in (ValidationError("alias", "taken"), CertdeskError("other")):
        Task(owner, fail, error).on_error(handled.append, ValidationError).start()
        settle(qtbot)
    assert [type(e) for e in handled] == [ValidationError]
    assert visible_box(owner).text() == "other"


def test_changes_are_announced_even_when_the_owner_is_gone(qtbot):
    owner = QObject()
    release = threading.Event()
    heard, done = [], []
    events.certificates_changed.connect(heard.append)
    events.groups_changed.connect(lambda: heard.append("groups"))
    try:
        (
            Task(owner, lambda: release.wait(5) and [3, 1])
            .writes()
            .changes(certificates=lambda ids: ids, groups=True)
            .on_done(done.append)
            .start()
        )
        shiboken6.delete(owner)  # the window closed while it wrote
        release.set()
        settle(qtbot)
        assert heard == [(3, 1), "groups"] and done == []
        Task(QObject(), lambda: None).changes(certificates=ALL).start()
        settle(qtbot)
        assert heard[-1] is ALL
    finally:
        events.certificates_changed.disconnect(heard.append)
        events.groups_changed.disconnect()


def test_busy_shows_only_after_the_delay_and_goes_when_done(qtbot):
    window = QMainWindow()
    window.setCentralWidget(QLabel("page"))
    qtbot.addWidget(window)
    window.show()
    release = threading.Event()
    Task(window, release.wait, 5).busy(window.centralWidget(), "Working…").start()
    qtbot.wait(tasks.BUSY_DELAY_MS // 3)
    assert window.cursor().shape() != Qt.CursorShape.BusyCursor
    assert window.statusBar().currentMessage() == ""
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "Working…", timeout=2000)
    assert window.cursor().shape() == Qt.CursorShape.BusyCursor
    release.set()
    settle(qtbot)
    assert window.cursor().shape() != Qt.CursorShape.BusyCursor
    assert window.statusBar().currentMessage() == ""


def test_a_quick_task_shows_no_busy_cursor(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    Task(window, lambda: None).busy(window, "Quick…").start()
    settle(qtbot)
    qtbot.wait(tasks.BUSY_DELAY_MS + 100)
    assert window.cursor().shape() != Qt.CursorShape.BusyCursor
    assert window.statusBar().currentMessage() == ""


class Remembered(Dialog):
    pass


def test_a_dialog_class_keeps_its_geometry(qtbot):
    first = Remembered()
    qtbot.addWidget(first)
    first.show()
    first.resize(420, 310)
    first.move(60, 70)
    first.accept()  # hidden, not closed: still saved
    second = Remembered()
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (420, 310)
    assert (second.x(), second.y()) == (60, 70)


def test_restored_geometry_is_clamped_to_the_screen(qtbot):
    area = QGuiApplication.primaryScreen().availableGeometry()
    first = Remembered()
    qtbot.addWidget(first)
    first.show()
    first.resize(area.width() + 500, area.height() + 400)
    first.move(area.right() + 300, area.bottom() + 300)  # another screen, now unplugged
    first.close()
    second = Remembered()
    qtbot.addWidget(second)
    second.show()
    assert area.contains(second.frameGeometry())


def test_confirm_destructive_keeps_things_unless_the_action_is_clicked(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    confirmed = []
    box = confirm_destructive(
        parent, "Delete", "Delete 3 certificates?", "Cannot be undone.", "Delete",
        lambda: confirmed.append(True),
    )  # fmt: skip
    assert box.isVisible() and box.windowModality() != Qt.WindowModality.NonModal
    assert box.defaultButton().text() == "Cancel" and box.escapeButton().text() == "Cancel"
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert not box.isVisible() and confirmed == []
    box = confirm_destructive(
        parent, "Delete", "Delete it?", "", "Delete", lambda: confirmed.append(True)
    )
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default: Cancel
    assert confirmed == []
    box = confirm_destructive(
        parent, "Delete", "Delete it?", "", "Delete", lambda: confirmed.append(True)
    )
    next(b for b in box.buttons() if b.text() == "Delete").click()
    assert confirmed == [True]


def test_a_closed_main_window_hears_no_more_changes(qtbot, session, store_dir):
    from app.services import users
    from tests.helpers.stores import PASSWORD
    from ui.main_window import MainWindow

    first = MainWindow(session)
    qtbot.addWidget(first)
    first.show()
    settle(qtbot)
    first.close()  # closes its session
    again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    second = MainWindow(again)
    qtbot.addWidget(second)
    second.show()
    settle(qtbot)
    loads = {first: [], second: []}
    for window, seen in loads.items():
        window.certificates.loaded.connect(lambda seen=seen: seen.append(True))
    events.announce(certificates=ALL, groups=True, requests=True)
    settle(qtbot)
    assert loads == {first: [], second: [True]}  # only the open window read again
    second.close()
