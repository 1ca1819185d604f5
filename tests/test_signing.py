"""Policies decide who signs with what and when; `sign` makes a CMS signature openssl
verifies, counts the use, and refuses (audited) what is not allowed."""

import datetime as dt
import io
import json

import pytest

from app.errors import ValidationError
from app.services import certificate_groups, certificate_import, policies, users
from app.services.policies import PolicySpec
from models import Certificate, User
from models.permissions import SIGNER
from tests.helpers.cli import one_line_error

MONDAY_NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def setup(session, tmp_path, certs):
    cert, key = certs.make_cert("Shared Signing", days=400)
    certificate_import.import_files(
        session, [certs.write(tmp_path, "s.p12", certs.p12(cert, key, None))]
    )
    certificate_groups.add_to_groups(session, ["Shared Signing"], ["Release"])
    users.add_user(session, "sam", "a good long password", SIGNER, ["Builders"])
    return session


def decide(name="sam", alias="Shared Signing", when=MONDAY_NOON):
    user = User.get(User.name == name)
    return policies.decide(user, Certificate.get(Certificate.alias == alias), when)


def test_no_policy_no_signing_but_the_owner_may(setup):
    assert not decide().allowed and "no policy" in decide().why
    Certificate.update(owner=User.get(User.name == "sam")).execute()
    assert decide().allowed and decide().why == "owner"


def test_allow_through_groups_and_deny_by_priority(setup):
    policies.add_policy(
        setup, PolicySpec("Builders sign releases", certificate_groups=("Release",),
                          user_groups=("Builders",))
    )  # fmt: skip
    assert decide().allowed
    policies.add_policy(
        setup, PolicySpec("Freeze", certificates=("Shared Signing",), users=("sam",), deny=True,
                          priority=100)
    )  # fmt: skip
    assert not decide().allowed  # same priority: Deny before Allow
    policies.add_policy(
        setup, PolicySpec("Hotfix", certificates=("Shared Signing",), users=("sam",), priority=0)
    )
    assert decide().allowed and "Hotfix" in decide().why


def test_schedules(setup):
    policies.add_policy(
        setup, PolicySpec("Office hours", certificates=("Shared Signing",), users=("sam",),
                          days="mon-fri", hours="08:00-18:00",
                          date_until=dt.date(2026, 12, 31))
    )  # fmt: skip
    assert decide(when=MONDAY_NOON).allowed
    assert not decide(when=MONDAY_NOON.replace(hour=19)).allowed
    assert not decide(when=MONDAY_NOON - dt.timedelta(days=2)).allowed  # Saturday
    assert not decide(when=MONDAY_NOON + dt.timedelta(days=35)).allowed  # after the end


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (PolicySpec("X", certificates=("Shared Signing",)), "users"),
        (PolicySpec("X", users=("sam",)), "certificates"),
        (PolicySpec("X", certificates=("Nope",), users=("sam",)), "certificates"),
        (
            PolicySpec("X", certificates=("Shared Signing",), users=("sam",), days="weekends"),
            "days",
        ),
        (PolicySpec("X", certificates=("Shared Signing",), users=("sam",), hours="18-08"), "hours"),
    ],
)
def test_policy_refusals_name_the_field(setup, spec, field):
    with pytest.raises(ValidationError) as refused:
        policies.add_policy(setup, spec)
    assert refused.value.field == field
    assert policies.list_policies(setup) == []


def test_cli_sign_verify_count_pin_reason_and_refusal(cli, closed_store, tmp_path, certs):
    cert, key = certs.make_cert("Release Signing", key=certs.rsa_key())
    (tmp_path / "cert.pem").write_bytes(certs.pem(cert))
    assert (
        cli("import", str(certs.write(tmp_path, "r.p12", certs.p12(cert, key, None)))).returncode
        == 0
    )
    payload = certs.write(tmp_path, "app.bin", b"the release build\x00\x01")

    refused = cli("sign", "Release Signing", str(payload), "--out", str(tmp_path / "no.sig"))
    assert refused.returncode == 1 and "no policy allows it" in one_line_error(refused)
    assert not (tmp_path / "no.sig").exists()

    assert cli("set", "Release Signing", "--owner", "admin").returncode == 0
    sig = tmp_path / "app.sig"
    done = cli("sign", "Release Signing", str(payload), "--out", str(sig))
    assert done.returncode == 0, done.stderr
    assert certs.verify_detached(sig, payload)
    row = json.loads(cli("show", "Release Signing", "--json").stdout)
    assert row["usage_count"] == 1 and row["last_used"].endswith("Z")

    assert (
        cli(
            "set", "Release Signing", "--pin-env", "P", "--ask-reason", env_extra={"P": "246813"}
        ).returncode
        == 0
    )
    out = str(tmp_path / "2.sig")
    no_pin = cli("sign", "Release Signing", str(payload), "--out", out)
    assert no_pin.returncode == 1 and "CERTDESK_PIN" in one_line_error(no_pin)
    wrong = cli("sign", "Release Signing", str(payload), "--out", out,
                env_extra={"CERTDESK_PIN": "1111"})  # fmt: skip
    assert wrong.returncode == 1 and "wrong PIN" in one_line_error(wrong)
    no_reason = cli("sign", "Release Signing", str(payload), "--out", out,
                    env_extra={"CERTDESK_PIN": "246813"})  # fmt: skip
    assert no_reason.returncode == 1 and "reason" in one_line_error(no_reason)
    ok = cli("sign", "Release Signing", str(payload), "--out", out, "--reason", "release 1.2",
             env_extra={"CERTDESK_PIN": "246813"})  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    events = json.loads(cli("audit", "--json").stdout)
    signs = [e for e in events if e["action"] == "certificate.sign"]
    # The missing PIN is caught before any attempt; the wrong PIN and the missing reason
    # are attempts, refused and recorded.
    assert [e["outcome"] for e in signs] == ["denied", "allowed", "failed", "failed", "allowed"]
    assert signs[-1]["details"]["reason"] == "release 1.2"
    assert "246813" not in json.dumps(events)
    assert cli("policy", "list", "--json").stdout.strip() == "[]"


