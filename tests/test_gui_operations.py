"""Quick actions, the checkbox column, the selection toolbar, the group dialog and the
groups view, driven through the widgets; every test checks the store afterwards."""

import subprocess

import pytest

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

from app.services import certificate_groups, certificate_import, users
from models import (
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    PrivateKey,
)
from models.permissions import AUDITOR
from tests.test_gui import cert_files, settle, wait_rows
from ui.certificates_model import CertificatesModel as M
from ui.group_dialog import GroupDialog
from ui.main_window import MainWindow

NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    certificate_import.import_files(session, cert_files(certs, tmp_path, NAMES))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, len(NAMES))
    return win


def stored(alias: str) -> Certificate | None:
    return Certificate.get_or_none(Certificate.alias == alias)


def on_modal(act) -> None:
    """Act on the next modal dialog once it is open (its exec() is waiting). Only the
    save dialogs still run one: they ask again on the same name until it can be used."""

    def handle() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, handle)
        else:
            act(dialog)

    QTimer.singleShot(0, handle)


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


def wait_idle(qtbot, win) -> None:
    """The operation is done and the rows it changed are read again."""
    settle(qtbot)
    assert not win.certificates.actions.busy


@pytest.mark.parametrize("how", ["right-click", "actions-button"])
def test_menu_disables_then_enables(qtbot, window, how):
    menu = open_menu(qtbot, window, 1, how)
    assert [a.text() for a in menu.actions() if a.text()] == [
        "Properties…",
        "Disable",
        "Download (.cer)…",
        "CSR / Renew…",
        "Add to Groups…",
        "Remove from Groups…",
        "Delete…",
    ]
    renew = menu_action(menu, "CSR / Renew…")
    assert renew.isEnabled()
    menu_action(menu, "Disable").trigger()
    qtbot.waitUntil(lambda: not stored("Bravo").enabled)
    wait_idle(qtbot, window)
    assert not window.certificates.model.row_at(1).enabled  # the row was refreshed
    menu = open_menu(qtbot, window, 1, how)
    menu_action(menu, "Enable").trigger()
    qtbot.waitUntil(lambda: stored("Bravo").enabled)


def test_download_writes_der_or_pem_that_openssl_reads(qtbot, window, tmp_path, monkeypatch):
    proposed = []
    for chosen, fmt in (
        ("DER certificate (*.cer)", "DER"),
        ("PEM certificate (*.pem *.crt)", "PEM"),
    ):
        out = tmp_path / f"out-{fmt}.cer"

        def save_dialog(parent, title, name, filters, out=out, chosen=chosen, **_options):
            proposed.append(name)
            return str(out), chosen

        monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
        menu_action(open_menu(qtbot, window, 2, "actions-button"), "Download (.cer)…").trigger()
        text = subprocess.run(
            ["openssl", "x509", "-inform", fmt, "-in", str(out), "-noout", "-subject"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "CN=Charlie" in text.replace(" = ", "=")
    assert proposed == ["Charlie.cer", "Charlie.cer"]


def test_download_refuses_an_existing_file_and_asks_again(qtbot, window, tmp_path, monkeypatch):
    taken = tmp_path / "Charlie.cer"
    taken.write_bytes(b"the certificate the CA sent")
    fresh = tmp_path / "fresh.cer"
    answers = iter([taken, fresh])
    asked = []

    def save_dialog(parent, title, name, filters, selectedFilter="", options=None):
        asked.append((name, options))
        return str(next(answers)), "DER certificate (*.cer)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    said = []
    on_modal(
        lambda box: (said.append(box.text()), box.button(QMessageBox.StandardButton.Ok).click())
    )
    menu_action(open_menu(qtbot, window, 2, "actions-button"), "Download (.cer)…").trigger()
    assert said == [f"{taken}: exists; choose a new file name"]
    assert taken.read_bytes() == b"the certificate the CA sent"
    # Asked again, on the refused name; never asked whether to replace a file.
    assert asked == [
        ("Charlie.cer", QFileDialog.Option.DontConfirmOverwrite),
        (str(taken), QFileDialog.Option.DontConfirmOverwrite),
    ]
    assert fresh.read_bytes() == CertificateDer.get_by_id(stored("Charlie").id).der


def test_delete_from_menu_asks_then_destroys(qtbot, window, tmp_path, certs, session):
    cert, key = certs.make_cert("Keyed")
    certificate_import.import_files(
        session, [certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))]
    )
    window.certificates.reload()
    wait_rows(qtbot, window, 6)
    row = next(i for i in range(6) if window.certificates.model.row_at(i).alias == "Keyed")
    actions = window.certificates.actions
    menu_action(open_menu(qtbot, window, row, "right-click"), "Delete…").trigger()
    box = actions.confirmation
    assert box.defaultButton().text() == "Cancel"
    assert "private key is destroyed" in box.informativeText()
    assert "cannot be undone" in box.informativeText()
    answer(box, "Cancel")
    settle(qtbot)
    assert stored("Keyed") is not None
    menu_action(open_menu(qtbot, window, row, "right-click"), "Delete…").trigger()
    answer(actions.confirmation, "Delete")
    qtbot.waitUntil(lambda: stored("Keyed") is None)
    wait_idle(qtbot, window)
    assert PrivateKey.select().count() == 0
    assert window.certificates.model.rowCount() == 5


