"""User groups: the service (create, rename, delete, members), `certdesk user-group` and
`user show`, and the User Groups page driven through its widgets. A policy naming a group
reaches its members: putting a user in hands them its keys, deleting the group takes
them away."""

import json

import pytest

from PySide6.QtCore import Qt

from app.errors import ValidationError
from app.services import certificate_groups, policies, signing, user_groups, users
from app.services.policies import PolicySpec
from models.permissions import SIGNER
from tests.helpers.gui import answer, settle
from tests.helpers.stores import SIGNER_PASSWORD, import_keys
from ui.main_window import MainWindow


@pytest.fixture
def store(session, tmp_path, certs):
    import_keys(session, tmp_path, certs, "Release")
    certificate_groups.add_to_groups(session, ["Release"], ["Production"])
    users.add_user(session, "sam", SIGNER_PASSWORD, SIGNER)
    users.add_user(session, "nina", SIGNER_PASSWORD, SIGNER, ["Builders"])
    policies.add_policy(
        session,
        PolicySpec("Builders sign", certificate_groups=("Production",), user_groups=("Builders",)),
    )
    return session


def may_sign(session, name: str) -> list[str]:
    return [c.alias for c in signing.signable_by(session, name)]


def test_create_rename_and_delete_a_user_group(store):
    user_groups.create_user_group(store, "QA", "Testers")
    with pytest.raises(ValidationError, match="exists already"):
        user_groups.create_user_group(store, "QA")
    assert user_groups.edit_user_group(store, "Builders", "Release Engineers") is True
    assert user_groups.edit_user_group(store, "Release Engineers", "Release Engineers") is False
    rows = {r.name: r for r in user_groups.list_user_groups(store)}
    assert rows["Release Engineers"].policies == ("Builders sign",)  # the policy followed
    assert rows["Release Engineers"].members == ("nina",)
    assert may_sign(store, "nina") == ["Release"]
    user_groups.delete_user_group(store, "Release Engineers")
    assert may_sign(store, "nina") == []
    assert [r.name for r in user_groups.list_user_groups(store)] == ["QA"]
    assert [p.user_groups for p in policies.list_policies(store)] == [()]


def test_the_cli_manages_user_groups_and_shows_a_user(cli, closed_store, tmp_path, certs):
    new = {"CERTDESK_NEW_PASSWORD": SIGNER_PASSWORD}
    assert cli("user", "add", "sam", "--display-name", "Sam Okafor", env_extra=new).returncode == 0
    assert cli("user-group", "add", "Builders", "--description", "CI").returncode == 0
    assert cli("user-group", "members", "Builders", "--add", "sam").returncode == 0
    path = certs.write(tmp_path, "r.p12", certs.p12(*certs.make_cert("Release"), None))
    assert cli("import", str(path)).returncode == 0
    added = cli("policy", "add", "CI", "--cert", "Release", "--user-group", "Builders")
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli("user-group", "list", "--json").stdout)
    assert listed == [
        {"name": "Builders", "description": "CI", "members": ["sam"], "policies": ["CI"]}
    ]
    shown = json.loads(cli("user", "show", "sam", "--json").stdout)
    assert shown["display_name"] == "Sam Okafor" and shown["user_groups"] == ["Builders"]
    assert shown["may_sign"] == [
        {
            "alias": "Release",
            "allowed_by": "policy",
            "policy": "CI",
            "asks_pin": False,
            "asks_reason": False,
            "blocked": None,
        }
    ]
    assert cli("user-group", "rename", "Builders", "CI Robots").returncode == 0
    assert cli("user-group", "delete", "CI Robots").returncode == 2  # no --yes
    assert cli("user-group", "delete", "CI Robots", "--yes").returncode == 0
    assert json.loads(cli("user", "show", "sam", "--json").stdout)["may_sign"] == []
    missing = cli("user", "show", "nobody")
    assert (missing.returncode, missing.stderr) == (
        1,
        "certdesk: No user 'nobody' in this store.\n",
    )


@pytest.fixture
def page(qtbot, store):
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    groups = win.open_page("User Groups")
    qtbot.waitUntil(lambda: groups.loaded, timeout=10_000)
    settle(qtbot)
    return groups


def test_the_page_adds_and_removes_members_and_deletes(qtbot, page, store):
    assert page.select("Builders")
    qtbot.wait(1)
    settle(qtbot)
    detail = page.detail
    assert [detail.model.row_at(i).name for i in range(detail.model.rowCount())] == ["nina"]
    picker = page.add_members()
    settle(qtbot)
    assert "sam" in picker.names() and "nina" not in picker.names()
    picker.set_checked("sam")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert page.selected().members == ("nina", "sam")
    assert may_sign(store, "sam") == ["Release"]  # the policy's key was handed on
    qtbot.waitUntil(lambda: detail.model.rowCount() == 2, timeout=5_000)

    picker = page.remove_members()
    picker.set_checked("nina")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert page.selected().members == ("sam",)
    assert may_sign(store, "nina") == []

    box = page.delete_selected()
    assert "Builders sign" in box.informativeText()
    answer(box, "Delete User Group")
    settle(qtbot)
    assert page.model.total_count() == 0 and page.table.empty_hint.startswith("No user groups")
    assert may_sign(store, "sam") == []


def test_new_and_edit_through_the_dialog(qtbot, page):
    dialog = page.create()
    dialog.name.setText("Builders")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert dialog.isVisible() and "exists already" in dialog.name_error.text()
    dialog.name.setText("QA")
    dialog.description.setText("Testers")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert page.selected().name == "QA" and page.selected().description == "Testers"
    dialog = page.edit_selected()
    dialog.name.setText("Quality")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert page.selected().name == "Quality"
