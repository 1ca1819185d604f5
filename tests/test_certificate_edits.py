"""The General settings: alias, owner, description, reason and PIN, via the service and `set`."""

import json

import pytest

from app.crypto.pins import pin_matches
from app.errors import PermissionDenied, ValidationError
from app.services import certificate_groups, certificates, users
from app.services.certificate_edits import GeneralChanges, access_refusal, edit_certificate
from models import AuditEvent, Certificate
from models.permissions import AUDITOR, CERTIFICATE_MANAGER, SIGNER
from tests.helpers.cli import one_line_error
from tests.helpers.stores import import_some


def test_every_field_is_saved_and_rename_keeps_groups(session, tmp_path, certs):
    import_some(session, tmp_path, certs, ["Old Name"])
    certificate_groups.add_to_groups(session, ["Old Name"], ["Release"])
    users.add_user(session, "alice", "a good long password", SIGNER)
    row = edit_certificate(
        session,
        "Old Name",
        GeneralChanges(
            alias="  New   Name ",
            owner="alice",
            description="Signs the nightly builds.\nAsk Bob first.",
            ask_reason=True,
            pin="246813",
        ),
    )
    assert (row.alias, row.owner, row.ask_reason, row.has_pin) == ("New Name", "alice", True, True)
    assert row.groups == ("Release",)
    stored = Certificate.get(Certificate.alias == "New Name")
    assert stored.description == "Signs the nightly builds.\nAsk Bob first."
    assert stored.pin_hash.startswith("$argon2id$") and "246813" not in stored.pin_hash
    assert pin_matches("246813", stored.pin_hash) and not pin_matches("246814", stored.pin_hash)
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
    assert event.action == "certificate.edit" and "246813" not in event.details
    assert json.loads(event.details)["pin"] == "set"
    row = edit_certificate(session, "New Name", GeneralChanges(clear_owner=True, clear_pin=True))
    assert row.owner is None and not row.has_pin


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (GeneralChanges(alias="   "), "alias"),
        (GeneralChanges(alias="Taken"), "alias"),
        (GeneralChanges(owner="nobody"), "owner"),
        (GeneralChanges(pin="12"), "pin"),
        (GeneralChanges(pin="12345"), "pin"),  # six characters at least
        (GeneralChanges(description="x" * 5000), "description"),
    ],
)
def test_refusals_name_the_field_and_change_nothing(session, tmp_path, certs, changes, field):
    import_some(session, tmp_path, certs, ["Mine", "Taken"])
    before = [(c.alias, c.owner_id, c.pin_hash, c.description) for c in Certificate.select()]
    with pytest.raises(ValidationError) as refused:
        edit_certificate(session, "Mine", changes)
    assert refused.value.field == field
    after = [(c.alias, c.owner_id, c.pin_hash, c.description) for c in Certificate.select()]
    assert after == before


def test_editing_needs_the_permission(session, store_dir, tmp_path, certs):
    import_some(session, tmp_path, certs, ["Mine"])
    users.add_user(session, "audrey", "auditor password", AUDITOR)
    session.close()
    auditor, _ = users.sign_in(store_dir, "audrey", password="auditor password")
    try:
        with pytest.raises(PermissionDenied, match=r"certificates\.edit"):
            edit_certificate(auditor, "Mine", GeneralChanges(description="no"))
        assert certificates.get_certificate(auditor, "Mine").description == ""
    finally:
        auditor.close()


@pytest.mark.parametrize(
    "changes",
    [
        GeneralChanges(owner="manny"),
        GeneralChanges(clear_owner=True),
        GeneralChanges(ask_reason=False),
        GeneralChanges(pin="975310"),
        GeneralChanges(clear_pin=True),
        GeneralChanges(alias="Renamed", clear_pin=True),  # the rest of an edit waits too
    ],
)
def test_owner_pin_and_reason_need_the_policies_permission(
    session, store_dir, tmp_path, certs, changes
):
    # They decide who may sign and how: a Certificate Manager who set himself as owner, or
    # took off the PIN of a key others are granted, would grant what policies grant.
    import_some(session, tmp_path, certs, ["Shared"])
    edit_certificate(
        session, "Shared", GeneralChanges(owner="admin", ask_reason=True, pin="246813")
    )
    users.add_user(session, "manny", "a good long password", CERTIFICATE_MANAGER)
    session.close()
    manager, _ = users.sign_in(store_dir, "manny", password="a good long password")
    try:
        assert access_refusal(manager) == "Your role (Certificate Manager) may not manage policies."
        with pytest.raises(PermissionDenied, match=r"policies\.manage"):
            edit_certificate(manager, "Shared", changes)
        denied = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
        assert (denied.user, denied.action, denied.outcome) == (
            "manny",
            "certificate.edit",
            "denied",
        )
        row = certificates.get_certificate(manager, "Shared").row
        assert (row.alias, row.owner, row.ask_reason, row.has_pin) == ("Shared", "admin", 1, 1)
        # The rest of the General settings are the edit permission's.
        renamed = edit_certificate(manager, "Shared", GeneralChanges(alias="Renamed"))
        assert renamed.alias == "Renamed"
    finally:
        manager.close()


def test_cli_set(cli, closed_store, tmp_path, certs):
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Signer")[0]))
    assert cli("import", str(path)).returncode == 0
    done = cli(
        "set", "Signer", "--owner", "admin", "--description", "CI key", "--ask-reason",
        "--pin-env", "NEW_PIN", "--rename", "CI Signer", env_extra={"NEW_PIN": "975310"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(cli("show", "CI Signer", "--json").stdout)
    assert (shown["owner"], shown["description"], shown["ask_reason"], shown["has_pin"]) == (
        "admin",
        "CI key",
        True,
        True,
    )
    refused = cli("set", "CI Signer", "--owner", "ghost")
    assert refused.returncode == 1
    assert one_line_error(refused) == "certdesk: owner: no user named 'ghost'"
    assert cli("set", "CI Signer").returncode == 2
    assert cli("set", "CI Signer", "--no-pin", "--no-ask-reason").returncode == 0
    shown = json.loads(cli("show", "CI Signer", "--json").stdout)
    assert not shown["has_pin"] and not shown["ask_reason"]
