"""Requests and renewals: key generated and sealed in the store, CSR to a CA (the real
`openssl`), the issued certificate imported against the request, settings carried over."""

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.cli import build_parser
from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.errors import CertdeskError, NotFoundError, PermissionDenied, ValidationError
from app.services import (
    certificate_edits,
    certificate_groups,
    certificate_import,
    certificates,
    journal,
    key_grants,
    signing_requests,
    users,
)
from app.services.certificate_edits import GeneralChanges
from models import (
    AuditEvent,
    Certificate,
    Policy,
    PolicyCertificate,
    PrivateKey,
    Request,
)
from models.base import utcnow
from models.permissions import AUDITOR, CERTIFICATE_MANAGER
from tests.helpers import certgen
from tests.helpers.cli import one_line_error
from tests.helpers.stores import PASSWORD, sign_in_as

EC = KeySpec("ECDSA", curve="P-256")
SPEC = RequestSpec(
    common_name="Build Signing", organization="Example", country="GB", dns_names=("b.example",)
)
LOOP = {
    "rsa-2048": "RSA 2048",
    "rsa-3072": "RSA 3072",
    "rsa-4096": "RSA 4096",
    "ec-p256": "EC P-256",
    "ec-p384": "EC P-384",
    "ec-p521": "EC P-521",
    "ed25519": "Ed25519",
}
SANS = (
    "dns:build.example.com",
    "email:release@example.com",
    "uri:https://example.com/signing",
    "ip:192.0.2.10",
)


@pytest.fixture
def ca(tmp_path, certs):
    """A CA made by openssl, in a folder of its own."""
    folder = tmp_path / "ca"
    folder.mkdir()
    certs.openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem"),
        "-subj", "/CN=Certdesk Test CA", "-days", "30",
    )  # fmt: skip
    return folder


def openssl_sign(certs, ca, csr_path, out):
    certs.openssl(
        "x509", "-req", "-in", str(csr_path), "-CA", str(ca / "ca.pem"),
        "-CAkey", str(ca / "ca.key"), "-copy_extensions", "copy", "-days", "30",
        "-out", str(out),
    )  # fmt: skip
    return out


def issue(csr_pem: str, days: int = 30) -> bytes:
    return certgen.issue_for_request(csr_pem, days)


def import_issued(session, tmp_path, info, name="issued.pem"):
    path = tmp_path / name
    path.write_bytes(issue(info.csr_pem))
    return certificate_import.import_files(session, [path]).files[0]


def row(session, alias):
    return next(r for r in certificates.list_certificates(session) if r.alias == alias)


