"""The GUI driven offscreen with pytest-qt, checked against the real store."""

import keyring
import pytest

from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app import remember
from app.services import certificate_import, certificates, store_folders, users
from app.store import store_exists
from tests.helpers.gui import cert_files, settle, wait_rows
from tests.helpers.keyrings import MemoryKeyring
from tests.helpers.stores import PASSWORD
from ui import tasks
from ui.certificates_model import CertificatesModel
from ui.certificates_view import EMPTY_HINT
from ui.first_run import FirstRunDialog
from ui.login import LoginDialog
from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.certificates.loaded, timeout=5000):
        win.show()  # the rows arrive from a worker through the event loop
    settle(qtbot)  # the groups and requests pages too
    return win


# -- login and first run -------------------------------------------------------------


def test_login_refuses_a_wrong_password_then_unlocks(qtbot, store_dir, session):
    session.close()
    dialog = LoginDialog(store_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    assert [dialog.user.itemText(i) for i in range(dialog.user.count())] == ["admin"]
    qtbot.keyClicks(dialog.password, "wrong password")
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error.isVisible)
    assert "Wrong password" in dialog.error.text()
    assert dialog.session is None
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    assert dialog.session.user_name == "admin"
    assert QSettings().value("login/last_user") == "admin"
    dialog.session.close()


def test_choosing_another_user_clears_the_refusal_said_of_the_first(qtbot, store_dir, session):
    from app.services import users
    from models.permissions import SIGNER

    users.add_user(session, "bob", "a good long password", SIGNER)
    session.close()
    dialog = LoginDialog(store_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.user.setCurrentText("admin")
    qtbot.keyClicks(dialog.password, "wrong password")
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.error.isVisible)
    dialog.user.setCurrentText("bob")
    assert not dialog.error.isVisible()
    dialog.reject()


def test_login_without_a_real_keyring_offers_no_remember(qtbot, store_dir, session):
    session.close()
    dialog = LoginDialog(store_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    # Asked once the dialog is painted; idle once its answer is in.
    qtbot.waitUntil(lambda: dialog._probe is not None and tasks.idle(), timeout=5000)
    assert not dialog.remember.isVisible()


def test_remember_me_stores_the_login_and_unlocks_next_time(qtbot, store_dir, session):
    session.close()
    original = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    remember.reset()
    try:
        first = LoginDialog(store_dir)
        qtbot.addWidget(first)
        first.show()
        qtbot.waitUntil(first.remember.isVisible, timeout=5000)
        first.password.setText(PASSWORD)
        first.remember.setChecked(True)
        with qtbot.waitSignal(first.accepted, timeout=5000):
            first.unlock()
        first.session.close()
        assert remember.recall(store_folders.store_id(store_dir), "admin") is not None

        second = LoginDialog(store_dir)
        qtbot.addWidget(second)
        second.show()
        qtbot.waitUntil(lambda: "Remembered" in second.password.placeholderText(), timeout=5000)
        assert second.remember.isChecked()
        with qtbot.waitSignal(second.accepted, timeout=5000):
            second.unlock()  # no password typed
        second.session.close()
    finally:
        keyring.set_keyring(original)
        remember.reset()


def test_unticking_remember_me_forgets_a_login_used_without_a_password(qtbot, store_dir, session):
    session.close()
    original = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    remember.reset()
    try:
        store_id = store_folders.store_id(store_dir)
        signed_in, kek = users.sign_in(store_dir, "admin", PASSWORD)
        signed_in.close()
        remember.remember(store_id, "admin", kek)
        dialog = LoginDialog(store_dir)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: "Remembered" in dialog.password.placeholderText(), timeout=5000)
        dialog.remember.setChecked(False)
        with qtbot.waitSignal(dialog.accepted, timeout=5000):
            dialog.unlock()  # no password typed: the remembered login, for the last time
        dialog.session.close()
        assert remember.recall(store_id, "admin") is None
    finally:
        keyring.set_keyring(original)
        remember.reset()


def test_login_on_a_missing_store_says_so(qtbot, tmp_path):
    dialog = LoginDialog(tmp_path / "nothing")
    qtbot.addWidget(dialog)
    assert "no store here" in dialog.error.text()
    assert not dialog.unlock_button.isEnabled()


def test_first_run_validates_then_creates_the_store(qtbot, store_dir):
    dialog = FirstRunDialog(store_dir, default_admin="admin")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password, "short")
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.password_error.isVisible()
    assert dialog.password_error.text() == "At least 12 characters."
    dialog.password.setText(PASSWORD)
    dialog.confirm.setText(PASSWORD + "x")
    dialog.create()
    assert dialog.confirm_error.isVisible() and not dialog.password_error.isVisible()
    assert not store_exists(store_dir)
    dialog.confirm.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.create()
    assert store_exists(store_dir)
    assert dialog.session.role == "Administrator"
    dialog.session.close()


# -- the main window -----------------------------------------------------------------


def test_empty_store_shows_the_import_hint(window):
    assert window.certificates.table.empty_hint == EMPTY_HINT
    assert window.count_label.text() == "0 certificates"


