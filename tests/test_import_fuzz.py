"""Fuzzing the importer: random and damaged PEM, DER, PKCS#7 and PKCS#12 bytes.

Whatever bytes an administrator hands to `import_bytes`, the outcome is either stored
certificates or one clean line of error with the store untouched; never another exception.

Set CERTDESK_FUZZ_SCALE (e.g. 20) to run many more examples when hunting for bugs.
"""

import base64
import os
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from app.services import certificate_import, certificates
from tests.helpers import certgen

SEED_PASSWORD = "fuzz-pass"
SCALE = max(1, int(os.environ.get("CERTDESK_FUZZ_SCALE", "1")))


def fuzz_settings(max_examples: int):
    return settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        deadline=None,
        max_examples=max_examples * SCALE,
    )


# --------------------------------------------------------------------------- seeds


@cache
def seeds() -> dict[str, tuple[bytes, str | None]]:
    """name -> (valid file content, the password it needs). Built once per run."""
    one, one_key = certgen.make_cert("Fuzz One", key=certgen.ec_key(1))
    two, _ = certgen.make_cert("Fuzz Two")
    three, _ = certgen.make_cert("Fuzz Three", key=certgen.rsa_key())
    four, four_key = certgen.make_cert("Fuzz Four")
    five, five_key = certgen.make_cert("Fuzz Five")
    key_pem = one_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    found = {
        "pem": (certgen.pem(one), None),
        "der": (certgen.der(two), None),
        "der-rsa": (certgen.der(three), None),
        "pem-bundle": (certgen.pem(one) + certgen.pem(two), None),
        "pem-cert-and-key": (certgen.pem(one) + key_pem, None),
        "p7b-der": (certgen.p7b([one, two]), None),
        "p7b-pem": (certgen.p7b([two, three], serialization.Encoding.PEM), None),
        "p12-no-password": (certgen.p12(four, four_key, None, extra=[two]), None),
        "p12-password": (
            certgen.p12(five, five_key, SEED_PASSWORD.encode(), extra=[three]),
            SEED_PASSWORD,
        ),
    }
    if shutil.which("openssl"):
        # Without a MAC, damage inside a PKCS#12 reaches its certificate and key parsers
        # instead of stopping at the integrity check.
        found["p12-no-mac"] = (_p12_without_mac(one, one_key), None)
    return found


