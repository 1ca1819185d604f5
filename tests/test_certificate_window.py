"""The certificate window, driven through its widgets; the store is checked afterwards."""

import pytest

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QToolButton

from app.crypto.pins import pin_matches
from app.services import certificates, groups, users
from models import Certificate
from models.permissions import AUDITOR, SIGNER
from tests.helpers.gui import cell_center, menu_action, on_modal, open_menu, wait_rows
from ui.certificates_model import CertificatesModel as M
from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    certificates.import_files(
        session, [certs.openssl_rich_cert(tmp_path, "Rich"), certs.openssl_v1_cert(tmp_path)]
    )
    users.add_user(session, "alice", "a good long password", SIGNER)
    groups.add_to_groups(session, ["Rich"], ["Release"])
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 2)
    return win


def row_index(win, alias: str) -> int:
    model = win.certificates.model
    return next(i for i in range(model.rowCount()) if model.row_at(i).alias == alias)


def open_window(win, alias: str):
    return win.certificates.open_certificate(
        win.certificates.model.row_at(row_index(win, alias)).id
    )


def test_every_general_field_is_saved_and_shown_again(qtbot, window):
    detail = open_window(window, "Rich")
    assert not detail.save_button.isEnabled()
    detail.alias.selectAll()
    qtbot.keyClicks(detail.alias, "Rich Renamed")
    detail.owner.setCurrentIndex(detail.owner.findText("alice"))
    qtbot.keyClicks(detail.description, "Signs release builds.")
    qtbot.mouseClick(detail.ask_reason, Qt.MouseButton.LeftButton)
    assert not detail.pin_box.isVisible()
    qtbot.mouseClick(detail.ask_pin, Qt.MouseButton.LeftButton)
    assert detail.pin_box.isVisible()
    qtbot.keyClicks(detail.pin, "8642")
    qtbot.keyClicks(detail.pin_confirm, "8642")
    assert detail.save_button.isEnabled()
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)

    stored = Certificate.get(Certificate.alias == "Rich Renamed")
    assert stored.owner.name == "alice" and stored.ask_reason
    assert stored.description == "Signs release builds."
    assert pin_matches("8642", stored.pin_hash)
    assert window.certificates.model.row_at(row_index(window, "Rich Renamed")).has_pin
    detail.close()
    assert not window.certificates.windows

    again = open_window(window, "Rich Renamed")
    assert again.alias.text() == "Rich Renamed" and again.owner.currentText() == "alice"
    assert again.description.toPlainText() == "Signs release builds."
    assert again.ask_reason.isChecked() and again.ask_pin.isChecked()
    assert again.pin.text() == "" and "A PIN is set" in again.pin_note.text()
    qtbot.mouseClick(again.ask_pin, Qt.MouseButton.LeftButton)  # stop asking: clears the PIN
    qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    assert Certificate.get(Certificate.alias == "Rich Renamed").pin_hash is None


def test_wrong_pin_confirmation_is_refused_beside_the_field(qtbot, window):
    detail = open_window(window, "Rich")
    qtbot.mouseClick(detail.ask_pin, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(detail.pin, "1357")
    qtbot.keyClicks(detail.pin_confirm, "1358")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert detail.pin_error.isVisible() and "differ" in detail.pin_error.text()
    assert Certificate.get(Certificate.alias == "Rich").pin_hash is None
    detail.pin.setText("12")
    detail.pin_confirm.setText("12")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert detail.pin_error.text() == "At least 4 characters."
    detail.alias.setText("Legacy Version One")
    detail.pin.setText("1234")
    detail.pin_confirm.setText("1234")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert detail.alias_error.isVisible() and "already in use" in detail.alias_error.text()
    assert Certificate.get(Certificate.alias == "Rich").pin_hash is None


def test_closing_with_unsaved_changes_asks(qtbot, window):
    detail = open_window(window, "Rich")
    qtbot.keyClicks(detail.description, "draft")
    asked = []

    def discard(box: QMessageBox) -> None:
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Discard).click()

    with on_modal(discard):
        detail.close()
    assert asked == ["Save the changes to “Rich”?"]
    assert Certificate.get(Certificate.alias == "Rich").description == ""


def test_opened_by_double_click_enter_and_properties(qtbot, window):
    table = window.certificates.table
    row = row_index(window, "Rich")
    where = cell_center(window, row, M.COL_NAME)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert len(window.certificates.windows) == 1
    first = next(iter(window.certificates.windows.values()))
    table.setCurrentIndex(window.certificates.model.index(row, M.COL_NAME))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert list(window.certificates.windows.values()) == [first]  # raised, not duplicated
    other = row_index(window, "Legacy Version One")
    menu_action(open_menu(qtbot, window, other, "actions-button"), "Properties…").trigger()
    assert len(window.certificates.windows) == 2


def test_associates_details_and_attributes(qtbot, window):
    detail = open_window(window, "Rich")
    groups_list = detail.group_list
    assert [groups_list.item(i).text() for i in range(groups_list.count())] == ["Release"]
    groups_list.itemActivated.emit(groups_list.item(0))
    assert window.pages.currentWidget() is window.groups
    assert window.groups.selected_name() == "Release"

    detail.tabs.setCurrentIndex(2)
    detail.findChild(QToolButton, "copy_sha256").click()
    assert QGuiApplication.clipboard().text() == detail.detail.details.sha256
    names = [
        detail.extensions.topLevelItem(i).text(0)
        for i in range(detail.extensions.topLevelItemCount())
    ]
    assert "X509v3 Subject Alternative Name" in names and "1.2.3.4.5.6.7" in names
    san = names.index("X509v3 Subject Alternative Name")
    detail.extensions.setCurrentItem(detail.extensions.topLevelItem(san))
    assert "IP Address:10.20.30.40" in detail.extension_value.toPlainText()
    detail.copy_pem.click()
    assert QGuiApplication.clipboard().text().startswith("-----BEGIN CERTIFICATE-----")

    v1 = open_window(window, "Legacy Version One")
    assert v1.detail.details.version == "1 (0x0)" and v1.detail.extensions == ()
    assert v1.extensions.topLevelItem(0).text(0).startswith("No extensions")


def test_read_only_without_the_edit_permission(qtbot, session, store_dir, tmp_path, certs):
    certificates.import_files(session, [certs.openssl_v1_cert(tmp_path)])
    users.add_user(session, "audrey", "auditor password", AUDITOR)
    session.close()
    auditor, _ = users.sign_in(store_dir, "audrey", password="auditor password")
    win = MainWindow(auditor)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 1)
    detail = open_window(win, "Legacy Version One")
    assert not detail.alias.isEnabled() and detail.description.isReadOnly()
    assert not detail.save_button.isEnabled()
    assert "certificates.edit" in detail.save_button.toolTip()


def test_a_window_saves_to_its_certificate_even_after_a_rename_elsewhere(qtbot, window, session):
    from app.services.certificate_edits import GeneralChanges, edit_certificate

    detail = open_window(window, "Rich")
    edit_certificate(session, "Rich", GeneralChanges(alias="Rich Elsewhere"))
    edit_certificate(session, "Legacy Version One", GeneralChanges(alias="Rich"))
    qtbot.keyClicks(detail.description, "meant for the first one")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert Certificate.get(Certificate.alias == "Rich Elsewhere").description.startswith("meant")
    assert Certificate.get(Certificate.alias == "Rich").description == ""
