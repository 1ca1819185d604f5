"""Custom roles: their permissions are the custodian's, signed in the roster, so a
permission added in the database, or an older definition put back, grants nothing; the
`role` commands; and the Roles page's matrix driven through its boxes."""

import json

import pytest

from PySide6.QtCore import Qt

from app import audit_heads
from app.errors import CustodianRequired, TamperedError, ValidationError
from app.services import custody, integrity, roles, users
from models import Custodian, Role, RolePermission, User
from models.base import using
from models.permissions import CERTIFICATE_MANAGER, CERTIFICATES_VIEW, SIGN, USERS_MANAGE
from tests.helpers.gui import answer, settle
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD
from ui.main_window import MainWindow


@pytest.fixture
def custom(session):
    roles.add_role(session, "Release Signer", [CERTIFICATES_VIEW, SIGN], "Signs releases")
    users.add_user(session, "rita", SIGNER_PASSWORD, "Release Signer")
    return session


def sign_in(session, name="rita", password=SIGNER_PASSWORD):
    signed, _ = users.sign_in(session.folder, name, password=password)
    return signed


def test_a_custom_role_gives_exactly_its_permissions(custom):
    rita = sign_in(custom)
    assert (rita.role, rita.permissions) == ("Release Signer", frozenset({CERTIFICATES_VIEW, SIGN}))
    rita.close()
    assert roles.edit_role(custom, "Release Signer", [CERTIFICATES_VIEW]) is True
    assert roles.edit_role(custom, "Release Signer", [CERTIFICATES_VIEW]) is False
    rita = sign_in(custom)
    assert rita.permissions == frozenset({CERTIFICATES_VIEW})
    rita.close()
    row = next(r for r in roles.list_roles(custom) if r.name == "Release Signer")
    assert (row.builtin, row.users, row.description) == (False, 1, "Signs releases")


def test_names_permissions_and_built_in_roles_are_checked(custom):
    with pytest.raises(ValidationError, match="built-in role's name"):
        roles.add_role(custom, "signer", [SIGN])
    with pytest.raises(ValidationError, match="exists already"):
        roles.add_role(custom, "release signer", [SIGN])
    with pytest.raises(ValidationError, match="no permission 'fly'"):
        roles.add_role(custom, "Pilot", ["fly"])
    with pytest.raises(ValidationError, match="at least one permission"):
        roles.add_role(custom, "Nobody", [])
    with pytest.raises(ValidationError, match="built-in role"):
        roles.edit_role(custom, CERTIFICATE_MANAGER, [SIGN])
    with pytest.raises(ValidationError, match="1 user"):
        roles.delete_role(custom, "Release Signer")
    users.set_user_role(custom, "rita", "Signer")
    roles.delete_role(custom, "Release Signer")
    assert [r.name for r in roles.list_roles(custom)] == [
        "Administrator",
        "Certificate Manager",
        "Auditor",
        "Signer",
    ]


def test_a_permission_added_in_the_database_is_tampering(custom):
    with using(custom.store.db):
        role = Role.get(Role.name == "Release Signer")
        RolePermission.create(role=role, permission=USERS_MANAGE)
    with pytest.raises(TamperedError, match="permissions of the role 'Release Signer'"):
        sign_in(custom)
    assert "role 'Release Signer': its permissions are not the ones" in "\n".join(
        integrity.check_store(custom)
    )


def test_an_older_definition_put_back_is_known_as_older(custom):
    """rita's role lost `sign`; putting back the roster and permissions from before (both
    signed then) is refused at her sign-in on a workstation that saw the newer one, and an
    Administrator's sign-in puts the newer definition back."""
    with using(custom.store.db):
        before = Custodian.select(
            Custodian.roster, Custodian.roster_serial, Custodian.roster_signature
        ).dicts()[0]
    roles.edit_role(custom, "Release Signer", [CERTIFICATES_VIEW])
    custom.close()  # this workstation keeps the newest roster
    admin = sign_in(custom, "admin", PASSWORD)
    with using(admin.store.db):
        Custodian.update(**before).execute()
        role = Role.get(Role.name == "Release Signer")
        RolePermission.create(role=role, permission=SIGN)
    admin.store.close()  # closed without leaving its head: the rollback stays unseen by it
    assert audit_heads.newest_roster(admin.store.store_id) is not None
    with pytest.raises(TamperedError, match="the role 'Release Signer' is older"):
        sign_in(custom)
    admin = sign_in(custom, "admin", PASSWORD)
    assert any("role Release Signer" in notice for notice in admin.notices)
    admin.close()
    rita = sign_in(custom)
    assert rita.permissions == frozenset({CERTIFICATES_VIEW})
    rita.close()