def _p12_without_mac(cert, key) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        certgen.write(where, "cert.pem", certgen.pem(cert))
        certgen.write(
            where,
            "key.pem",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        certgen.openssl(
            "pkcs12", "-export", "-nomac", "-keypbe", "NONE", "-certpbe", "NONE",
            "-passout", "pass:", "-in", "cert.pem", "-inkey", "key.pem", "-out", "out.p12",
            cwd=where,
        )  # fmt: skip
        return (where / "out.p12").read_bytes()


SEED_NAMES = sorted(seeds())
PEM_SEED_NAMES = [name for name in SEED_NAMES if seeds()[name][0].startswith(b"-----BEGIN ")]
PEM_BLOCK = re.compile(rb"(-----BEGIN [^-]+-----\r?\n)(.*?)(-----END [^-]+-----\r?\n?)", re.DOTALL)
BASE64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
LABELS = [
    "CERTIFICATE",
    "X509 CERTIFICATE",
    "PKCS7",
    "CMS",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "EC PRIVATE KEY",
    "RSA PRIVATE KEY",
    "CERTIFICATE REQUEST",
    "PUBLIC KEY",
    "X509 CRL",
    "SOMETHING ELSE",
]

passwords = st.one_of(st.none(), st.just(""), st.just(SEED_PASSWORD), st.text(max_size=12))


# --------------------------------------------------------------------------- the check


def check_import(session, data: bytes, password: str | None) -> certificate_import.FileResult:
    """Import `data` and assert the outcome is stored certificates or a clean refusal."""
    before = certificates.list_certificates(session)
    result = certificate_import.import_bytes(session, "fuzz.bin", data, password=password)
    after = certificates.list_certificates(session)

    assert isinstance(result, certificate_import.FileResult)
    assert result.path == "fuzz.bin"
    if currently_in_test_context():  # shown by --hypothesis-show-statistics
        event(f"ok: {result.kind}" if result.ok else f"refused: {_error_shape(result.error)}")
    stored = {row.alias for row in after}
    if result.ok:
        assert result.kind, "a successful import names the format it read"
        # A key-only file is fine when it found its certificate in the store.
        found = result.imported or result.duplicates or result.keys_linked or result.keys_known
        assert found, "ok, yet nothing"
        assert not result.needs_password
        for alias in [
            *result.imported,
            *result.duplicates,
            *result.keys_linked,
            *result.keys_known,
        ]:
            assert alias in stored, f"{alias!r} reported but not in the store"
        assert len(set(result.imported)) == len(result.imported)
        assert not set(result.imported) & {row.alias for row in before}
        assert len(after) == len(before) + len(result.imported)
    else:
        assert isinstance(result.error, str)
        assert result.error.strip(), "an empty error message"
        assert "\n" not in result.error and "\r" not in result.error, repr(result.error)
        assert result.imported == [] and result.duplicates == [] and result.keys_linked == []
        assert len(after) == len(before)
        # The file's savepoint rolled back: not even a key got linked.
        assert [(r.alias, r.sha256, r.has_private_key) for r in after] == [
            (r.alias, r.sha256, r.has_private_key) for r in before
        ]
    return result


def _error_shape(error: str) -> str:
    """The error without its variable parts, to count which parser refused the input."""
    shape = re.sub(r"PEM block \d+ \([A-Z0-9 #]+\)", "PEM block N", error)
    shape = shape.split(" (", 1)[0]
    return re.sub(r"\d+", "N", shape).strip()


# --------------------------------------------------------------------------- mutations


def _mutate_bytes(draw, data: bytearray) -> bytearray:
    """One random byte-level damage."""
    op = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "duplicate", "delete"]))
    size = len(data)
    if op == "truncate":
        return data[: draw(st.integers(0, size))]
    if size == 0:
        return bytearray(draw(st.binary(min_size=1, max_size=16)))
    at = draw(st.integers(0, size - 1))
    if op == "flip":
        data[at] ^= 1 << draw(st.integers(0, 7))
    elif op == "overwrite":
        chunk = draw(st.binary(min_size=1, max_size=8))
        data[at : at + len(chunk)] = chunk
    elif op == "insert":
        data[at:at] = draw(st.binary(min_size=1, max_size=16))
    elif op == "duplicate":
        end = draw(st.integers(at, min(size, at + 64)))
        where = draw(st.integers(0, size))
        data[where:where] = data[at:end]
    else:  # delete
        del data[at : draw(st.integers(at, min(size, at + 32)))]
    return data


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _refit_outer(data: bytearray) -> bytearray:
    """Make the outer SEQUENCE's length match again, so the damage inside reaches the
    real parser instead of stopping at the importer's own length check."""
    if len(data) < 2 or data[0] != 0x30:
        return data
    first = data[1]
    header = 2 if first < 0x80 else 2 + (first & 0x7F)
    body = data[header:]
    return bytearray(b"\x30" + _der_length(len(body)) + body)


@st.composite
def mutated_seeds(draw):
    """A seed (any format) with 0 to 4 byte-level damages, now and then refitted."""
    name = draw(st.sampled_from(SEED_NAMES))
    seed, password = seeds()[name]
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 4))):
        data = _mutate_bytes(draw, data)
    if draw(st.booleans()):
        data = _refit_outer(data)
    return bytes(data), draw(st.one_of(st.just(password), passwords))


def _wrap_pem(label: bytes, der: bytes) -> bytes:
    text = base64.b64encode(der)
    body = b"\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return b"-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, body, label)


