"""Key generation and CSR building, checked by the real `openssl req -verify -text`."""

import datetime as dt
import subprocess
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from app.crypto import csr, keygen
from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.errors import ValidationError

SPECS = {
    "rsa-2048": (KeySpec("RSA", 2048), "sha256WithRSAEncryption", "Public-Key: (2048 bit)"),
    "ec-p256": (KeySpec("ECDSA", curve="P-256"), "ecdsa-with-SHA256", "NIST CURVE: P-256"),
    "ec-p384": (KeySpec("ECDSA", curve="P-384"), "ecdsa-with-SHA384", "NIST CURVE: P-384"),
    "ec-p521": (KeySpec("ECDSA", curve="P-521"), "ecdsa-with-SHA512", "NIST CURVE: P-521"),
    "ed25519": (KeySpec("Ed25519"), "ED25519", "ED25519 Public-Key"),
}
INDENT = " " * 20  # where `openssl req -text` puts an extension's value
FULL = RequestSpec(
    common_name="Release Signing",
    organization="Example, Ltd",
    organizational_unit="Build",
    locality="Leeds",
    state="West Yorkshire",
    country="GB",
    email="release@example.com",
    dns_names=("build.example.com", "*.ci.example.com"),
    emails=("ops@example.com",),
    uris=("https://example.com/signing",),
    ips=("192.0.2.10",),
    key_usages=("digital_signature", "content_commitment"),
    extended_key_usages=("codeSigning", "timeStamping"),
)


@cache
def key_for(spec: KeySpec):
    return keygen.generate_key(spec)


def openssl_req(tmp_path, request: x509.CertificateSigningRequest) -> str:
    """The `-text` of a CSR whose self-signature openssl has verified."""
    path = tmp_path / "request.csr"
    path.write_text(csr.csr_pem(request))
    done = subprocess.run(
        ["openssl", "req", "-in", str(path), "-verify", "-noout", "-text"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "self-signature verify OK" in done.stdout + done.stderr
    return done.stdout


def openssl_cert(tmp_path, subj: str, *addext: str) -> x509.Certificate:
    args = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]
    args += ["-nodes", "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem")]
    args += ["-days", "30", "-subj", subj]
    for extension in addext:
        args += ["-addext", extension]
    subprocess.run(args, capture_output=True, check=True, timeout=60)
    return x509.load_pem_x509_certificate((tmp_path / "c.pem").read_bytes())


@pytest.mark.parametrize("token", SPECS)
def test_each_key_type_makes_a_csr_openssl_verifies(tmp_path, token):
    spec, signature, public_key = SPECS[token]
    key = key_for(spec)
    assert keygen.spec_of_public_key(key.public_key()) == spec
    text = openssl_req(tmp_path, csr.build_csr(key, FULL))
    assert "Subject: C = GB, ST = West Yorkshire, L = Leeds, " in text
    assert 'O = "Example, Ltd", OU = Build, CN = Release Signing' in text
    assert "emailAddress = release@example.com" in text
    assert public_key in text
    assert f"Signature Algorithm: {signature}" in text
    assert "X509v3 Subject Alternative Name: \n" in text  # not critical
    assert (
        "DNS:build.example.com, DNS:*.ci.example.com, email:ops@example.com, "
        "URI:https://example.com/signing, IP Address:192.0.2.10"
    ) in text
    assert f"X509v3 Key Usage: critical\n{INDENT}Digital Signature, Non Repudiation" in text
    assert f"X509v3 Extended Key Usage: \n{INDENT}Code Signing, Time Stamping" in text


def test_the_summary_lists_exactly_what_openssl_reads(tmp_path):
    text = openssl_req(tmp_path, csr.build_csr(key_for(SPECS["ec-p256"][0]), FULL))
    planned = csr.planned_extensions(FULL)
    assert [p.name for p in planned] == [
        "Subject Alternative Name",
        "Key Usage",
        "Extended Key Usage",
    ]
    for extension in planned:
        critical = " critical" if extension.critical else " "
        assert f"X509v3 {extension.name}:{critical}\n{INDENT}{extension.value}\n" in text


def test_a_chosen_hash_is_used_and_the_default_follows_the_key(tmp_path):
    key = key_for(SPECS["rsa-2048"][0])
    text = openssl_req(tmp_path, csr.build_csr(key, RequestSpec(common_name="x", hash="SHA-512")))
    assert "Signature Algorithm: sha512WithRSAEncryption" in text
    assert [keygen.default_hash(spec) for spec, *_ in SPECS.values()] == [
        "SHA-256",
        "SHA-256",
        "SHA-384",
        "SHA-512",
        None,
    ]