def test_only_a_custodian_changes_a_role(custom):
    users.add_user(custom, "max", SIGNER_PASSWORD, CERTIFICATE_MANAGER)
    with using(custom.store.db):
        RolePermission.create(role=Role.get(Role.name == CERTIFICATE_MANAGER), permission="x")
    with using(custom.store.db):
        RolePermission.delete().where(RolePermission.permission == "x").execute()
    roles.add_role(custom, "Editors", ["roles.manage", CERTIFICATES_VIEW])
    users.add_user(custom, "eve", SIGNER_PASSWORD, "Editors")
    eve = sign_in(custom, "eve")
    with pytest.raises(CustodianRequired):
        roles.edit_role(eve, "Release Signer", [SIGN, CERTIFICATES_VIEW, USERS_MANAGE])
    eve.close()


def test_the_role_commands(cli, closed_store):
    added = cli("role", "add", "Release Signer", "--permission", "certificates.view",
                "--permission", "sign", "--description", "Signs")  # fmt: skip
    assert added.returncode == 0, added.stderr
    new = {"CERTDESK_NEW_PASSWORD": SIGNER_PASSWORD}
    assert cli("user", "add", "rita", "--role", "Release Signer", env_extra=new).returncode == 0
    assert cli("role", "edit", "Release Signer").returncode == 2
    edited = cli("role", "edit", "Release Signer", "--add-permission", "audit.view")
    assert edited.returncode == 0, edited.stderr
    listed = json.loads(cli("role", "list", "--json").stdout)
    assert listed[-1] == {
        "name": "Release Signer",
        "description": "Signs",
        "builtin": False,
        "permissions": ["audit.view", "certificates.view", "sign"],
        "users": 1,
    }
    as_rita = {"CERTDESK_USER": "rita", "CERTDESK_PASSWORD": SIGNER_PASSWORD}
    assert cli("audit", env_extra=as_rita).returncode == 0  # audit.view, given by the edit
    refused = cli("role", "delete", "Release Signer", "--yes")
    assert refused.returncode == 1 and "give them another first" in refused.stderr
    assert cli("role", "edit", "Signer", "--add-permission", "audit.view").returncode == 1