@pytest.mark.parametrize("token", list(LOOP))
def test_full_loop_with_openssl_as_ca(cli, closed_store, ca, tmp_path, certs, token):
    alias = f"Loop {token}"
    csr_path = tmp_path / "req.csr"
    made = cli(
        "request", "new", "--alias", alias, "--subject", f"CN={alias},O=Example Ltd,C=GB",
        "--key", token, *(a for san in SANS for a in ("--san", san)),
        "--eku", "codeSigning", "--eku", "timeStamping", "--out", str(csr_path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert LOOP[token] in made.stdout
    # openssl 3.0 exits 0 even when the signature does not verify: read what it says.
    verified = certs.openssl("req", "-verify", "-in", str(csr_path), "-noout")
    assert b"verify OK" in verified.stdout + verified.stderr
    cert_path = openssl_sign(certs, ca, csr_path, tmp_path / "cert.pem")

    imported = cli("request", "import", str(cert_path))
    assert imported.returncode == 0, imported.stderr
    assert f"completed the request {alias!r}" in imported.stdout

    shown = cli("show", alias, "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["has_private_key"] is True and detail["key_algorithm"] == LOOP[token]
    assert detail["subject"] == f"CN={alias},O=Example Ltd,C=GB"
    extensions = {e["name"]: e for e in detail["extensions"]}
    sans = extensions["X509v3 Subject Alternative Name"]["value"]
    for expected in (
        "DNS:build.example.com",
        "email:release@example.com",
        "URI:https://example.com/signing",
        "IP Address:192.0.2.10",
    ):
        assert expected in sans
    assert extensions["X509v3 Extended Key Usage"]["value"] == "Code Signing, Time Stamping"

    listed = json.loads(cli("request", "list", "--json").stdout)
    assert [(r["alias"], r["status"], r["key_algorithm"]) for r in listed] == [
        (alias, "completed", LOOP[token])
    ]
    assert_no_plaintext_key(closed_store, cert_path)


def assert_no_plaintext_key(store_dir, cert_path):
    """The key opens with the administrator's keys, matches the certificate, and its
    PKCS#8 bytes appear in no file of the store."""
    session = users.sign_in(store_dir, "admin", password=PASSWORD)[0]
    try:
        (key_row,) = PrivateKey.select()
        pkcs8 = key_grants.open_key(session, key_row, key_row.uid)
    finally:
        session.close()
    key = serialization.load_der_private_key(pkcs8, None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert key.public_key().public_bytes(der, spki) == cert.public_key().public_bytes(der, spki)
    for path in store_dir.iterdir():
        data = path.read_bytes()
        assert pkcs8 not in data and b"PRIVATE KEY" not in data, path


def test_no_command_exports_a_private_key(cli):
    shown = cli("--help")
    assert shown.returncode == 0
    listing = shown.stdout.split("COMMAND\n", 1)[1].split("\noptions:", 1)[0]
    commands = dict(line.strip().split(None, 1) for line in listing.strip().splitlines())
    assert {"request", "renew", "export"} <= set(commands)
    assert not [c for c in commands if {"key", "p12", "pfx", "pkcs12"} & set(c.split("-"))]
    assert commands["export"] == "write a certificate to a .cer file"
    # Every option of every command: `--key` (request new, renew) only chooses a key
    # type, and export writes only the certificate.
    parser = build_parser()
    stack = [parser]
    while stack:
        current = stack.pop()
        for action in current._actions:
            if action.choices and isinstance(action.choices, dict):
                stack.extend(action.choices.values())
            for option in action.option_strings:
                assert option == "--key" or "key" not in option, option
                assert not {"p12", "pfx", "pkcs12", "pkcs8"} & set(option.strip("-").split("-"))
            if "--format" in action.option_strings:
                assert set(action.choices) == {"der", "pem"}


def test_request_records_everything_and_lists_newest_first(session, tmp_path):
    users.add_user(session, "bob", "a good long password", AUDITOR)
    first = signing_requests.create_request(
        session, "First", EC, SPEC, groups=["Release"], owner="bob"
    )
    second = signing_requests.create_request(session, "Second", KeySpec("Ed25519"), SPEC)
    assert first.status == "pending" and first.owner == "bob" and first.groups == ("Release",)
    assert first.key_algorithm == "EC P-256" and second.key_algorithm == "Ed25519"
    assert first.subject == "CN=Build Signing,O=Example,C=GB" and first.renews is None
    assert first.csr_pem.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert [r.id for r in signing_requests.list_requests(session)] == [second.id, first.id]
    assert signing_requests.get_request(session, first.id) == first
    with pytest.raises(NotFoundError):
        signing_requests.get_request(session, 999)
    assert PrivateKey.select().count() == 2
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions.count("request.create") == 2 and "group.create" in actions

    result = import_issued(session, tmp_path, first)
    assert result.ok and result.imported == ["First"] and result.requests_completed == ["First"]
    assert result.superseded == []
    new = row(session, "First")
    assert new.has_private_key and new.owner == "bob" and new.groups == ("Release",)
    done = signing_requests.get_request(session, first.id)
    assert done.status == "completed" and done.certificate == "First"
    assert Request.get_by_id(first.id).completed_at is not None
    assert [r.alias for r in signing_requests.list_requests(session)] == ["Second"]
    assert len(signing_requests.list_requests(session, include_closed=True)) == 2
    assert PrivateKey.select().count() == 2  # the request's key became the certificate's
    assert journal.chain_breaks() == []


def test_refused_values_name_their_field_and_generate_nothing(session, tmp_path, certs):
    certificate_import.import_files(
        session, [certs.write(tmp_path, "t.pem", certs.pem(certs.make_cert("Taken")[0]))]
    )
    signing_requests.create_request(session, "Pending", EC, SPEC)
    cases = [
        ("Taken", SPEC, {}, "alias"),
        ("Pending", SPEC, {}, "alias"),
        ("  ", SPEC, {}, "alias"),
        ("New", RequestSpec(subject="not a DN"), {}, "subject"),
        ("New", RequestSpec(common_name="X", key_usages=("key_encipherment",)), {}, "key_usages"),
        ("New", SPEC, {"owner": "nobody"}, "owner"),
        ("New", SPEC, {"renews": "ghost"}, "renews"),
        ("New", SPEC, {"groups": [" "]}, "groups"),
    ]
    for alias, spec, extra, field in cases:
        with pytest.raises(ValidationError) as refused:
            signing_requests.create_request(session, alias, EC, spec, **extra)
        assert refused.value.field == field, (alias, refused.value)
    assert PrivateKey.select().count() == 1 and Request.select().count() == 1


def test_cancel_destroys_the_key(session, tmp_path):
    info = signing_requests.create_request(session, "Doomed", EC, SPEC)
    key_id = Request.get_by_id(info.id).private_key_id
    signing_requests.cancel_request(session, info.id)
    assert PrivateKey.get_or_none(PrivateKey.id == key_id) is None
    cancelled = signing_requests.get_request(session, info.id)
    assert cancelled.status == "cancelled" and cancelled.key_algorithm == "EC P-256"
    assert signing_requests.list_requests(session) == []
    with pytest.raises(CertdeskError, match="only a pending request"):
        signing_requests.cancel_request(session, info.id)
    assert "request.cancel" in [e.action for e in AuditEvent.select()]
    # The alias is free again, and a certificate issued for the cancelled CSR is just a
    # certificate without a key.
    result = import_issued(session, tmp_path, info)
    assert result.requests_completed == [] and not row(session, "Build Signing").has_private_key
    signing_requests.create_request(session, "Doomed", EC, SPEC)


def test_certificate_matching_no_request_imports_plainly(session, tmp_path, certs):
    pending = signing_requests.create_request(session, "Waiting", EC, SPEC)
    path = certs.write(tmp_path, "other.pem", certs.pem(certs.make_cert("Unrelated")[0]))
    with pytest.raises(CertdeskError, match="matches no pending request"):
        signing_requests.import_issued(session, path)
    assert Certificate.select().count() == 0  # `request import` left the store unchanged
    result = certificate_import.import_files(session, [path]).files[0]
    assert result.imported == ["Unrelated"] and result.requests_completed == []
    assert signing_requests.get_request(session, pending.id).status == "pending"


def test_alias_taken_meanwhile_gets_a_unique_one(session, tmp_path, certs):
    info = signing_requests.create_request(session, "Build Signing", EC, SPEC)
    # A plain import does not know the request's alias and takes it first.
    certificate_import.import_files(
        session, [certs.write(tmp_path, "p.pem", certs.pem(certs.make_cert("Build Signing")[0]))]
    )
    result = import_issued(session, tmp_path, info)
    assert result.imported == ["Build Signing (2)"]
    assert row(session, "Build Signing (2)").has_private_key


def test_renewal_keeps_the_old_usable_then_hands_everything_over(session, tmp_path):
    users.add_user(session, "carol", "a good long password", AUDITOR)
    original = signing_requests.create_request(session, "Release", EC, SPEC)
    import_issued(session, tmp_path, original, "v1.pem")
    old_id = row(session, "Release").id
    certificate_groups.add_to_groups(session, ["Release"], ["Builds", "Prod"])
    changes = GeneralChanges(
        owner="carol", description="Release builds", ask_reason=True, pin="246813"
    )
    certificate_edits.edit_certificate(session, "Release", changes)
    policy = Policy.create(name="Release signers")
    PolicyCertificate.create(policy=policy, certificate=old_id)
    Certificate.update(usage_count=7).where(Certificate.id == old_id).execute()
    old_pin = Certificate.get_by_id(old_id).pin_hash

    key, spec = signing_requests.renewal_prefill(session, "Release")
    assert key == EC and spec.common_name == "Build Signing" and spec.dns_names == ("b.example",)
    renewal = signing_requests.renew(session, "Release", KeySpec("Ed25519"))
    assert (renewal.alias, renewal.renews, renewal.status) == ("Release", "Release", "pending")
    assert renewal.owner == "carol" and renewal.groups == ("Builds", "Prod")
    with pytest.raises(ValidationError) as twice:
        signing_requests.renew(session, "Release")
    assert twice.value.field == "alias"
    # Until the issued certificate is imported the old one is untouched and usable.
    before = row(session, "Release")
    assert before.id == old_id and before.enabled and before.has_private_key
    assert before.policies == ("Release signers",) and before.owner == "carol"

    result = import_issued(session, tmp_path, renewal, "v2.pem")
    superseded = f"Release (superseded {utcnow():%Y-%m-%d})"
    assert result.imported == ["Release"] and result.requests_completed == ["Release"]
    assert result.superseded == [superseded]
    new = row(session, "Release")
    assert new.id != old_id and new.enabled and new.has_private_key
    assert new.key_algorithm == "Ed25519" and new.usage_count == 0
    assert new.owner == "carol" and new.groups == ("Builds", "Prod")
    assert new.policies == ("Release signers",) and new.ask_reason and new.has_pin
    new_row = Certificate.get_by_id(new.id)
    assert new_row.description == "Release builds" and new_row.pin_hash == old_pin
    old = row(session, superseded)
    assert old.id == old_id and not old.enabled and old.has_private_key
    assert old.usage_count == 7 and old.groups == () and old.policies == ()
    assert signing_requests.get_request(session, renewal.id).renews == superseded
    renewed = AuditEvent.get(AuditEvent.action == "certificate.renewed")
    assert renewed.target == "Release" and superseded in renewed.details
    assert journal.chain_breaks() == []


def test_cli_renew_and_refusals(cli, closed_store, ca, tmp_path, certs):
    csr_path, cert_path = tmp_path / "v1.csr", tmp_path / "v1.pem"
    made = cli(
        "request", "new", "--alias", "Signer", "--subject", "CN=Signer,O=Example",
        "--key", "ec-p256", "--group", "Builds", "--owner", "admin", "--out", str(csr_path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    openssl_sign(certs, ca, csr_path, cert_path)
    assert cli("request", "import", str(cert_path)).returncode == 0
    shown = json.loads(cli("show", "Signer", "--json").stdout)
    assert shown["groups"] == ["Builds"] and shown["owner"] == "admin"
    eku = {e["name"]: e["value"] for e in shown["extensions"]}["X509v3 Extended Key Usage"]
    assert eku == "Code Signing"  # the default

    renewed_csr = tmp_path / "v2.csr"
    renewed = cli("renew", "Signer", "--out", str(renewed_csr))
    assert renewed.returncode == 0, renewed.stderr
    assert "stays enabled and usable" in renewed.stdout
    text = certs.openssl("req", "-in", str(renewed_csr), "-noout", "-subject", "-text").stdout
    assert b"CN = Signer" in text and b"NIST CURVE: P-256" in text
    pending = json.loads(cli("request", "list", "--json").stdout)[0]
    assert {k: pending[k] for k in ("alias", "renews", "status", "groups", "owner")} == {
        "alias": "Signer",
        "renews": "Signer",
        "status": "pending",
        "groups": ["Builds"],
        "owner": "admin",
    }
    assert pending["created"].endswith("Z")
    assert {
        "id", "alias", "subject", "key_algorithm", "created", "renews", "status", "groups",
        "owner",
    } <= set(pending)  # fmt: skip

    other = certs.write(tmp_path, "other.pem", certs.pem(certs.make_cert("Other")[0]))
    refused = cli("request", "import", str(other))
    assert refused.returncode == 1 and "matches no pending request" in one_line_error(refused)
    for args, expected in (
        (["--alias", "Signer"], "certdesk: --alias: 'Signer' is already in use"),
        (["--alias", "X", "--san", "ftp:x"], "certdesk: --san: 'ftp:x' is not TYPE:VALUE"),
        (["--alias", "X", "--key", "rsa-1024"], "certdesk: --key: unknown key type"),
        (["--alias", "X", "--subject", "CN=A,XX=1"], "certdesk: --subject: not an RFC 4514"),
    ):
        args = ["--subject", "CN=X", *args] if "--subject" not in args else args
        result = cli("request", "new", *args, "--out", str(tmp_path / "x.csr"))
        assert result.returncode == 1 and one_line_error(result).startswith(expected), result
    assert cli("request", "new", "--alias", "X", "--subject", "CN=X").returncode == 2
    assert cli("renew", "Signer").returncode == 2
    assert not (tmp_path / "x.csr").exists()

    renewed_cert = openssl_sign(certs, ca, renewed_csr, tmp_path / "v2.pem")
    completed = cli("import", str(renewed_cert))  # the ordinary import completes it too
    assert completed.returncode == 0, completed.stderr
    assert "completed the request 'Signer'" in completed.stdout
    assert "(superseded " in completed.stdout
    rows = {r["alias"]: r for r in json.loads(cli("list", "--json").stdout)}
    (old_alias,) = [a for a in rows if a.startswith("Signer (superseded ")]
    assert rows["Signer"]["enabled"] and not rows[old_alias]["enabled"]
    assert rows["Signer"]["groups"] == ["Builds"] and rows[old_alias]["groups"] == []


def test_auditor_is_refused_and_audited(session, store_dir, tmp_path):
    info = signing_requests.create_request(session, "Mine", EC, SPEC)
    auditor = sign_in_as(session, store_dir, "audrey", AUDITOR)
    try:
        for call in (
            lambda: signing_requests.create_request(auditor, "Theirs", EC, SPEC),
            lambda: signing_requests.renew(auditor, "Mine"),
            lambda: signing_requests.cancel_request(auditor, info.id),
            lambda: signing_requests.import_issued(auditor, tmp_path / "none.pem"),
        ):
            with pytest.raises(PermissionDenied):
                call()
        assert [r.alias for r in signing_requests.list_requests(auditor)] == ["Mine"]  # may view
        assert PrivateKey.select().count() == 1 and Request.select().count() == 1
        denied = AuditEvent.select().where(AuditEvent.outcome == "denied").count()
        assert denied == 4
    finally:
        auditor.close()


def test_renewing_a_disabled_certificate_gives_a_disabled_one(session, tmp_path):
    from app.services import lifecycle

    first = signing_requests.create_request(session, "Closed", EC, SPEC)
    import_issued(session, tmp_path, first, "closed.pem")
    lifecycle.disable_certificates(session, ["Closed"])
    renewal = signing_requests.renew(session, "Closed")
    import_issued(session, tmp_path, renewal, "renewed.pem")
    assert not row(session, "Closed").enabled  # renewing does not re-open it
    event = AuditEvent.select().where(AuditEvent.action == "certificate.renewed").get()
    assert json.loads(event.details)["enabled"] is False


def test_a_renamed_certificate_keeps_its_one_pending_renewal(session, tmp_path):
    first = signing_requests.create_request(session, "Named", EC, SPEC)
    import_issued(session, tmp_path, first, "named.pem")
    cert_id = row(session, "Named").id
    signing_requests.renew(session, cert_id)
    certificate_edits.edit_certificate(session, cert_id, GeneralChanges(alias="Renamed"))
    with pytest.raises(ValidationError, match="already renews"):
        signing_requests.renew(session, "Renamed")


def test_choosing_a_requests_owner_needs_the_policies_permission(session, store_dir):
    """An owner may sign: giving the issued certificate one is granting, as a policy is."""
    manager = sign_in_as(session, store_dir, "mia", CERTIFICATE_MANAGER)
    try:
        with pytest.raises(PermissionDenied, match=r"policies\.manage"):
            signing_requests.create_request(manager, "Owned", EC, SPEC, owner="mia")
        signing_requests.create_request(manager, "Unowned", EC, SPEC)
        assert [r.alias for r in signing_requests.list_requests(manager)] == ["Unowned"]
        (denied,) = AuditEvent.select().where(AuditEvent.outcome == "denied")
        assert (denied.action, denied.target) == ("request.create", "Owned")
    finally:
        manager.close()
