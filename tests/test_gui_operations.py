"""Quick actions, the checkbox column, the selection toolbar, the group dialog and the
groups view, driven through the widgets; every test checks the store afterwards."""

import subprocess
from pathlib import Path

import pytest

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.services import certificate_groups, certificate_import, users
from models import (
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    PrivateKey,
)
from models.permissions import AUDITOR
from tests.helpers.gui import (
    answer,
    cert_files,
    menu_action,
    on_modal,
    open_menu,
    settle,
    wait_rows,
)
from ui.certificates_model import CertificatesModel as M
from ui.group_dialog import GroupPicker
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
        "Sign File…",
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
    said = []
    window.certificates.actions.message.connect(said.append)
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
        assert said[-1] == f"Saved “Charlie” to {out} ({fmt})."  # quoted as names are
    assert [Path(p).name for p in proposed] == ["Charlie.cer", "Charlie.cer"]


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
    with on_modal(
        lambda box: (said.append(box.text()), box.button(QMessageBox.StandardButton.Ok).click())
    ):
        menu_action(open_menu(qtbot, window, 2, "actions-button"), "Download (.cer)…").trigger()
    assert said == [f"{taken}: exists; choose a new file name"]
    assert taken.read_bytes() == b"the certificate the CA sent"
    # Asked again, in the refused file's folder with a free name; never asked whether
    # to replace a file.
    assert asked == [
        (str(Path.home() / "Charlie.cer"), QFileDialog.Option.DontConfirmOverwrite),
        (str(tmp_path / "Charlie (2).cer"), QFileDialog.Option.DontConfirmOverwrite),
    ]
    assert fresh.read_bytes() == CertificateDer.get_by_id(stored("Charlie").id).der


@pytest.fixture
def keyed_row(qtbot, window, tmp_path, certs, session) -> int:
    """A sixth certificate, with its private key; returns its row."""
    cert, key = certs.make_cert("Keyed")
    certificate_import.import_files(
        session, [certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))]
    )
    window.certificates.reload()
    wait_rows(qtbot, window, 6)
    return next(i for i in range(6) if window.certificates.model.row_at(i).alias == "Keyed")


def test_delete_from_menu_asks_and_cancel_keeps_it(qtbot, window, keyed_row):
    actions = window.certificates.actions
    menu_action(open_menu(qtbot, window, keyed_row, "right-click"), "Delete…").trigger()
    box = actions.confirmation
    assert box.defaultButton().text() == "Cancel"
    assert "private key is destroyed" in box.informativeText()
    assert "cannot be undone" in box.informativeText()
    answer(box, "Cancel")
    settle(qtbot)
    assert stored("Keyed") is not None


def test_delete_from_menu_destroys_the_certificate_and_its_key(qtbot, window, keyed_row):
    menu_action(open_menu(qtbot, window, keyed_row, "right-click"), "Delete…").trigger()
    answer(window.certificates.actions.confirmation, "Delete")
    qtbot.waitUntil(lambda: stored("Keyed") is None)
    wait_idle(qtbot, window)
    assert PrivateKey.select().count() == 0
    assert window.certificates.model.rowCount() == 5


def header_checkbox(view) -> QPoint:
    header = view.table.horizontalHeader()
    return QPoint(header.sectionViewportPosition(M.COL_CHECK) + 10, header.height() // 2)


def check_visible_rows(qtbot, view) -> None:
    """Filter to Alpha, Charlie and Delta, click the header checkbox, clear the filter."""
    view.search.setText("l")  # Alpha, Charlie, Delta
    view._apply_filter()
    assert view.model.rowCount() == 3
    header = view.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header_checkbox(view))
    view.search.clear()
    view._apply_filter()


def test_header_checkbox_checks_only_the_visible_rows(qtbot, window):
    view = window.certificates
    view.search.setText("l")  # Alpha, Charlie, Delta
    view._apply_filter()
    assert view.model.rowCount() == 3
    header = view.table.horizontalHeader()
    assert not view.bulk_bar.isEnabled()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header_checkbox(view))
    assert header.check_state == Qt.CheckState.Checked
    assert view.bulk_bar.isEnabled() and view.checked_label.text() == "3 selected"
    view.search.clear()
    view._apply_filter()
    assert header.check_state == Qt.CheckState.PartiallyChecked


def test_the_selection_toolbar_disables_the_checked_rows(qtbot, window):
    view = window.certificates
    check_visible_rows(qtbot, view)
    view.actions.disable_checked.trigger()
    qtbot.waitUntil(lambda: not stored("Delta").enabled)
    wait_idle(qtbot, window)
    disabled = Certificate.select().where(Certificate.enabled == False)  # noqa: E712
    assert [c.alias for c in disabled] == ["Alpha", "Charlie", "Delta"]


def test_header_checkbox_partly_checked_checks_all_then_none(qtbot, window):
    view = window.certificates
    check_visible_rows(qtbot, view)
    header = view.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header_checkbox(view))
    assert view.checked_label.text() == "5 selected"  # all five now
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=header_checkbox(view))
    assert not view.bulk_bar.isEnabled() and view.model.checked_ids() == []


def test_group_dialog_adds_to_a_group_and_creates_one(qtbot, window, session):
    certificate_groups.create_group(session, "Release")
    view = window.certificates
    view.model.set_checked([view.model.row_at(i).id for i in (0, 2)], True)  # Alpha, Charlie

    def choose(dialog: GroupPicker) -> None:
        settle(qtbot)  # the groups are read off the GUI thread
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


