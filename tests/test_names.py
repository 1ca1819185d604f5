"""Aliases and names hold no terminal control or bidi characters, one alias rule holds for
every alias typed, and text from certificates is printed escaped by the CLI."""

import datetime as dt
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.errors import ValidationError
from app.services import certificate_import
from app.services.names import check_name
from models import Certificate
from tests.helpers.cli import one_line_error
from tests.helpers.stores import make_store

MAX_ALIAS_LENGTH = 200
CONTROLS = {"\x1b": "U+001B", "\x07": "U+0007", "\u202e": "U+202E"}
NEW_PASSWORD = {"CERTDESK_NEW_PASSWORD": "a long new password"}


def store_with(cli, store_dir, tmp_path, certs, alias: str = "Good") -> None:
    make_store(store_dir)
    pem = certs.write(tmp_path, "good.pem", certs.pem(certs.make_cert("Good CN")[0]))
    assert cli("import", str(pem), "--alias", alias).returncode == 0


def audit_events(cli) -> list:
    """Every change to the store leaves an event: a refused command leaves none."""
    return json.loads(cli("audit", "--json").stdout)


# Where each command takes the name refused, the file it imports, the CSR it would write.
BAD, OTHER, OUT = object(), object(), object()
REQUEST = ("request", "new", "--subject", "CN=X", "--key", "ec-p256")
# Each field through its command, and how the refusal names it.
FIELDS = {
    "import --alias": (("import", OTHER, "--alias", BAD), "alias"),
    "set --rename": (("set", "Good", "--rename", BAD), "alias"),
    "request new --alias": ((*REQUEST, "--alias", BAD, "--out", OUT), "--alias"),
    "user add NAME": (("user", "add", BAD), "user name"),
    "user add --user-group": (("user", "add", "bob", "--user-group", BAD), "user group"),
    "group add GROUP": (("group", "add", BAD, "Good"), "group name"),
    "request new --group": ((*REQUEST, "--alias", "X", "--group", BAD, "--out", OUT), "--group"),
    "policy add NAME": (("policy", "add", BAD, "--cert", "Good", "--user", "admin"), "policy name"),
}


def test_each_name_refuses_control_characters(cli, store_dir, tmp_path, certs):
    store_with(cli, store_dir, tmp_path, certs)
    other = certs.write(tmp_path, "other.pem", certs.pem(certs.make_cert("Other")[0]))
    before = audit_events(cli)
    controls = list(CONTROLS.items())
    # One process per field, the characters taken in turn: every field and every kind
    # of character is seen, and the rule they share is checked for all in-process below.
    for i, (field, (template, named)) in enumerate(FIELDS.items()):
        control, code = controls[i % len(controls)]
        values = {BAD: f"Bad{control}Name", OTHER: str(other), OUT: str(tmp_path / "x.csr")}
        result = cli(*(values.get(a, a) for a in template), env_extra=NEW_PASSWORD)
        assert result.returncode == 1, (field, code, result.stdout)
        line = one_line_error(result)
        assert control not in line
        assert f"{named}: " in line and line.endswith(
            f"must not contain control characters ({code})"
        ), (field, line)
    assert audit_events(cli) == before
    assert not (tmp_path / "x.csr").exists()


def test_the_name_rule_refuses_every_control_kind():
    for control, code in CONTROLS.items():
        with pytest.raises(ValidationError, match=re.escape(f"control characters ({code})")):
            check_name("user name", f"Bad{control}Name", 64)


def control_laden_certificate() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Evil\x1b[2J\u202eName\x07"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Org\x1b[31m"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("evil\x1b]0;owned\x07.example")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )


def assert_no_raw_controls(text: str) -> None:
    assert not any(control in text for control in CONTROLS), repr(text)


def import_control_laden(cli, store_dir, tmp_path, certs):
    make_store(store_dir)
    pem = certs.write(tmp_path, "evil.pem", certs.pem(control_laden_certificate()))
    imported = cli("import", str(pem))
    assert imported.returncode == 0, imported.stderr
    return imported


def test_an_alias_derived_from_a_cn_has_its_controls_replaced(cli, store_dir, tmp_path, certs):
    import_control_laden(cli, store_dir, tmp_path, certs)
    (row,) = json.loads(cli("list", "--json").stdout)
    assert row["alias"] == "Evil [2J Name"  # each control character became a space
    assert "\x1b" in row["subject"]  # the certificate's own text is kept as it is
    events = json.loads(cli("audit", "--json").stdout)
    assert "Evil [2J Name" in {e["target"] for e in events if e["action"] == "certificate.import"}


def test_list_show_audit_and_request_list_print_certificate_text_escaped(
    cli, store_dir, tmp_path, certs
):
    imported = import_control_laden(cli, store_dir, tmp_path, certs)
    listed = cli("list")
    assert "Evil [2J Name" in listed.stdout
    shown = cli("show", "Evil [2J Name")
    assert "Org\\x1b[31m" in shown.stdout and "evil\\x1b]0;owned\\x07.example" in shown.stdout
    request = cli(
        "request", "new", "--alias", "Evil Request", "--subject", "CN=Evil\x1b[2J\u202eRequest",
        "--key", "ec-p256", "--out", str(tmp_path / "r.csr"),
    )  # fmt: skip
    assert request.returncode == 0, request.stderr
    requests = cli("request", "list")
    assert "CN=Evil\\x1b[2J\\u202eRequest" in requests.stdout
    for output in (imported, listed, shown, requests, cli("audit")):
        assert output.returncode == 0, output.stderr
        assert_no_raw_controls(output.stdout)


def test_a_long_alias_is_refused_alike_by_import_and_rename(cli, store_dir, tmp_path, certs):
    store_with(cli, store_dir, tmp_path, certs)
    other = certs.write(tmp_path, "other.pem", certs.pem(certs.make_cert("Other")[0]))
    long_alias = "x" * 10_000
    imported = cli("import", str(other), "--alias", long_alias)
    renamed = cli("set", "Good", "--rename", long_alias)
    assert imported.returncode == renamed.returncode == 1
    refusal = f"certdesk: alias: at most {MAX_ALIAS_LENGTH} characters (not 10,000)"
    assert one_line_error(imported) == one_line_error(renamed) == refusal
    assert [r["alias"] for r in json.loads(cli("list", "--json").stdout)] == ["Good"]


def test_numbered_aliases_stay_within_the_limit(session, tmp_path, certs):
    bundle = b"".join(certs.pem(certs.make_cert(f"Part {i}")[0]) for i in range(3))
    path = certs.write(tmp_path, "bundle.pem", bundle)
    longest = "A" * MAX_ALIAS_LENGTH
    assert certificate_import.import_files(session, [path], alias=longest).imported == 3
    stored = [c.alias for c in Certificate.select().order_by(Certificate.id)]
    assert stored[0] == longest
    assert len(set(stored)) == 3 and all(len(alias) <= MAX_ALIAS_LENGTH for alias in stored)
    assert stored[1].endswith("A (2)") and stored[2].endswith("A (3)")
