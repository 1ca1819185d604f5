"""The certificate window, driven through its widgets; the store is checked afterwards."""

import pytest

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QScrollArea, QToolButton

from app.crypto.pins import pin_matches
from app.services import certificate_groups, certificate_import, users
from models import Certificate
from models.permissions import AUDITOR, CERTIFICATE_MANAGER, SIGNER
from tests.helpers.gui import cell_center, menu_action, open_menu, settle, wait_rows
from ui import tasks
from ui.certificates_model import CertificatesModel as M
from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    certificate_import.import_files(
        session, [certs.openssl_rich_cert(tmp_path, "Rich"), certs.openssl_v1_cert(tmp_path)]
    )
    users.add_user(session, "alice", "a good long password", SIGNER)
    certificate_groups.add_to_groups(session, ["Rich"], ["Release"])
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 2)
    return win


def row_index(win, alias: str) -> int:
    model = win.certificates.model
    return next(i for i in range(model.rowCount()) if model.row_at(i).alias == alias)


def open_window(qtbot, win, alias: str):
    """The window, once it has read its certificate (off the GUI thread)."""
    window = win.certificates.open_certificate(
        win.certificates.model.row_at(row_index(win, alias)).id
    )
    qtbot.waitUntil(lambda: window.detail is not None, timeout=10_000)
    return window


def save(qtbot, detail) -> None:
    """Click Save and wait for the save (on the writer thread) and the refresh it causes."""
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    settle(qtbot)


def test_every_general_field_is_saved_and_shown_again(qtbot, window):
    detail = open_window(qtbot, window, "Rich")
    general = detail.general_tab
    assert not detail.save_button.isEnabled()
    general.alias.selectAll()
    qtbot.keyClicks(general.alias, "Rich Renamed")
    general.owner.setCurrentIndex(general.owner.findText("alice"))
    qtbot.keyClicks(general.description, "Signs release builds.")
    qtbot.mouseClick(general.ask_reason, Qt.MouseButton.LeftButton)
    assert not general.pin_box.isVisible()
    qtbot.mouseClick(general.ask_pin, Qt.MouseButton.LeftButton)
    assert general.pin_box.isVisible()
    qtbot.keyClicks(general.pin, "864209")
    qtbot.keyClicks(general.pin_confirm, "864209")
    assert detail.save_button.isEnabled()
    save(qtbot, detail)
    assert detail.windowTitle() == "Rich Renamed — Certificate"

    stored = Certificate.get(Certificate.alias == "Rich Renamed")
    assert stored.owner.name == "alice" and stored.ask_reason
    assert stored.description == "Signs release builds."
    assert pin_matches("864209", stored.pin_hash)
    assert window.certificates.model.row_at(row_index(window, "Rich Renamed")).has_pin
    detail.close()
    assert not window.certificates.windows

    again = open_window(qtbot, window, "Rich Renamed")
    general = again.general_tab
    assert general.alias.text() == "Rich Renamed" and general.owner.currentText() == "alice"
    assert general.description.toPlainText() == "Signs release builds."
    assert general.ask_reason.isChecked() and general.ask_pin.isChecked()
    assert general.pin.text() == "" and "A PIN is set" in general.pin_note.text()
    qtbot.mouseClick(general.ask_pin, Qt.MouseButton.LeftButton)  # stop asking: clears the PIN
    save(qtbot, again)
    assert Certificate.get(Certificate.alias == "Rich Renamed").pin_hash is None


def test_wrong_pin_confirmation_is_refused_beside_the_field(qtbot, window):
    detail = open_window(qtbot, window, "Rich")
    general = detail.general_tab
    qtbot.mouseClick(general.ask_pin, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(general.pin, "135790")
    qtbot.keyClicks(general.pin_confirm, "135791")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    assert tasks.idle()  # refused before any task
    assert general.pin_error.isVisible() and "differ" in general.pin_error.text()
    assert Certificate.get(Certificate.alias == "Rich").pin_hash is None
    general.pin.setText("12")
    general.pin_confirm.setText("12")
    save(qtbot, detail)
    assert general.pin_error.text() == "At least 6 characters."
    assert general.isEnabled() and detail.save_button.isEnabled()  # to try again
    general.alias.setText("Legacy Version One")
    general.pin.setText("123456")
    general.pin_confirm.setText("123456")
    save(qtbot, detail)
    assert general.alias_error.isVisible() and "already in use" in general.alias_error.text()
    assert Certificate.get(Certificate.alias == "Rich").pin_hash is None


def test_closing_with_unsaved_changes_asks(qtbot, window):
    detail = open_window(qtbot, window, "Rich")
    qtbot.keyClicks(detail.general_tab.description, "draft")
    detail.close()
    box = detail.unsaved_box
    assert box.text() == "Save the changes to “Rich”?"
    assert detail.isVisible()  # until it is answered
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert detail.isVisible() and detail.has_unsaved_changes()
    detail.close()
    detail.unsaved_box.button(QMessageBox.StandardButton.Discard).click()
    assert not detail.isVisible() and not window.certificates.windows
    assert Certificate.get(Certificate.alias == "Rich").description == ""


def test_closing_with_unsaved_changes_can_save_them(qtbot, window):
    detail = open_window(qtbot, window, "Rich")
    qtbot.keyClicks(detail.general_tab.description, "kept")
    detail.reject()  # Escape
    detail.unsaved_box.button(QMessageBox.StandardButton.Save).click()
    settle(qtbot)
    assert Certificate.get(Certificate.alias == "Rich").description == "kept"
    assert not window.certificates.windows


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
    detail = open_window(qtbot, window, "Rich")
    groups_list = detail.associates_tab.group_list
    assert [groups_list.item(i).text() for i in range(groups_list.count())] == ["Release"]
    groups_list.itemActivated.emit(groups_list.item(0))
    assert window.pages.currentWidget() is window.groups
    assert window.groups.selected_name() == "Release"

    detail.tabs.setCurrentIndex(2)
    detail.findChild(QToolButton, "copy_sha256").click()
    assert QGuiApplication.clipboard().text() == detail.detail.details.sha256
    attributes = detail.extensions_tab
    names = [
        attributes.extensions.topLevelItem(i).text(0)
        for i in range(attributes.extensions.topLevelItemCount())
    ]
    assert "X509v3 Subject Alternative Name" in names and "1.2.3.4.5.6.7" in names
    san = names.index("X509v3 Subject Alternative Name")
    attributes.extensions.setCurrentItem(attributes.extensions.topLevelItem(san))
    assert "IP Address:10.20.30.40" in attributes.extension_value.toPlainText()
    attributes.copy_pem.click()
    assert QGuiApplication.clipboard().text().startswith("-----BEGIN CERTIFICATE-----")

    v1 = open_window(qtbot, window, "Legacy Version One")
    assert v1.detail.details.version == "1 (0x0)" and v1.detail.extensions == ()
    assert v1.extensions_tab.extensions.topLevelItem(0).text(0).startswith("No extensions")


def v1_window_as(qtbot, session, store_dir, tmp_path, certs, role: str):
    """The v1 certificate's window, as a new user of `role` sees it."""
    certificate_import.import_files(session, [certs.openssl_v1_cert(tmp_path)])
    users.add_user(session, "someone", "a good long password", role)
    session.close()
    signed_in, _ = users.sign_in(store_dir, "someone", password="a good long password")
    win = MainWindow(signed_in)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 1)
    return open_window(qtbot, win, "Legacy Version One")