def test_group_dialog_removes_from_the_groups_the_rows_are_in(qtbot, window, session):
    certificate_groups.add_to_groups(session, ["Alpha", "Charlie"], ["Release", "Nightly"])
    view = window.certificates
    view.reload()
    qtbot.waitUntil(lambda: view.model.row_at(0).groups == ("Nightly", "Release"))
    view.model.set_checked([view.model.row_at(i).id for i in (0, 2)], True)  # Alpha, Charlie

    def remove(dialog: GroupPicker) -> None:
        settle(qtbot)  # the groups are read off the GUI thread
        assert dialog.names() == ["Nightly", "Release"]
        dialog.set_checked("Nightly")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    view.actions.remove_groups_checked.trigger()
    remove(view.actions.picker)
    qtbot.waitUntil(lambda: CertificateGroupMember.select().count() == 2)
    wait_idle(qtbot, window)
    assert view.model.row_at(2).groups == ("Release",)


def focus_row(window, row: int):
    table = window.certificates.table
    table.setFocus()
    table.setCurrentIndex(window.certificates.model.index(row, M.COL_NAME))
    return table


def test_space_checks_and_unchecks_the_current_row(qtbot, window):
    view = window.certificates
    table = focus_row(window, 3)
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert [view.model.row_by_id(i).alias for i in view.model.checked_ids()] == ["Delta"]
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert view.model.checked_ids() == []


def test_delete_with_nothing_checked_deletes_the_current_row(qtbot, window):
    table = focus_row(window, 3)
    qtbot.keyClick(table, Qt.Key.Key_Delete)  # nothing checked: deletes the current row
    answer(window.certificates.actions.confirmation, "Delete")
    qtbot.waitUntil(lambda: stored("Delta") is None)
    wait_idle(qtbot, window)


def test_ctrl_a_checks_every_row_and_delete_asks_for_them_all(qtbot, window):
    view = window.certificates
    table = focus_row(window, 3)
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(view.model.checked_ids()) == 5
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    box = view.actions.confirmation
    assert box.text() == "Delete 5 certificates?"
    answer(box, "Cancel")
    settle(qtbot)
    assert Certificate.select().count() == 5


@pytest.fixture
def long_window(qtbot, session, tmp_path, certs):
    """120 rows, row 80 scrolled to and selected."""
    names = [f"Row {i:03d}" for i in range(120)]
    certificate_import.import_files(session, cert_files(certs, tmp_path, names))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 120)
    table = win.certificates.table
    table.scrollTo(win.certificates.model.index(80, M.COL_NAME))
    table.selectRow(80)
    return win


def test_refresh_after_disable_keeps_selection_and_scroll(qtbot, long_window):
    win = long_window
    table = win.certificates.table
    scroll = table.verticalScrollBar().value()
    assert scroll > 0
    win.certificates.actions.set_enabled([win.certificates.model.row_at(80).id], False)
    qtbot.waitUntil(lambda: not stored("Row 080").enabled)
    wait_idle(qtbot, win)
    assert table.verticalScrollBar().value() == scroll
    assert [i.row() for i in table.selectionModel().selectedRows()] == [80]
    assert not win.certificates.model.row_at(80).enabled


def test_refresh_after_a_delete_above_keeps_the_selected_certificate(qtbot, long_window):
    win = long_window
    table = win.certificates.table
    answer(win.certificates.actions.delete([win.certificates.model.row_at(10).id]), "Delete")
    qtbot.waitUntil(lambda: stored("Row 010") is None)
    wait_idle(qtbot, win)
    assert [i.row() for i in table.selectionModel().selectedRows()] == [79]
    assert win.certificates.model.row_at(79).alias == "Row 080"


def test_actions_the_user_lacks_are_disabled_saying_what_the_role_may_not_do(
    qtbot, session, store_dir
):
    users.add_user(session, "audrey", "auditor password", AUDITOR)
    session.close()
    auditor, _ = users.sign_in(store_dir, "audrey", password="auditor password")
    win = MainWindow(auditor)
    qtbot.addWidget(win)
    win.show()
    actions = win.certificates.actions
    for action, words in (
        (actions.enable_checked, "enable or disable certificates"),
        (actions.delete_checked, "delete certificates"),
        (actions.add_groups_checked, "add certificates to groups"),
        (actions.remove_groups_checked, "remove certificates from groups"),
    ):
        assert not action.isEnabled()
        assert action.toolTip() == f"Your role (Auditor) may not {words}."
    assert not win.groups.new_action.isEnabled()
    assert win.groups.new_action.toolTip() == (
        "Your role (Auditor) may not create, edit or delete certificate groups."
    )


def test_groups_view_creates_renames_and_deletes(qtbot, window, session):
    view = window.groups
    view.new_action.trigger()
    view.editor.name.setText("Signing")
    view.editor.accept()
    settle(qtbot)
    assert [g.name for g in certificate_groups.list_groups(session)] == ["Signing"]
    assert view.selected_name() == "Signing"
    view.edit_action.trigger()  # the new group is selected
    view.editor.name.setText("Code Signing")
    view.editor.accept()
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
    assert view.model.rowCount() == 0 and view.table.empty_hint == view.empty_hint
    qtbot.waitUntil(lambda: window.certificates.model.row_at(0).groups == ())
