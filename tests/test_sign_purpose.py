"""A certificate signs files only when its extensions allow it; `show` says so; the
signature carries the issuers found in the store, and openssl builds the chain from it."""

import io
import json

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from app.errors import CertdeskError
from app.services import certificate_import, signing
from models import AuditEvent, Certificate
from tests.helpers.certgen import key_usage

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
NOT_CA = (x509.BasicConstraints(ca=False, path_length=None), True)


def eku(*oids):
    return (x509.ExtendedKeyUsage(list(oids)), False)


REFUSED = {
    "CA": ([(x509.BasicConstraints(ca=True, path_length=None), True)], "basic constraints"),
    "key encipherment": ([NOT_CA, (key_usage("key_encipherment"), True)], "key usage lacks"),
    "TLS server": ([NOT_CA, eku(ExtendedKeyUsageOID.SERVER_AUTH)], "extended key usage"),
}
ALLOWED = {
    "code signing": [NOT_CA, eku(ExtendedKeyUsageOID.CODE_SIGNING)],
    "document signing": [eku(ExtendedKeyUsageOID.SERVER_AUTH, DOCUMENT_SIGNING)],
    "e-mail protection": [(key_usage("digital_signature"), True), eku(
        ExtendedKeyUsageOID.EMAIL_PROTECTION)],
    "time stamping": [NOT_CA, eku(ExtendedKeyUsageOID.TIME_STAMPING)],
    "any extended key usage": [eku(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE)],
    "no extended key usage limits it": [(key_usage("content_commitment"), True)],
}  # fmt: skip


def _import(session, tmp_path, certs, alias, extensions, issuer=None):
    cert, key = certs.issue(alias, extensions, issuer=issuer)
    path = certs.write(tmp_path, f"{alias}.p12", certs.p12(cert, key, None))
    assert certificate_import.import_files(session, [path]).imported == 1
    Certificate.update(owner=session.user_id).where(Certificate.alias == alias).execute()
    return cert


@pytest.mark.parametrize("kind", REFUSED)
def test_a_certificate_not_for_signing_is_refused_naming_the_extension(
    session, tmp_path, certs, kind
):
    extensions, named = REFUSED[kind]
    _import(session, tmp_path, certs, kind, extensions)
    with pytest.raises(CertdeskError, match=f"is not for signing: {named}"):
        signing.sign_data(session, kind, io.BytesIO(b"release"))
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
    assert (event.action, event.target, event.outcome) == ("certificate.sign", kind, "failed")
    assert named in json.loads(event.details)["why"]
    assert Certificate.get(Certificate.alias == kind).usage_count == 0
    verdict = signing.signing_purpose(session, kind)
    assert not verdict.allowed and verdict.text.startswith(f"refused: {named}")


@pytest.mark.parametrize("kind", ALLOWED)
def test_each_signing_usage_is_accepted(session, tmp_path, certs, kind):
    _import(session, tmp_path, certs, kind, ALLOWED[kind])
    signature = signing.sign_data(session, kind, io.BytesIO(b"release"))
    assert signature[:1] == b"\x30"
    assert Certificate.get(Certificate.alias == kind).usage_count == 1
    assert signing.signing_purpose(session, kind).text == f"allowed ({kind})"


def test_the_chain_from_the_store_is_embedded_and_openssl_verifies_to_the_root(
    cli, closed_store, tmp_path, certs
):
    root = certs.ca("Test Root CA")
    intermediate = certs.ca("Test Issuing CA", issuer=root)
    leaf, key = certs.issue(
        "Mail Signing",
        [NOT_CA, (key_usage("digital_signature"), True), eku(ExtendedKeyUsageOID.EMAIL_PROTECTION)],
        issuer=intermediate,
    )
    root_pem = certs.write(tmp_path, "root.pem", certs.pem(root[0]))
    files = [
        root_pem,
        certs.write(tmp_path, "issuing.pem", certs.pem(intermediate[0])),
        certs.write(tmp_path, "leaf.p12", certs.p12(leaf, key, None)),
    ]
    assert cli("import", *map(str, files)).returncode == 0
    assert cli("set", "Mail Signing", "--owner", "admin").returncode == 0
    payload = certs.write(tmp_path, "mail.txt", b"signed by the store\n")
    sig = tmp_path / "mail.sig"
    done = cli("sign", "Mail Signing", str(payload), "--out", str(sig))
    assert done.returncode == 0, done.stderr

    verified = certs.openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig),
        "-content", str(payload), "-CAfile", str(root_pem), "-out", "/dev/null",
    )  # fmt: skip
    assert b"Verification successful" in verified.stderr
    embedded = certs.openssl(
        "pkcs7", "-inform", "DER", "-in", str(sig), "-print_certs", "-noout"
    ).stdout.decode()
    for cn in ("Mail Signing", "Test Issuing CA", "Test Root CA"):
        assert f"subject=CN = {cn}" in embedded

    shown = cli("show", "Mail Signing").stdout
    assert "Signing:      allowed (e-mail protection)" in shown.splitlines()
    refused = json.loads(cli("show", "Test Issuing CA", "--json").stdout)
    assert refused["signing"] == {
        "allowed": False,
        "why": "basic constraints mark it as a CA certificate (CA:TRUE)",
    }
    assert json.loads(cli("show", "Mail Signing", "--json").stdout)["signing"] == {
        "allowed": True,
        "why": "e-mail protection",
    }