def test_cli_policy_lets_a_signer_sign(cli, closed_store, tmp_path, certs):
    cert, key = certs.make_cert("Team Signing")
    assert (
        cli("import", str(certs.write(tmp_path, "t.p12", certs.p12(cert, key, None)))).returncode
        == 0
    )
    new_user = {"CERTDESK_NEW_PASSWORD": "sams long password"}
    assert cli("user", "add", "sam", "--user-group", "Builders", env_extra=new_user).returncode == 0
    as_sam = {"CERTDESK_USER": "sam", "CERTDESK_PASSWORD": "sams long password"}
    payload = certs.write(tmp_path, "a.bin", b"build")
    first = cli(
        "sign", "Team Signing", str(payload), "--out", str(tmp_path / "1.sig"), env_extra=as_sam
    )
    assert first.returncode == 1
    bad = cli("policy", "add", "Broken", "--cert", "Team Signing", "--user-group", "Builders",
              "--hours", "25:00-26:00")  # fmt: skip
    assert bad.returncode == 1 and one_line_error(bad).startswith("certdesk: --hours:")
    added = cli("policy", "add", "Builders sign", "--cert", "Team Signing", "--user-group",
                "Builders", "--days", "mon-sun")  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli("policy", "list", "--json").stdout)
    assert listed[0]["user_groups"] == ["Builders"] and listed[0]["effect"] == "allow"
    again = cli(
        "sign", "Team Signing", str(payload), "--out", str(tmp_path / "2.sig"), env_extra=as_sam
    )
    assert again.returncode == 0, again.stderr


def test_an_ed25519_key_is_refused_before_it_is_unsealed(session, tmp_path, certs):

    from app.errors import CertdeskError
    from app.services import signing
    from models import AuditEvent

    cert, key = certs.ed25519_cert()
    certificate_import.import_files(
        session, [certs.write(tmp_path, "e.p12", certs.p12(cert, key, None))]
    )
    Certificate.update(owner=session.user_id).execute()
    with pytest.raises(CertdeskError, match="RSA or ECDSA"):
        signing.sign_data(session, "Edwards", io.BytesIO(b"data"))
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
    assert (event.action, event.outcome) == ("certificate.sign", "failed")
    assert Certificate.get(Certificate.alias == "Edwards").usage_count == 0


def test_a_deny_stops_even_the_owner_and_priorities_are_bounded(setup):
    Certificate.update(owner=User.get(User.name == "sam")).execute()
    policies.add_policy(
        setup, PolicySpec("Freeze", certificate_groups=("Release",), users=("sam",), deny=True)
    )
    assert not decide().allowed and "even to the owner" in decide().why
    for priority in (-5, 10**20):
        with pytest.raises(ValidationError, match="0 \\(the highest\\)"):
            policies.add_policy(
                setup,
                PolicySpec("Sneaky", certificates=("Shared Signing",), users=("sam",),
                           priority=priority),
            )  # fmt: skip
    User.update(enabled=False).where(User.name == "sam").execute()
    assert decide().why == "the user is disabled"


def test_sign_claims_the_output_first_and_refuses_control_characters(
    cli, closed_store, tmp_path, certs
):
    cert, key = certs.make_cert("Out Signing")
    assert (
        cli("import", str(certs.write(tmp_path, "o.p12", certs.p12(cert, key, None)))).returncode
        == 0
    )
    assert cli("set", "Out Signing", "--owner", "admin").returncode == 0
    payload = certs.write(tmp_path, "p.bin", b"payload")
    nowhere = cli("sign", "Out Signing", str(payload), "--out", str(tmp_path / "no" / "s.sig"))
    assert nowhere.returncode == 1 and "cannot create" in one_line_error(nowhere)
    (tmp_path / "link.sig").symlink_to(tmp_path / "target.sig")
    linked = cli("sign", "Out Signing", str(payload), "--out", str(tmp_path / "link.sig"))
    assert linked.returncode == 1 and not (tmp_path / "target.sig").exists()
    forged = cli("sign", "Out Signing", str(payload), "--out", str(tmp_path / "f.sig"),
                 "--reason", "ok\n2099-01-01  admin  allowed  store.backup")  # fmt: skip
    assert forged.returncode == 1 and "control characters" in one_line_error(forged)
    assert not (tmp_path / "f.sig").exists()
    shown = json.loads(cli("show", "Out Signing", "--json").stdout)
    assert shown["usage_count"] == 0