def test_a_san_only_request_marks_the_names_critical(tmp_path):
    spec = RequestSpec(dns_names=["only.example.com"], extended_key_usages=())
    text = openssl_req(tmp_path, csr.build_csr(key_for(SPECS["ec-p256"][0]), spec))
    assert "X509v3 Subject Alternative Name: critical\n" in text
    assert "Extended Key Usage" not in text
    assert csr.planned_extensions(spec)[0].critical


def test_a_subject_given_as_one_rfc4514_string(tmp_path):
    spec = RequestSpec(subject="emailAddress=a@example.com,CN=Build\\, Signing,O=Example,C=DE")
    text = openssl_req(tmp_path, csr.build_csr(key_for(SPECS["ed25519"][0]), spec))
    assert 'Subject: C = DE, O = Example, CN = "Build, Signing", emailAddress = a@example.com' in (
        text
    )


def test_a_tampered_csr_fails_openssls_check(tmp_path):
    request = csr.build_csr(key_for(SPECS["ec-p256"][0]), FULL)
    raw = bytearray(request.public_bytes(serialization.Encoding.DER))
    raw[raw.find(b"Release Signing")] ^= 1  # "Sel..." : the signature no longer matches
    path = tmp_path / "bad.csr"
    path.write_bytes(bytes(raw))
    done = subprocess.run(
        ["openssl", "req", "-inform", "DER", "-in", str(path), "-verify", "-noout"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # openssl 3.0 exits 0 even then: only its message tells (hence openssl_req reads it).
    assert "verify failure" in done.stderr
    assert "verify OK" not in done.stdout + done.stderr


def test_rsa_3072_and_4096_generate_once():
    for size in (3072, 4096):
        key = keygen.generate_key(KeySpec("RSA", size))
        assert key.key_size == size
        assert keygen.spec_of_public_key(key) == KeySpec("RSA", size)


def test_key_specs_defaults_tokens_and_choices():
    assert KeySpec("RSA") == keygen.DEFAULT_KEY_SPEC == KeySpec("RSA", 3072)
    assert KeySpec("ECDSA").curve == "P-256"
    assert [s.token for s in keygen.all_key_specs()] == [
        "rsa-2048",
        "rsa-3072",
        "rsa-4096",
        "ec-p256",
        "ec-p384",
        "ec-p521",
        "ed25519",
    ]
    for spec in keygen.all_key_specs():
        assert KeySpec.from_token(spec.token.upper()) == spec
    assert KeySpec("ECDSA", curve="P-384").label == "ECDSA P-384"
    assert keygen.KEY_CHOICES["RSA"] == ((2048, 3072, 4096), 3072)
    with pytest.raises(ValidationError, match="rsa-2048"):
        KeySpec.from_token("rsa-1024")


@pytest.mark.parametrize(
    "args",
    [
        ("RSA", 1024),
        ("RSA", 2047),
        ("RSA", None, "P-256"),
        ("ECDSA", None, "P-192"),
        ("ECDSA", 256),
        ("Ed25519", 256),
        ("DSA", 2048),
    ],
)
def test_key_spec_refusals_name_the_key(args):
    with pytest.raises(ValidationError) as caught:
        KeySpec(*args)
    assert caught.value.field == "key"


def test_keys_the_wizard_does_not_offer_have_no_spec():
    assert keygen.spec_of_public_key(dsa.generate_private_key(1024).public_key()) is None
    assert keygen.spec_of_public_key(ed448.Ed448PrivateKey.generate()) is None
    assert keygen.spec_of_public_key(ec.generate_private_key(ec.SECP256K1())) is None
    weak = rsa.generate_private_key(65537, 1024)
    assert keygen.spec_of_public_key(weak) is None
    with pytest.raises(ValidationError) as caught:
        csr.build_csr(weak, RequestSpec(common_name="x"))
    assert caught.value.field == "key"


@pytest.mark.parametrize(
    ("kwargs", "key", "field"),
    [
        ({"common_name": "x", "country": "USA"}, None, "country"),
        ({"common_name": "x", "country": "us"}, None, "country"),
        ({"common_name": "x", "email": "not an email"}, None, "email"),
        ({"common_name": "x" * 65}, None, "common_name"),
        ({"dns_names": ["exa mple.com"]}, None, "dns_names"),
        ({"dns_names": ["-a.example.com"]}, None, "dns_names"),
        ({"dns_names": ["a..example.com"]}, None, "dns_names"),
        ({"dns_names": ["a.*.example.com"]}, None, "dns_names"),
        ({"emails": ["ops.example.com"]}, None, "emails"),
        ({"emails": ["ops@exa mple.com"]}, None, "emails"),
        ({"uris": ["example.com/path"]}, None, "uris"),
        ({"ips": ["300.1.2.3"]}, None, "ips"),
        ({}, None, "subject"),
        ({"key_usages": (), "extended_key_usages": ()}, None, "subject"),
        ({"subject": "CN"}, None, "subject"),
        ({"subject": "C=USA,CN=x"}, None, "subject"),
        ({"subject": "C=1A,CN=x"}, None, "subject"),
        ({"subject": "CN=x", "organization": "y"}, None, "subject"),
        ({"common_name": "x", "key_usages": ["signing"]}, None, "key_usages"),
        ({"common_name": "x", "key_usages": ["encipher_only"]}, None, "key_usages"),
        ({"common_name": "x", "key_usages": ["key_encipherment"]}, "ec-p256", "key_usages"),
        ({"common_name": "x", "key_usages": ["key_agreement"]}, "rsa-2048", "key_usages"),
        ({"common_name": "x", "extended_key_usages": ["bogus"]}, None, "extended_key_usages"),
        ({"common_name": "x", "hash": "SHA-1"}, None, "hash"),
        ({"common_name": "x", "hash": "SHA-256"}, "ed25519", "hash"),
    ],
)
def test_validation_names_the_bad_field(kwargs, key, field):
    with pytest.raises(ValidationError) as caught:
        csr.validate(RequestSpec(**kwargs), SPECS[key][0] if key else None)
    assert caught.value.field == field


def test_spec_normalises_what_a_form_hands_over():
    spec = RequestSpec(common_name=" x ", dns_names=["a.example", " ", " b.example "], hash="")
    assert (spec.common_name, spec.dns_names, spec.hash) == ("x", ("a.example", "b.example"), None)
    csr.validate(RequestSpec(common_name="x", extended_key_usages=["1.3.6.1.4.1.311.10.3.12"]))


def test_prefill_from_an_openssl_certificate_round_trips(tmp_path):
    cert = openssl_cert(
        tmp_path,
        "/C=DE/ST=Berlin/O=Acme GmbH/CN=Release Signing/emailAddress=rel@acme.example",
        "subjectAltName=DNS:acme.example,DNS:*.acme.example,email:it@acme.example,"
        "URI:https://acme.example/,IP:192.0.2.7,IP:2001:db8::1",
        "keyUsage=critical,digitalSignature,nonRepudiation",
        "extendedKeyUsage=codeSigning,1.3.6.1.4.1.311.10.3.12",
    )
    spec = csr.prefill_from_certificate(cert)
    assert spec == RequestSpec(
        common_name="Release Signing",
        organization="Acme GmbH",
        state="Berlin",
        country="DE",
        email="rel@acme.example",
        dns_names=("acme.example", "*.acme.example"),
        emails=("it@acme.example",),
        uris=("https://acme.example/",),
        ips=("192.0.2.7", "2001:db8::1"),
        key_usages=("digital_signature", "content_commitment"),
        extended_key_usages=("codeSigning", "1.3.6.1.4.1.311.10.3.12"),
    )
    assert keygen.spec_of_public_key(cert.public_key()) == KeySpec("ECDSA", curve="P-384")
    request = csr.build_csr(key_for(SPECS["ed25519"][0]), spec)
    assert request.subject == cert.subject
    for extension in (x509.SubjectAlternativeName, x509.KeyUsage, x509.ExtendedKeyUsage):
        assert (
            request.extensions.get_extension_for_class(extension).value
            == cert.extensions.get_extension_for_class(extension).value
        )
    openssl_req(tmp_path, request)


def test_prefill_keeps_an_unusual_subject_verbatim(tmp_path):
    cert = openssl_cert(
        tmp_path,
        "/CN=Signer/OU=One/OU=Two/serialNumber=42/O=Acme",
        "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:someone@acme.example",
    )
    spec = csr.prefill_from_certificate(cert)
    assert spec.common_name == "" and spec.subject
    assert (spec.dns_names, spec.key_usages, spec.extended_key_usages) == ((), (), ())
    request = csr.build_csr(key_for(SPECS["ec-p256"][0]), spec)
    assert request.subject == cert.subject
    assert list(request.extensions) == []


def test_prefill_skips_what_cannot_be_read():
    key = key_for(SPECS["ec-p256"][0])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Odd")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(  # a truncated GeneralNames sequence
            x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x05\x82"),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(ValueError):
        _ = cert.extensions
    spec = csr.prefill_from_certificate(cert)
    assert (spec.common_name, spec.dns_names, spec.key_usages) == ("Odd", (), ())


def test_openssl_style_subject_is_accepted():
    from app.crypto.csr import subject_name

    name = subject_name(RequestSpec(subject="/C=GB/O=Acme, Inc./CN=Build Signing"))
    assert name.rfc4514_string() == "CN=Build Signing,O=Acme\\, Inc.,C=GB"
