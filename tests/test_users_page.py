"""The Users page and the user dialogs, driven through the widgets: add a user with a
display name, a role and user groups; disable, change the role, reset the password and
delete; see what a user may sign and which policy decides it; change one's own password
from the File menu. Every change is the service's, checked in the store afterwards."""

import pytest

from PySide6.QtCore import Qt

from app.errors import AuthenticationError
from app.services import audit_log, certificate_groups, policies, user_groups, users
from app.services.policies import PolicySpec
from models.permissions import SIGNER
from tests.helpers.gui import answer, settle
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD, import_keys
from ui.main_window import MainWindow
from ui.users_view import YOURSELF, UsersView

NEW_PASSWORD = "another long password"


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    import_keys(session, tmp_path, certs, "Release", "Nightly")
    certificate_groups.add_to_groups(session, ["Release"], ["Production"])
    users.add_user(session, "sam", SIGNER_PASSWORD, SIGNER, ["Builders"])
    policies.add_policy(
        session,
        PolicySpec("Builders sign", certificate_groups=("Production",), user_groups=("Builders",)),
    )
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    page = win.open_page("Users")
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    settle(qtbot)
    return win


def users_page(win) -> UsersView:
    return win.page_by_title["Users"]


def names(page: UsersView) -> list[str]:
    return [page.model.row_at(i).name for i in range(page.model.rowCount())]


def select(qtbot, page: UsersView, name: str) -> None:
    assert page.select(name)
    qtbot.wait(1)  # the list below follows the selection once it settles
    settle(qtbot)


def press_ok(qtbot, dialog) -> None:
    assert dialog.ok_button.isEnabled(), dialog.ok_button.toolTip()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)


def test_add_a_user_with_a_display_name_role_and_user_groups(qtbot, window, session):
    page = users_page(window)
    dialog = page.new_user()
    qtbot.waitUntil(lambda: dialog.user_groups.count() == 1, timeout=5_000)
    assert dialog.user_groups.item(0).text() == "Builders"
    dialog.user_groups.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.name.setText("dora")
    dialog.display_name.setText("Dora Marquez")
    dialog.role.setCurrentIndex(dialog.role.findData("Auditor"))
    assert "audit log" in dialog.role_note.text()
    dialog.new_groups.setText("Firmware, QA")
    dialog.password.setText("a good long password")
    dialog.confirmation.setText("a good long passwore")
    assert not dialog.ok_button.isEnabled()
    assert dialog.errors[dialog.confirmation].isVisible()  # "The two passwords differ."
    dialog.confirmation.setText("a good long password")
    assert not dialog.errors[dialog.confirmation].isVisible()
    left = []
    dialog.accepted.connect(lambda: left.append(dialog.password.text()))
    press_ok(qtbot, dialog)
    assert left == [""]  # the password is not kept in the dialog that closes
    assert "dora" in names(page) and page.selected().name == "dora"
    row = page.selected()
    assert (row.display_name, row.role, row.user_groups) == (
        "Dora Marquez",
        "Auditor",
        ("Builders", "Firmware", "QA"),
    )
    assert "Added the user “dora” (Auditor)." in window.statusBar().currentMessage()
    users.sign_in(session.folder, "dora", password="a good long password")[0].close()


def test_a_refused_name_is_said_under_its_field(qtbot, window):
    page = users_page(window)
    dialog = page.new_user()
    dialog.name.setText("sam")
    dialog.password.setText("a good long password")
    dialog.confirmation.setText("a good long password")
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.errors[dialog.name].isVisible()
    assert "sam" in dialog.errors[dialog.name].text()
    assert dialog.password.text() == "a good long password"  # what was typed stays
    dialog.reject()  # no modal dialog outlives its test


def test_what_a_user_may_sign_and_the_policy_that_decides(qtbot, window):
    page = users_page(window)
    select(qtbot, page, "sam")
    detail = page.detail
    assert detail.heading.text() == "What may sam sign?"
    rows = [detail.model.row_at(i) for i in range(detail.model.rowCount())]
    assert [(r.alias, r.policy) for r in rows] == [("Release", "Builders sign")]
    select(qtbot, page, "admin")
    assert detail.model.rowCount() == 0
    assert "may sign with nothing now" in detail.table.empty_hint


