"""Driving the main window offscreen: rows, menus, and the modal dialogs they open."""

import time
from contextlib import contextmanager

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from ui import tasks
from ui.certificates_model import CertificatesModel as M

MODAL_TIMEOUT_S = 10.0


def settle(qtbot) -> None:
    """Until every task started has delivered its result, and those it started theirs
    (a write announces what it changed; the pages then re-read it)."""
    qtbot.waitUntil(tasks.idle, timeout=10_000)


def wait_rows(qtbot, win, count):
    """Show the Certificates page (the window opens on the Dashboard) and wait until it
    shows `count` rows and no read is under way (a streamed read shows its rows before
    it has finished)."""
    page = win.certificates
    win.open_page("Certificates")
    qtbot.waitUntil(lambda: not page.loading and page.model.rowCount() == count, timeout=10_000)


def cert_files(certs, folder, names):
    return [str(certs.write(folder, f"{n}.pem", certs.pem(certs.make_cert(n)[0]))) for n in names]


@contextmanager
def on_modal(act, timeout: float = MODAL_TIMEOUT_S):
    """Act on the next modal dialog once it is open (its exec() is waiting) while the
    with-block runs; after the block, wait for it until `timeout` seconds from the start.
    Then the polling stops, so that it never acts on a dialog of a later test, and the
    test fails if no modal dialog came."""
    deadline = time.monotonic() + timeout
    state = {"acted": False, "stopped": False}

    def handle() -> None:
        if state["stopped"]:
            return
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            state["acted"] = True
            act(dialog)
        elif time.monotonic() < deadline:
            QTimer.singleShot(10, handle)
        else:
            state["stopped"] = True

    QTimer.singleShot(0, handle)
    try:
        yield
        while not state["acted"] and not state["stopped"] and time.monotonic() < deadline:
            QTest.qWait(10)
    finally:
        state["stopped"] = True
    assert state["acted"], f"no modal dialog opened within {timeout} s"


def click_button(text: str):
    def act(box: QMessageBox) -> None:
        next(b for b in box.buttons() if b.text() == text).click()

    return act


def answer(box: QMessageBox, text: str) -> None:
    """Click a button of a box that was opened with open()."""
    assert box is not None and box.isVisible()
    click_button(text)(box)


def cell_center(win, row: int, column: int) -> QPoint:
    table = win.certificates.table
    return table.visualRect(table.model().index(row, column)).center()


def open_menu(qtbot, win, row: int, how: str):
    table = win.certificates.table
    if how == "right-click":
        # What the platform sends for a right-click: the press, then a context-menu event.
        where = cell_center(win, row, M.COL_NAME)
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.RightButton, pos=where)
        event = QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, where, table.viewport().mapToGlobal(where)
        )
        QApplication.sendEvent(table.viewport(), event)
    else:
        qtbot.mouseClick(
            table.viewport(), Qt.MouseButton.LeftButton, pos=cell_center(win, row, M.COL_ACTIONS)
        )
    actions = win.certificates.actions
    qtbot.waitUntil(lambda: actions.menu is not None and actions.menu.isVisible())
    return actions.menu


def menu_action(menu, text: str):
    return next(a for a in menu.actions() if a.text() == text)