def test_import_action_imports_off_the_gui_thread(
    qtbot, window, session, tmp_path, certs, monkeypatch
):
    files = cert_files(certs, tmp_path, ["One", "Two", "Three"])
    bad = str(certs.write(tmp_path, "broken.cer", b"\x30\x03\x02"))
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([*files, bad], "Certificates")
    )
    window.certificates.import_action.trigger()
    wait_rows(qtbot, window, 3)
    flow = window.certificates.import_flow
    assert flow.summary_box is not None and "broken.cer" in flow.summary_box.text()
    flow.summary_box.close()
    assert sorted(r.alias for r in certificates.list_certificates(session)) == [
        "One",
        "Three",
        "Two",
    ]
    model = window.certificates.model
    assert [model.row_at(i).alias for i in range(3)] == ["One", "Three", "Two"]
    assert window.count_label.text() == "3 certificates"


def test_dropping_files_on_the_table_imports_them(qtbot, window, session, tmp_path, certs):
    files = cert_files(certs, tmp_path, ["Dropped A", "Dropped B"])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(f) for f in files])
    table = window.certificates.table
    event = QDropEvent(
        QPointF(20, 20), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    table.dropEvent(event)
    assert event.isAccepted()
    wait_rows(qtbot, window, 2)
    assert len(certificates.list_certificates(session)) == 2


def test_pkcs12_password_is_asked_for(qtbot, window, session, tmp_path, certs, monkeypatch):
    cert, key = certs.make_cert("Asked For")
    path = str(certs.write(tmp_path, "k.p12", certs.p12(cert, key, b"pfx-pass")))
    asked = []

    def answer(parent, title, label, echo):
        asked.append(label)
        assert echo == certs_echo_password()
        return "pfx-pass", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    window.certificates.import_files([path])
    wait_rows(qtbot, window, 1)
    assert "k.p12" in asked[0]
    assert certificates.list_certificates(session)[0].has_private_key
    assert window.certificates.model.row_at(0).has_private_key


def certs_echo_password():
    from PySide6.QtWidgets import QLineEdit

    return QLineEdit.EchoMode.Password


def test_search_box_and_expiry_filter(qtbot, window, session, tmp_path, certs):
    paths = cert_files(certs, tmp_path, ["Firmware Signing", "Driver Signing"])
    old, _ = certs.make_cert("Old Expired", days=-5, start_days=-100)
    paths.append(str(certs.write(tmp_path, "old.pem", certs.pem(old))))
    certificate_import.import_files(session, paths)
    window.certificates.reload()
    wait_rows(qtbot, window, 3)
    view = window.certificates
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    view.find_action.trigger()
    assert view.search.isVisible() and view.search.hasFocus()  # Find moves the focus there
    qtbot.keyClicks(view.search, "firm")
    wait_rows(qtbot, window, 1)
    assert view.model.row_at(0).alias == "Firmware Signing"
    assert window.count_label.text() == "1 of 3 certificates shown"
    view.search.clear()
    wait_rows(qtbot, window, 3)
    view.expiry.setCurrentIndex(view.expiry.findData("expired"))
    wait_rows(qtbot, window, 1)
    assert view.model.row_at(0).alias == "Old Expired"
    view.search.setText("firm")
    qtbot.waitUntil(lambda: view.table.empty_hint.startswith("No certificate matches"))


def test_clicking_a_header_sorts(qtbot, window, session, tmp_path, certs):
    certificate_import.import_files(session, cert_files(certs, tmp_path, ["b", "a", "c"]))
    window.certificates.reload()
    wait_rows(qtbot, window, 3)
    header = window.certificates.table.horizontalHeader()
    name = CertificatesModel.COL_NAME
    where = QPoint(header.sectionViewportPosition(name) + 20, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert [window.certificates.model.row_at(i).alias for i in range(3)] == ["c", "b", "a"]
    checkbox = QPoint(header.sectionViewportPosition(CertificatesModel.COL_CHECK) + 8, 5)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=checkbox)
    assert header.sortIndicatorSection() == name  # the checkbox section does not sort


def test_window_state_is_remembered(qtbot, session, store_dir):
    first = MainWindow(session)
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 500)  # within the offscreen screen (800×800)
    header = first.certificates.table.horizontalHeader()
    header.resizeSection(CertificatesModel.COL_GROUPS, 133)
    first.certificates.table.sortByColumn(6, Qt.SortOrder.DescendingOrder)
    first.close()  # also closes the session
    again, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    second = MainWindow(again)
    qtbot.addWidget(second)
    second.show()
    header = second.certificates.table.horizontalHeader()
    assert header.sectionSize(CertificatesModel.COL_GROUPS) == 133
    assert header.sortIndicatorSection() == 6
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert (second.width(), second.height()) == (700, 500)
    second.close()


def test_status_column_tooltip_and_private_key_marker(qtbot, window, session, tmp_path, certs):
    cert, key = certs.make_cert("Keyed")
    certificate_import.import_files(
        session, [certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))]
    )
    window.certificates.reload()
    wait_rows(qtbot, window, 1)
    model = window.certificates.model
    tip = model.data(model.index(0, model.COL_STATUS), Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines() == ["Enabled", "No owner", "No PIN", "No reason asked"]
    name_tip = model.data(model.index(0, model.COL_NAME), Qt.ItemDataRole.ToolTipRole)
    assert "Private key held in the store" in name_tip