def test_header_checkbox_checks_visible_rows_and_toolbar_acts(qtbot, window):
    view = window.certificates
    view.search.setText("l")  # Alpha, Charlie, Delta
    view._apply_filter()
    assert view.model.rowCount() == 3
    header = view.table.horizontalHeader()
    assert not view.selection_bar.isVisible()
    box = QPoint(header.sectionViewportPosition(M.COL_CHECK) + 10, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=box)
    assert header.check_state == Qt.CheckState.Checked
    assert view.selection_bar.isVisible() and view.checked_label.text() == "3 selected"
    view.search.clear()
    view._apply_filter()
    assert header.check_state == Qt.CheckState.PartiallyChecked
    view.actions.disable_checked.trigger()
    qtbot.waitUntil(lambda: not stored("Delta").enabled)
    wait_idle(qtbot, window)
    disabled = Certificate.select().where(Certificate.enabled == False)  # noqa: E712
    assert [c.alias for c in disabled] == ["Alpha", "Charlie", "Delta"]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=box)  # all five now
    assert view.checked_label.text() == "5 selected"
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=box)
    assert not view.selection_bar.isVisible()


def test_group_dialog_adds_creates_and_removes(qtbot, window, session):
    certificate_groups.create_group(session, "Release")
    view = window.certificates
    view.model.set_checked([view.model.row_at(i).id for i in (0, 2)], True)  # Alpha, Charlie

    def choose(dialog: GroupDialog) -> None:
        dialog.set_checked("Release")
        qtbot.keyClicks(dialog.new_name, "Nightly")
        qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
        assert dialog.chosen() == ["Release", "Nightly"]
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    view.actions.add_groups_checked.trigger()
    choose(view.actions.picker)
    qtbot.waitUntil(lambda: CertificateGroupMember.select().count() == 4)
    wait_idle(qtbot, window)
    assert {g.name for g in CertificateGroup.select()} == {"Release", "Nightly"}
    assert view.model.row_at(0).groups == ("Nightly", "Release")
    qtbot.waitUntil(lambda: window.groups.model.rowCount() == 2)

    def remove(dialog: GroupDialog) -> None:
        assert [dialog.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(2)] == [
            "Nightly",
            "Release",
        ]
        dialog.set_checked("Nightly")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    view.actions.remove_groups_checked.trigger()
    remove(view.actions.picker)
    qtbot.waitUntil(lambda: CertificateGroupMember.select().count() == 2)
    wait_idle(qtbot, window)
    assert view.model.row_at(2).groups == ("Release",)