def test_the_matrix_toggles_a_custom_role_and_keeps_the_built_in_ones(qtbot, custom):
    win = MainWindow(custom)
    qtbot.addWidget(win)
    win.show()
    page = win.open_page("Roles")
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    model = page.model
    names = [model.role_at(c).name for c in range(1, model.columnCount())]
    assert names == ["Administrator", "Certificate Manager", "Auditor", "Signer", "Release Signer"]
    signer = names.index("Signer") + 1
    assert not model.flags(model.index(0, signer)) & Qt.ItemFlag.ItemIsUserCheckable
    column = names.index("Release Signer") + 1
    audit_row = list(roles.PERMISSION_WORDS).index("audit.view")
    assert model.data(model.index(audit_row, 0)) == "Read the audit log"
    index = model.index(audit_row, column)
    assert model.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    settle(qtbot)
    assert model.data(model.index(audit_row, column), Qt.ItemDataRole.CheckStateRole) == (
        Qt.CheckState.Checked
    )
    rita = sign_in(custom)
    assert "audit.view" in rita.permissions
    rita.close()

    dialog = page.new_role()
    dialog.name.setText("Build Robot")
    dialog.start.setCurrentIndex(dialog.start.findText("Auditor"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    row = page.selected_role()
    assert (row.name, row.permissions) == (
        "Build Robot",
        frozenset({CERTIFICATES_VIEW, "audit.view"}),
    )
    box = page.delete_selected()
    answer(box, "Delete Role")
    settle(qtbot)
    assert "Build Robot" not in [r.name for r in model.roles]
    page.select_role("Release Signer")
    assert not page.delete_action.isEnabled() and "1 user has it" in page.delete_action.toolTip()


# -- attacks a fresh-eyes review played with one user's password and the store key -------


def test_a_role_rolled_back_is_put_back_whatever_its_builtin_flag_says(custom):
    with using(custom.store.db):
        before = Custodian.select(
            Custodian.roster, Custodian.roster_serial, Custodian.roster_signature
        ).dicts()[0]
    roles.edit_role(custom, "Release Signer", [CERTIFICATES_VIEW])
    custom.close()
    admin = sign_in(custom, "admin", PASSWORD)
    with using(admin.store.db):  # rita's own code: the old definition and a built-in flag
        Custodian.update(**before).execute()
        role = Role.get(Role.name == "Release Signer")
        RolePermission.create(role=role, permission=SIGN)
        Role.update(builtin=True).where(Role.id == role.id).execute()
    admin.store.close()
    admin = sign_in(custom, "admin", PASSWORD)  # the workstation that saw the newer one
    with using(admin.store.db):
        Role.update(builtin=False).where(Role.name == "Release Signer").execute()
    admin.close()
    rita = sign_in(custom)
    assert rita.permissions == frozenset({CERTIFICATES_VIEW})
    rita.close()


def test_a_user_row_named_like_a_role_line_signs_nothing(custom):
    with using(custom.store.db):
        forged = Role.create(name="certificates.view,users.manage", builtin=False)
        User.create(name="\x1eRelease Signer", role=forged, enabled=True)
    with pytest.raises(TamperedError, match="control character"):
        users.disable_user(custom, "\x1eRelease Signer")
    with using(custom.store.db):
        assert custody.role_permissions(custom, "Release Signer") == {CERTIFICATES_VIEW, SIGN}


def test_an_edit_starts_from_the_signed_permissions_not_the_rows(custom):
    with using(custom.store.db):
        RolePermission.create(role=Role.get(Role.name == "Release Signer"), permission=USERS_MANAGE)
    row = next(r for r in roles.list_roles(custom) if r.name == "Release Signer")
    assert row.permissions == {CERTIFICATES_VIEW, SIGN} and row.tampered
    roles.edit_role(custom, "Release Signer", set(row.permissions) | {"audit.view"})
    rita = sign_in(custom)
    assert rita.permissions == frozenset({CERTIFICATES_VIEW, SIGN, "audit.view"})
    rita.close()


def test_a_role_edit_does_not_launder_rows_the_role_could_not_write(
    custom, tmp_path, certs, monkeypatch
):
    from app.services import key_grants, policies
    from app.services.session import write_transaction
    from models import Certificate, KeyGrant
    from tests.helpers.stores import import_keys

    import_keys(custom, tmp_path, certs, "release")
    rita = sign_in(custom)
    monkeypatch.setattr(key_grants, "sync", lambda *a, **k: None)  # her own code
    object.__setattr__(rita, "permissions", rita.permissions | {"policies.manage"})
    policies.add_policy(
        rita, policies.PolicySpec("mine", certificates=("release",), users=("rita",))
    )
    monkeypatch.undo()
    rita.close()

    def rita_grants() -> int:
        with using(custom.store.db), write_transaction(custom):
            cid = Certificate.get(Certificate.alias == "release").id
            key_grants.sync(custom, key_grants.reached(custom, [cid]))
        with using(custom.store.db):
            return KeyGrant.select().join(User).where(User.name == "rita").count()

    assert rita_grants() == 0
    roles.edit_role(custom, "Release Signer", [CERTIFICATES_VIEW, SIGN, "audit.view"])
    assert rita_grants() == 0  # her attestation of the policy was not signed again


def test_a_role_row_nobody_signed_cannot_be_given(custom):
    with using(custom.store.db):
        Role.create(name="Backdoor", builtin=False)
    with pytest.raises(ValidationError, match="not one an Administrator made"):
        users.set_user_role(custom, "rita", "Backdoor")
