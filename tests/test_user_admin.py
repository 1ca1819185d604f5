"""Disabling, enabling and changing the role of a user (issue 12, part 8): what they may
do from their next sign-in, never a store left without an enabled Administrator."""

import pytest

from app.errors import AuthenticationError, NotFoundError, ValidationError
from app.services import users
from models import AuditEvent, User
from models.base import using
from tests.helpers.stores import PASSWORD

BOB = "a good long password"


def _events(session) -> list[tuple]:
    # On the session's database: a refused sign-in elsewhere leaves the models unbound.
    with using(session.store.db):
        return [
            (e.user, e.action, e.target, e.details)
            for e in AuditEvent.select().order_by(AuditEvent.id)
        ]


def test_a_disabled_user_cannot_sign_in_until_enabled_again(session, store_dir):
    users.add_user(session, "bob", BOB, "Signer")
    assert users.disable_user(session, "bob") is True
    assert _events(session)[-1][:3] == ("admin", "user.disable", "bob")
    events = _events(session)
    assert users.disable_user(session, "bob") is False  # nothing to do, nothing recorded
    assert _events(session) == events
    with pytest.raises(AuthenticationError, match="'bob' is not allowed to sign in"):
        users.sign_in(store_dir, "bob", password=BOB)
    assert [r.enabled for r in users.list_users(session) if r.name == "bob"] == [False]
    assert users.enable_user(session, "bob") is True
    assert _events(session)[-1][:3] == ("admin", "user.enable", "bob")
    users.sign_in(store_dir, "bob", password=BOB)[0].close()


def test_a_new_role_holds_from_the_next_sign_in(session, store_dir):
    users.add_user(session, "bob", BOB, "Signer")
    bob, _ = users.sign_in(store_dir, "bob", password=BOB)
    try:
        assert users.set_user_role(session, "bob", "Auditor") is True
        assert _events(session)[-1] == (
            "admin",
            "user.role",
            "bob",
            '{"role": "Auditor", "was": "Signer"}',
        )
        assert bob.role == "Signer"  # the session open goes on as it began
        assert users.set_user_role(session, "bob", "Auditor") is False
    finally:
        bob.close()
    again, _ = users.sign_in(store_dir, "bob", password=BOB)
    try:
        assert again.role == "Auditor" and again.can("audit.view") and not again.can("sign")
    finally:
        again.close()


def test_the_last_enabled_administrator_stays_one(session, store_dir):
    for change in (
        lambda: users.disable_user(session, "admin"),
        lambda: users.set_user_role(session, "admin", "Signer"),
    ):
        with pytest.raises(ValidationError, match="'admin' is the last enabled Administrator"):
            change()
    users.add_user(session, "carol", BOB, "Administrator")
    users.disable_user(session, "carol")
    with pytest.raises(ValidationError, match="last enabled Administrator"):
        users.set_user_role(session, "admin", "Signer")  # a disabled one does not count
    users.enable_user(session, "carol")
    assert users.set_user_role(session, "admin", "Certificate Manager") is True
    with pytest.raises(ValidationError, match="'carol' is the last enabled Administrator"):
        users.disable_user(session, "carol")
    with using(session.store.db):
        assert User.get(User.name == "admin").role.name == "Certificate Manager"


@pytest.mark.parametrize(
    ("change", "error", "says"),
    [
        (lambda s: users.disable_user(s, "nobody"), NotFoundError, "No user 'nobody'"),
        (lambda s: users.set_user_role(s, "nobody", "Signer"), NotFoundError, "No user"),
        (lambda s: users.set_user_role(s, "admin", "Boss"), ValidationError, "no role named"),
    ],
)
def test_a_change_of_no_user_or_role_is_refused_and_changes_nothing(session, change, error, says):
    events = _events(session)
    with pytest.raises(error, match=says):
        change(session)
    assert _events(session) == events


def test_the_cli_disables_enables_and_gives_roles(cli, session):
    users.add_user(session, "bob", BOB, "Signer")
    session.close()
    assert cli("user", "disable", "bob").stdout == "Disabled the user 'bob'.\n"
    assert cli("user", "disable", "bob").stdout == "The user 'bob' is already disabled.\n"
    assert "bob  Signer  (disabled)" in cli("user", "list").stdout
    assert cli("user", "enable", "bob").stdout == "Enabled the user 'bob'.\n"
    changed = cli("user", "role", "bob", "Auditor")
    assert changed.stdout == "'bob' is now Auditor, from their next sign-in.\n"
    refused = cli("user", "disable", "admin")
    assert refused.returncode == 1
    assert "'admin' is the last enabled Administrator" in refused.stderr
    unknown = cli("user", "role", "bob", "Boss")
    assert (unknown.returncode, unknown.stderr) == (1, "certdesk: role: no role named 'Boss'\n")
    assert PASSWORD not in refused.stderr + refused.stdout
