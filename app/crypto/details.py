"""What the Details tab shows about a certificate, as plain data; never raises for a
certificate the importer accepted (odd parts read "unreadable: ...")."""

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from app.crypto.certinfo import key_algorithm_text, serial_hex
from app.crypto.parse import quietly

# openssl's short names, so the rows read as `openssl x509 -text` prints them.
SHORT_NAMES = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STREET_ADDRESS: "street",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
    NameOID.TITLE: "title",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


@dataclass(frozen=True)
class NamePart:
    label: str  # "CN", or the dotted OID of an attribute without a short name
    oid: str
    value: str


@dataclass(frozen=True)
class CertificateDetails:
    version: str
    serial: str  # upper-case hex pairs separated by colons, as certificate viewers show it
    subject: tuple[NamePart, ...]
    issuer: tuple[NamePart, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    public_key: str
    signature_algorithm: str
    sha1: str  # upper-case colon hex
    sha256: str
    self_issued: bool


def certificate_details(cert: x509.Certificate) -> CertificateDetails:
    der = cert.public_bytes(serialization.Encoding.DER)
    subject = _name_parts(lambda: cert.subject)
    issuer = _name_parts(lambda: cert.issuer)
    return CertificateDetails(
        version=_version(cert),
        serial=colon_hex(serial_hex(quietly(lambda: cert.serial_number)).lstrip("-")),
        subject=subject,
        issuer=issuer,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        public_key=_public_key(cert),
        signature_algorithm=_signature_algorithm(cert),
        sha1=colon_hex(hashlib.sha1(der).hexdigest()),
        sha256=colon_hex(hashlib.sha256(der).hexdigest()),
        self_issued=subject == issuer,
    )


def validity_text(not_after: dt.datetime, now: dt.datetime) -> str:
    days = (not_after - now) // dt.timedelta(days=1)
    if days < 0:
        return f"expired {-days} day{'s' if days != -1 else ''} ago"
    return f"{days} day{'s' if days != 1 else ''} remaining"


def colon_hex(digits: str) -> str:
    """Hex digits as certificate viewers show them: upper case, in pairs, with colons."""
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _version(cert: x509.Certificate) -> str:
    try:
        number = quietly(lambda: cert.version).value
    except ValueError as exc:
        return f"unreadable: {exc}"
    return f"{number + 1} (0x{number:x})"


def _name_parts(get_name) -> tuple[NamePart, ...]:
    try:
        name = quietly(get_name)
    except ValueError as exc:
        return (NamePart("?", "", f"unreadable: {exc}"),)
    parts = []
    for attribute in name:
        oid = attribute.oid
        value = attribute.value
        text = value.hex() if isinstance(value, bytes) else str(value)
        parts.append(NamePart(SHORT_NAMES.get(oid, oid.dotted_string), oid.dotted_string, text))
    return tuple(parts)


def _public_key(cert: x509.Certificate) -> str:
    try:
        key = quietly(cert.public_key)
    except Exception as exc:  # unsupported algorithms still import
        oid = cert.public_key_algorithm_oid
        name = getattr(oid, "_name", None) or oid.dotted_string
        return f"{name} (not readable here: {exc})"
    text = key_algorithm_text(key)
    return f"{text} bits" if text.startswith(("RSA ", "DSA ")) else text


def _signature_algorithm(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string
