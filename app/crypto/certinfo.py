"""The facts about a certificate that Certdesk stores and lists, computed once at import."""

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from app.crypto.parse import quietly

CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True)
class CertificateFacts:
    der: bytes
    sha1: str
    sha256: str
    subject: str
    issuer: str
    common_name: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    spki_sha256: str
    key_algorithm: str


def certificate_facts(cert: x509.Certificate) -> CertificateFacts:
    der = cert.public_bytes(serialization.Encoding.DER)
    spki_sha256, key_algorithm = _public_key_facts(cert)
    return CertificateFacts(
        der=der,
        sha1=hashlib.sha1(der).hexdigest(),
        sha256=hashlib.sha256(der).hexdigest(),
        subject=name_text(lambda: cert.subject),
        issuer=name_text(lambda: cert.issuer),
        common_name=common_name(cert),
        serial=serial_hex(quietly(lambda: cert.serial_number)),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        spki_sha256=spki_sha256,
        key_algorithm=key_algorithm,
    )


def serial_hex(number: int) -> str:
    """Lower-case hex without separators, an even number of digits; negative with '-'."""
    digits = format(abs(number), "x")
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if number < 0 else "") + digits


def name_text(get_name) -> str:
    """RFC 4514 text; a name cryptography cannot decode is shown as its DER in hex."""
    try:
        name = quietly(get_name)
        return name.rfc4514_string()
    except ValueError:
        return "#undecodable-name"


def common_name(cert: x509.Certificate) -> str:
    try:
        subject = quietly(lambda: cert.subject)
        cns = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if cns:
            return _text(cns[0].value)
        for attribute in subject:
            return _text(attribute.value)
    except ValueError:
        pass
    return ""


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.hex()
    return str(value).strip()


def spki_sha256_of_public_key(public_key) -> str:
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def key_algorithm_text(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC {CURVE_NAMES.get(public_key.curve.name, public_key.curve.name)}"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(public_key, dsa.DSAPublicKey):
        return f"DSA {public_key.key_size}"
    return type(public_key).__name__


def _public_key_facts(cert: x509.Certificate) -> tuple[str, str]:
    try:
        public_key = quietly(cert.public_key)
    except Exception:  # unsupported or malformed keys still import; they only lack a match
        oid = cert.public_key_algorithm_oid
        return "", getattr(oid, "_name", None) or oid.dotted_string
    return spki_sha256_of_public_key(public_key), key_algorithm_text(public_key)