def test_your_own_row_refuses_what_another_administrator_does(qtbot, window):
    page = users_page(window)
    select(qtbot, page, "admin")
    for action in (page.disable_action, page.delete_action, page.role_action):
        assert not action.isEnabled() and action.toolTip() == YOURSELF
    assert "Change My Password" in page.reset_action.toolTip()
    select(qtbot, page, "sam")
    assert page.disable_action.isEnabled() and not page.enable_action.isEnabled()


def test_disable_change_role_reset_and_delete(qtbot, window, session):
    page = users_page(window)
    select(qtbot, page, "sam")
    page.disable_action.trigger()
    settle(qtbot)
    assert not page.selected().enabled and page.enable_action.isEnabled()
    assert page.detail.table.empty_hint == "sam is disabled: they sign nothing."
    page.enable_action.trigger()
    settle(qtbot)
    assert page.selected().enabled

    dialog = page.change_role()
    assert not dialog.ok_button.isEnabled()  # Signer already
    dialog.role.setCurrentIndex(dialog.role.findData("Certificate Manager"))
    press_ok(qtbot, dialog)
    assert page.selected().role == "Certificate Manager"

    dialog = page.reset_password()
    dialog.password.setText(NEW_PASSWORD)
    dialog.confirmation.setText(NEW_PASSWORD)
    press_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: "new password for “sam”" in window.statusBar().currentMessage())
    with pytest.raises(AuthenticationError):
        users.sign_in(session.folder, "sam", password=SIGNER_PASSWORD)
    users.sign_in(session.folder, "sam", password=NEW_PASSWORD)[0].close()

    key_before = bytes(session.store.master_key())
    box = page.delete_selected()
    assert "Delete the user “sam”?" in box.text()
    answer(box, "Delete User")
    settle(qtbot)
    assert names(page) == ["admin"]
    message = window.statusBar().currentMessage
    qtbot.waitUntil(lambda: "Deleted “sam”" in message(), timeout=10_000)
    # The window's own readers held the store open at the delete: the key changed after.
    assert "the store's key changed" in message(), message()
    assert bytes(session.store.master_key()) != key_before
    assert all(slot.next is None for slot in session.store.slots().slots.values())
    assert "user.delete" in [e.action for e in audit_log.list_events(session)]
    assert user_groups.list_user_groups(session)[0].members == ()


def test_change_my_password_from_the_file_menu(qtbot, window, session):
    dialog = window.change_password()
    dialog.current.setText("not my password")
    dialog.password.setText(NEW_PASSWORD)
    dialog.confirmation.setText(NEW_PASSWORD)
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.errors[dialog.current].isVisible()
    assert dialog.errors[dialog.current].text() == "Wrong password for “admin”."
    dialog.current.setText(PASSWORD)
    closed = []
    dialog.accepted.connect(lambda: closed.append(True))
    press_ok(qtbot, dialog)
    assert closed
    assert window.statusBar().currentMessage() == "Changed the password of admin."
    users.sign_in(session.folder, "admin", password=NEW_PASSWORD)[0].close()


def test_a_signer_sees_the_users_and_may_change_none(qtbot, session):
    users.add_user(session, "sam", SIGNER_PASSWORD, SIGNER)
    session.close()
    signer, _ = users.sign_in(session.folder, "sam", password=SIGNER_PASSWORD)
    win = MainWindow(signer)
    qtbot.addWidget(win)
    win.show()
    page = win.open_page("Users")
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    assert names(page) == ["admin", "sam"]
    select(qtbot, page, "admin")
    for action in (page.new_action, page.disable_action, page.delete_action, page.role_action):
        assert not action.isEnabled()
        assert action.toolTip() == "Your role (Signer) may not manage users."
    assert page.delete_selected() is None  # no confirmation opens