def test_read_only_without_the_edit_permission(qtbot, session, store_dir, tmp_path, certs):
    detail = v1_window_as(qtbot, session, store_dir, tmp_path, certs, AUDITOR)
    assert not detail.general_tab.alias.isEnabled() and detail.general_tab.description.isReadOnly()
    assert not detail.save_button.isEnabled()
    assert detail.save_button.toolTip() == "Your role (Auditor) may not edit certificates."


def test_owner_reason_and_pin_are_the_policies_permissions(
    qtbot, session, store_dir, tmp_path, certs
):
    detail = v1_window_as(qtbot, session, store_dir, tmp_path, certs, CERTIFICATE_MANAGER)
    general = detail.general_tab
    why = "Your role (Certificate Manager) may not manage policies."
    pin_fields = (general.pin, general.pin_confirm)  # shown once a certificate has a PIN
    for widget in (general.owner, general.ask_reason, general.ask_pin, *pin_fields):
        assert not widget.isEnabled() and widget.toolTip() == why
    assert general.alias.isEnabled() and not general.description.isReadOnly()
    general.alias.setText("Renamed by the manager")
    save(qtbot, detail)
    assert detail.windowTitle() == "Renamed by the manager — Certificate"


def test_a_window_saves_to_its_certificate_even_after_a_rename_elsewhere(qtbot, window, session):
    from app.services.certificate_edits import GeneralChanges, edit_certificate

    detail = open_window(qtbot, window, "Rich")
    edit_certificate(session, "Rich", GeneralChanges(alias="Rich Elsewhere"))
    edit_certificate(session, "Legacy Version One", GeneralChanges(alias="Rich"))
    qtbot.keyClicks(detail.general_tab.description, "meant for the first one")
    save(qtbot, detail)
    assert Certificate.get(Certificate.alias == "Rich Elsewhere").description.startswith("meant")
    assert Certificate.get(Certificate.alias == "Rich").description == ""


def test_a_certificate_gone_before_its_window_read_it_says_so_and_closes(qtbot, window):
    import shiboken6
    from PySide6.QtWidgets import QMessageBox as Box

    from ui.certificate_window import CertificateWindow

    view = window.certificates
    gone = CertificateWindow(window.session, 999_999, view)
    gone.show()
    assert not gone.tabs.isEnabled() and not gone.save_button.isEnabled()  # still reading
    settle(qtbot)
    # Closed, and deleted on close once the event loop gets to it.
    assert not shiboken6.isValid(gone) or not gone.isVisible()
    box = next(b for b in view.findChildren(Box) if b.isVisible())
    assert box.text() == "That certificate is no longer in the store."


def test_saving_runs_off_the_gui_thread_and_blocks_a_second_save(qtbot, window):
    detail = open_window(qtbot, window, "Rich")
    qtbot.keyClicks(detail.general_tab.description, "once")
    task = detail.save()
    assert task is not None and task.relay is not None
    assert not detail.general_tab.isEnabled() and not detail.save_button.isEnabled()
    assert detail.save() is None  # one save at a time
    detail.reject()  # ignored while it saves: the window shows the outcome
    assert detail.isVisible()
    settle(qtbot)
    assert Certificate.get(Certificate.alias == "Rich").description == "once"
    assert detail.general_tab.isEnabled() and not detail.has_unsaved_changes()


def test_tab_goes_from_the_buttons_to_the_fields_with_no_stop_between(qtbot, window):
    """The tabs sit in a scroll area (for small and scaled screens): it is no Tab stop."""
    detail = open_window(qtbot, window, "Rich")
    stops = []
    close = widget = detail.buttons.button(QDialogButtonBox.StandardButton.Close)
    for _ in range(5000):  # once round the chain
        widget = widget.nextInFocusChain()
        if widget is close:
            break
        takes_tab = widget.focusPolicy().value & Qt.FocusPolicy.TabFocus.value
        if takes_tab and widget.isVisibleTo(detail):
            stops.append(widget)
    assert stops and not any(isinstance(w, QScrollArea) for w in stops)
    detail.reject()