@st.composite
def mutated_pem_seeds(draw):
    """A PEM seed whose blocks are damaged in their base64 text or in the DER under it,
    so the damage gets past the PEM layer and into the DER parsers."""
    name = draw(st.sampled_from(PEM_SEED_NAMES))
    seed, password = seeds()[name]
    blocks = list(PEM_BLOCK.finditer(seed))
    out = bytearray(seed[: blocks[0].start()])
    for block in blocks:
        begin, body, end = block.group(1), block.group(2), block.group(3)
        how = draw(st.sampled_from(["keep", "base64", "der", "der", "drop-end"]))
        if how == "keep":
            out += block.group(0)
            continue
        if how == "drop-end":
            out += begin + body
            continue
        lines = body.split(b"\n")
        if how == "base64":
            for _ in range(draw(st.integers(1, 4))):
                op = draw(st.sampled_from(["replace", "delete-line", "swap-lines", "dup-line"]))
                row = draw(st.integers(0, len(lines) - 1))
                line = bytearray(lines[row])
                if op == "replace" and line:
                    col = draw(st.integers(0, len(line) - 1))
                    line[col] = draw(st.sampled_from(BASE64_CHARS + b"=-. \t"))
                    lines[row] = bytes(line)
                elif op == "delete-line":
                    del lines[row]
                    if not lines:
                        lines = [b""]
                elif op == "swap-lines":
                    other = draw(st.integers(0, len(lines) - 1))
                    lines[row], lines[other] = lines[other], lines[row]
                else:
                    lines.insert(row, lines[row])
            out += begin + b"\n".join(lines) + end
        else:  # damage the DER and re-encode it cleanly
            label = begin[len(b"-----BEGIN ") : begin.index(b"-----", 5)]
            der = bytearray(base64.b64decode(b"".join(body.split())))
            for _ in range(draw(st.integers(1, 3))):
                der = _mutate_bytes(draw, der)
            if draw(st.booleans()):
                der = _refit_outer(der)
            out += _wrap_pem(label, bytes(der))
    out += seed[blocks[-1].end() :]
    return bytes(out), draw(st.one_of(st.just(password), passwords))


@st.composite
def pem_shaped(draw):
    """Random DER or random text inside PEM armour of a random label."""
    label = draw(st.sampled_from(LABELS)).encode()
    if draw(st.booleans()):
        return _wrap_pem(label, draw(st.binary(max_size=300)))
    inner = draw(st.text(max_size=200)).encode("utf-8")
    return b"-----BEGIN " + label + b"-----\n" + inner + b"\n-----END " + label + b"-----\n"


# --------------------------------------------------------------------------- the tests


@fuzz_settings(max_examples=300)
@given(data=st.binary(max_size=2048), password=passwords)
def test_random_bytes(session, data, password):
    check_import(session, data, password)


@st.composite
def der_shaped(draw):
    """A well-formed outer SEQUENCE whose first element has the tag each branch of the
    importer's DER sniffing looks at (certificate, PKCS#7 OID, PKCS#12 version), with
    random content after it."""
    tag = draw(st.sampled_from([0x30, 0x06, 0x02, 0x02, 0xA0, 0x04]))
    if tag == 0x02 and draw(st.booleans()):
        first = b"\x02\x01\x03"  # the PKCS#12 version
    elif tag == 0x06 and draw(st.booleans()):
        first = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07" + bytes([draw(st.integers(0, 9))])
    else:
        content = draw(st.binary(max_size=64))
        first = bytes([tag]) + _der_length(len(content)) + content
    body = first + draw(st.binary(max_size=400))
    return b"\x30" + _der_length(len(body)) + body


@fuzz_settings(max_examples=400)
@given(data=der_shaped(), password=passwords)
def test_random_der_shaped_bytes(session, data, password):
    check_import(session, data, password)


@fuzz_settings(max_examples=1000)
@given(case=mutated_seeds())
def test_mutated_seeds(session, case):
    data, password = case
    check_import(session, data, password)


@fuzz_settings(max_examples=600)
@given(case=mutated_pem_seeds())
def test_mutated_pem_bodies(session, case):
    data, password = case
    check_import(session, data, password)


@fuzz_settings(max_examples=400)
@given(
    data=st.one_of(
        st.text(max_size=500).map(lambda t: t.encode("utf-8")),
        pem_shaped(),
        st.lists(pem_shaped(), min_size=2, max_size=4).map(b"".join),
    ),
    password=passwords,
)
def test_random_text(session, data, password):
    check_import(session, data, password)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_truncated_every_7_bytes(session, name):
    seed, password = seeds()[name]
    for offset in range(0, len(seed), 7):
        result = check_import(session, seed[:offset], password)
        if offset == 0:
            assert not result.ok
    # The whole seed imports: the fuzzing above starts from valid files.
    whole = check_import(session, seed, password)
    assert whole.ok, whole.error
    assert whole.imported or whole.duplicates