def test_keyboard_space_ctrl_a_and_delete(qtbot, window):
    view = window.certificates
    table = view.table
    table.setFocus()
    table.setCurrentIndex(view.model.index(3, M.COL_NAME))
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert [view.model.row_by_id(i).alias for i in view.model.checked_ids()] == ["Delta"]
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert view.model.checked_ids() == []
    qtbot.keyClick(table, Qt.Key.Key_Delete)  # nothing checked: deletes the current row
    answer(view.actions.confirmation, "Delete")
    qtbot.waitUntil(lambda: stored("Delta") is None)
    wait_idle(qtbot, window)
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(view.model.checked_ids()) == 4
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    box = view.actions.confirmation
    assert box.text() == "Delete 4 certificates?"
    answer(box, "Cancel")
    settle(qtbot)
    assert Certificate.select().count() == 4


def test_refresh_keeps_selection_and_scroll(qtbot, session, tmp_path, certs):
    names = [f"Row {i:03d}" for i in range(120)]
    certificate_import.import_files(session, cert_files(certs, tmp_path, names))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 120)
    table = win.certificates.table
    table.scrollTo(win.certificates.model.index(80, M.COL_NAME))
    table.selectRow(80)
    scroll = table.verticalScrollBar().value()
    assert scroll > 0
    win.certificates.actions.set_enabled([win.certificates.model.row_at(80).id], False)
    qtbot.waitUntil(lambda: not stored("Row 080").enabled)
    wait_idle(qtbot, win)
    assert table.verticalScrollBar().value() == scroll
    assert [i.row() for i in table.selectionModel().selectedRows()] == [80]
    assert not win.certificates.model.row_at(80).enabled
    answer(win.certificates.actions.delete([win.certificates.model.row_at(10).id]), "Delete")
    qtbot.waitUntil(lambda: stored("Row 010") is None)
    wait_idle(qtbot, win)
    assert [i.row() for i in table.selectionModel().selectedRows()] == [79]
    assert win.certificates.model.row_at(79).alias == "Row 080"


def test_actions_the_user_lacks_are_disabled_with_the_permission(qtbot, session, store_dir):
    users.add_user(session, "audrey", "auditor password", AUDITOR)
    session.close()
    auditor, _ = users.sign_in(store_dir, "audrey", password="auditor password")
    win = MainWindow(auditor)
    qtbot.addWidget(win)
    win.show()
    actions = win.certificates.actions
    for action, permission in (
        (actions.enable_checked, "certificates.enable_disable"),
        (actions.delete_checked, "certificates.delete"),
        (actions.add_groups_checked, "groups.add_certificates"),
        (actions.remove_groups_checked, "groups.remove_certificates"),
    ):
        assert not action.isEnabled() and permission in action.toolTip()
    assert not win.groups.new_action.isEnabled()
    assert "groups.manage" in win.groups.new_action.toolTip()


def test_groups_view_creates_renames_and_deletes(qtbot, window, session, monkeypatch):
    view = window.groups
    answers = iter([("Signing", True), ("Code Signing", True)])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: next(answers))
    view.new_action.trigger()
    settle(qtbot)
    assert [g.name for g in certificate_groups.list_groups(session)] == ["Signing"]
    assert view.selected_name() == "Signing"
    view.rename_action.trigger()  # the new group is selected
    settle(qtbot)
    assert [g.name for g in certificate_groups.list_groups(session)] == ["Code Signing"]
    certificate_groups.add_to_groups(session, ["Alpha"], ["Code Signing"])
    view.reload()
    settle(qtbot)
    view.table.selectRow(0)
    assert view.model.index(0, 1).data() == "1"
    view.delete_action.trigger()
    box = view.confirmation
    assert "holds 1 certificate" in box.text()
    assert box.defaultButton().text() == "Cancel"
    answer(box, "Delete Group")
    settle(qtbot)
    assert certificate_groups.list_groups(session) == [] and stored("Alpha") is not None
    assert view.model.rowCount() == 0 and not view.empty.isHidden()
    qtbot.waitUntil(lambda: window.certificates.model.row_at(0).groups == ())