# Regression (found by test_mutated_seeds): DER opening with an OID other than PKCS#7
# signedData (an encrypted .p7m, a damaged .p7b) made cryptography raise
# UnsupportedAlgorithm, which escaped the importer.
@pytest.mark.parametrize(
    "hex_data",
    [
        "3003060100",  # SEQUENCE { OID 0.0 }
        "300b06092a864886f70d010708",  # SEQUENCE { OID 1.2.840.113549.1.7.8 }
        "300b06092a864886f70d010700",  # SEQUENCE { OID 1.2.840.113549.1.7.0 }
        # SEQUENCE { OID id-ct-authEnvelopedData, [0] { SEQUENCE {} } }
        "3011060b2a864886f70d0109100117a0023000",
    ],
)
def test_pkcs7_of_unknown_content_type(session, hex_data):
    check_import(session, bytes.fromhex(hex_data), None)


def test_pkcs7_with_damaged_content_type_oid(session):
    one, _ = certgen.make_cert("Fuzz OID")
    data = bytearray(certgen.p7b([one]))
    assert data[4:15] == bytes.fromhex("06092a864886f70d010702")
    data[6] ^= 0x01  # 1.2.840.113549.1.7.2 (signedData) becomes 1.3.840.113549.1.7.2
    check_import(session, bytes(data), None)
    pem = _wrap_pem(b"PKCS7", bytes(data))
    check_import(session, pem, None)


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")
@pytest.mark.parametrize("cipher", ["-aes-256-cbc", "-aes-256-gcm"])
def test_encrypted_cms_file(session, tmp_path, cipher):
    """A .p7m an administrator may well pick by mistake: not a certificate, so refused."""
    recipient, _ = certgen.make_cert("Fuzz Recipient", key=certgen.rsa_key())
    certgen.write(tmp_path, "recipient.pem", certgen.pem(recipient))
    certgen.write(tmp_path, "message.txt", b"hello")
    certgen.openssl(
        "cms", "-encrypt", cipher, "-in", "message.txt", "-outform", "DER",
        "-out", "message.p7m", "recipient.pem",
        cwd=tmp_path,
    )  # fmt: skip
    result = check_import(session, (tmp_path / "message.p7m").read_bytes(), None)
    assert not result.ok


# Regression (found by test_mutated_seeds): a password with a NUL made load_pkcs12 panic
# in Rust (PanicException, a BaseException) instead of refusing.
@pytest.mark.parametrize("password", ["\x00", "fuzz\x00pass"])
@pytest.mark.parametrize("name", ["p12-no-password", "p12-password"])
def test_pkcs12_password_with_nul(session, name, password):
    check_import(session, seeds()[name][0], password)


def _with_x509_version(der: bytes, version: int) -> bytes:
    """The certificate with its version INTEGER (v3 is 2) set to `version`."""
    at = der.index(bytes.fromhex("a003020102"))
    return der[: at + 4] + bytes([version]) + der[at + 5 :]


# Regression (found by test_mutated_pem_bodies): a version INTEGER other than 0-2 raised
# x509.InvalidVersion, which is not a ValueError, from DER, PEM and PKCS#7 alike.
@pytest.mark.parametrize("container", ["der", "pem", "p7b-der", "p7b-pem"])
def test_certificate_with_invalid_version(session, container):
    one, _ = certgen.make_cert("Fuzz Version")
    bad = _with_x509_version(certgen.der(one), 3)
    p7b = certgen.p7b([one])
    p7b = p7b.replace(certgen.der(one), bad)
    data = {
        "der": bad,
        "pem": _wrap_pem(b"CERTIFICATE", bad),
        "p7b-der": p7b,
        "p7b-pem": _wrap_pem(b"PKCS7", p7b),
    }[container]
    check_import(session, data, None)
