"""Certificate signing requests: what the wizard and the CLI collect (RequestSpec), its
checks, the CSR itself, the extensions it will carry, and a spec read from a certificate
for renewal. Pure functions: no store, no Qt."""

import ipaddress
import re
from dataclasses import dataclass, fields
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.crypto.keygen import KeySpec, default_hash, hash_algorithm, spec_of_public_key
from app.crypto.parse import quietly
from app.errors import ValidationError

# attribute, label, OID, upper bound (RFC 5280 appendix A), in DER order: openssl and
# CAs show subjects as C, ST, L, O, OU, CN.
SUBJECT_FIELDS = (
    ("country", "Country (C)", NameOID.COUNTRY_NAME, 2),
    ("state", "State or province (ST)", NameOID.STATE_OR_PROVINCE_NAME, 128),
    ("locality", "Locality (L)", NameOID.LOCALITY_NAME, 128),
    ("organization", "Organization (O)", NameOID.ORGANIZATION_NAME, 64),
    ("organizational_unit", "Organizational unit (OU)", NameOID.ORGANIZATIONAL_UNIT_NAME, 64),
    ("common_name", "Common name (CN)", NameOID.COMMON_NAME, 64),
    ("email", "Email address", NameOID.EMAIL_ADDRESS, 255),
)
_UPPER_BOUND = {oid: bound for _, _, oid, bound in SUBJECT_FIELDS}
_LABEL_OF = {oid: label for _, label, oid, _ in SUBJECT_FIELDS}
# cryptography's RFC 4514 parser and printer know no emailAddress; openssl users type it.
_DN_PARSE_NAMES = {"emailAddress": NameOID.EMAIL_ADDRESS, "E": NameOID.EMAIL_ADDRESS}
_DN_PRINT_NAMES = {NameOID.EMAIL_ADDRESS: "emailAddress"}

KEY_USAGES = {
    "digital_signature": "Digital Signature",
    "content_commitment": "Non Repudiation",
    "key_encipherment": "Key Encipherment",
    "data_encipherment": "Data Encipherment",
    "key_agreement": "Key Agreement",
    "key_cert_sign": "Certificate Sign",
    "crl_sign": "CRL Sign",
    "encipher_only": "Encipher Only",
    "decipher_only": "Decipher Only",
}
# Usages a key type cannot perform (Ed25519 only signs; ECDSA keys agree, never encrypt).
_KEY_USAGE_ALGORITHMS = {
    "key_encipherment": {"RSA"},
    "data_encipherment": {"RSA"},
    "key_agreement": {"ECDSA"},
    "encipher_only": {"ECDSA"},
    "decipher_only": {"ECDSA"},
}
# Names as in the CLI and openssl; labels as openssl prints them.
EXTENDED_KEY_USAGES = {
    "codeSigning": ("Code Signing", ExtendedKeyUsageOID.CODE_SIGNING),
    "serverAuth": ("TLS Web Server Authentication", ExtendedKeyUsageOID.SERVER_AUTH),
    "clientAuth": ("TLS Web Client Authentication", ExtendedKeyUsageOID.CLIENT_AUTH),
    "emailProtection": ("E-mail Protection", ExtendedKeyUsageOID.EMAIL_PROTECTION),
    "timeStamping": ("Time Stamping", ExtendedKeyUsageOID.TIME_STAMPING),
}
_EKU_NAME_OF_OID = {oid: name for name, (_, oid) in EXTENDED_KEY_USAGES.items()}

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DNS = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*")
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATOM}(\.{_ATOM})*")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")  # RFC 3986: absolute, ASCII


@dataclass(frozen=True)
class RequestSpec:
    """What a request asks for. The subject is either `subject`, one RFC 4514 string
    (most significant RDN last, e.g. "CN=Build,O=Example,C=GB"), or the fields below it.
    Blank strings count as absent; surrounding spaces are dropped; lists become tuples.
    `hash` None means the key's default (keygen.default_hash)."""

    subject: str = ""
    common_name: str = ""
    organization: str = ""
    organizational_unit: str = ""
    locality: str = ""
    state: str = ""
    country: str = ""
    email: str = ""
    dns_names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    uris: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    key_usages: tuple[str, ...] = ("digital_signature",)
    extended_key_usages: tuple[str, ...] = ("codeSigning",)
    hash: str | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, str):
                value = value.strip()
            elif isinstance(value, list | tuple):
                value = tuple(item.strip() for item in value if item.strip())
            object.__setattr__(self, field.name, value)
        if not self.hash:
            object.__setattr__(self, "hash", None)


class PlannedExtension(NamedTuple):
    name: str
    critical: bool
    value: str


NO_SUBJECT = "give a subject or at least one alternative name"


def validate(spec: RequestSpec, key: KeySpec | None = None) -> None:
    """Raise ValidationError naming the first bad field (a RequestSpec attribute name,
    "subject" for the DN string or the subject as a whole, "hash"). With `key`, also
    refuse key usages and a hash the key type cannot honour."""
    name = subject_name(spec)
    sans = _general_names(spec)
    if not name and not sans:
        raise ValidationError("subject", NO_SUBJECT)
    for usage in spec.key_usages:
        if usage not in KEY_USAGES:
            raise ValidationError("key_usages", f"unknown key usage {usage!r}")
        if key and key.algorithm not in _KEY_USAGE_ALGORITHMS.get(usage, {key.algorithm}):
            raise ValidationError(
                "key_usages", f"{KEY_USAGES[usage]} is impossible for {key.label}"
            )
    if {"encipher_only", "decipher_only"} & set(spec.key_usages) and (
        "key_agreement" not in spec.key_usages
    ):
        raise ValidationError("key_usages", "Encipher/Decipher Only need Key Agreement")
    for usage in spec.extended_key_usages:
        if usage not in EXTENDED_KEY_USAGES and not _is_oid(usage):
            raise ValidationError("extended_key_usages", f"unknown extended key usage {usage!r}")
    hash_algorithm(spec.hash)
    # Refused rather than ignored: a hash shown in the summary must be the one used, and
    # Ed25519 has none to choose (RFC 8410), so a given hash is the caller's mistake.
    if key and spec.hash and default_hash(key) is None:
        raise ValidationError("hash", f"{key.label} signs without a separate hash; leave it unset")


def subject_name(spec: RequestSpec) -> x509.Name:
    """The subject the request will carry (checked; the error names the field)."""
    if spec.subject:
        if any(getattr(spec, field) for field, *_ in SUBJECT_FIELDS):
            raise ValidationError("subject", "give either one DN string or the fields, not both")
        try:
            name = x509.Name.from_rfc4514_string(_rfc4514(spec.subject), _DN_PARSE_NAMES)
        except ValueError as exc:
            detail = f" ({exc})" if str(exc) else ""
            raise ValidationError(
                "subject", f"not an RFC 4514 name such as CN=Build,O=Example,C=GB{detail}"
            ) from None
        for attribute in name:
            _check_attribute(attribute.oid, attribute.value, "subject")
        return name
    attributes = []
    for field, _, oid, _ in SUBJECT_FIELDS:
        if value := getattr(spec, field):
            _check_attribute(oid, value, field)
            attributes.append(x509.NameAttribute(oid, value))
    return x509.Name(attributes)


def _rfc4514(subject: str) -> str:
    """Accept openssl's "/C=GB/O=Example/CN=Build" too, which administrators type out of
    habit: most significant first, so reversed, with RFC 4514's specials escaped."""
    if not subject.startswith("/"):
        return subject
    parts = [p for p in re.split(r"(?<!\\)/", subject[1:]) if p]
    rdns = []
    for part in parts:
        key, sep, value = part.replace("\\/", "/").partition("=")
        if not sep:
            return subject  # not openssl's form after all: let the parser say why
        value = re.sub(r'([,+"\\<>;])', r"\\\1", value)
        rdns.append(f"{key.strip()}={value}")
    return ",".join(reversed(rdns))


def _check_attribute(oid: x509.ObjectIdentifier, value, field: str) -> None:
    if not isinstance(value, str):
        return
    label = _LABEL_OF.get(oid, oid.dotted_string)
    if not value:
        raise ValidationError(field, f"{label} is empty")
    if oid == NameOID.COUNTRY_NAME and not re.fullmatch("[A-Z]{2}", value):
        raise ValidationError(
            field, f"country must be two capital letters (ISO 3166), not {value!r}"
        )
    if oid == NameOID.EMAIL_ADDRESS and not _is_email(value):
        raise ValidationError(field, f"{value!r} is not an email address")
    if len(value) > _UPPER_BOUND.get(oid, len(value)):
        raise ValidationError(field, f"{label} is limited to {_UPPER_BOUND[oid]} characters")


def _is_oid(value: str) -> bool:
    try:
        x509.ObjectIdentifier(value)
    except ValueError:
        return False
    return True


def _is_dns_name(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS.fullmatch(value))


def _is_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(
        at and len(local) <= 64 and _LOCAL_PART.fullmatch(local) and _HOST.fullmatch(domain)
    )


def _ip(value: str) -> x509.IPAddress:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        raise ValidationError("ips", f"{value!r} is not an IPv4 or IPv6 address") from None


def _general_names(spec: RequestSpec) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for value in spec.dns_names:
        if not _is_dns_name(value):
            raise ValidationError(
                "dns_names",
                f"{value!r} is not a DNS name (ASCII letters, digits and hyphens in "
                "dot-separated labels, optionally after '*.'; IDNs in xn-- form)",
            )
        names.append(x509.DNSName(value))
    for value in spec.emails:
        if not _is_email(value):
            raise ValidationError("emails", f"{value!r} is not an email address")
        names.append(x509.RFC822Name(value))
    for value in spec.uris:
        if not _URI.fullmatch(value):
            raise ValidationError("uris", f"{value!r} is not an absolute URI such as https://…")
        names.append(x509.UniformResourceIdentifier(value))
    names += [_ip(value) for value in spec.ips]
    return names


def _extensions(spec: RequestSpec) -> list[tuple[x509.ExtensionType, bool]]:
    """The extension objects build_csr adds and planned_extensions describes."""
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    if sans := _general_names(spec):
        # RFC 5280 4.2.1.6: with an empty subject the names live only here: critical.
        extensions.append((x509.SubjectAlternativeName(sans), not subject_name(spec)))
    if spec.key_usages:
        usages = {usage: usage in spec.key_usages for usage in KEY_USAGES}
        extensions.append((x509.KeyUsage(**usages), True))
    if spec.extended_key_usages:
        oids = [
            EXTENDED_KEY_USAGES[u][1] if u in EXTENDED_KEY_USAGES else x509.ObjectIdentifier(u)
            for u in spec.extended_key_usages
        ]
        # RFC 3161 2.3: a time-stamping certificate's EKU is timeStamping alone, critical.
        critical = spec.extended_key_usages == ("timeStamping",)
        extensions.append((x509.ExtendedKeyUsage(oids), critical))
    return extensions


def planned_extensions(spec: RequestSpec) -> list[PlannedExtension]:
    """The extensions the CSR will carry, as the summary page shows them."""
    validate(spec)
    return [
        PlannedExtension(_EXTENSION_NAMES[type(value)], critical, _value_text(value))
        for value, critical in _extensions(spec)
    ]


_EXTENSION_NAMES = {
    x509.SubjectAlternativeName: "Subject Alternative Name",
    x509.KeyUsage: "Key Usage",
    x509.ExtendedKeyUsage: "Extended Key Usage",
}
_GENERAL_NAME_LABELS = {
    x509.DNSName: "DNS",
    x509.RFC822Name: "email",
    x509.UniformResourceIdentifier: "URI",
    x509.IPAddress: "IP Address",
}


def _value_text(value: x509.ExtensionType) -> str:
    """openssl's wording, so the summary matches what `openssl req -text` and CAs show."""
    if isinstance(value, x509.SubjectAlternativeName):
        return ", ".join(f"{_GENERAL_NAME_LABELS[type(n)]}:{n.value}" for n in value)
    if isinstance(value, x509.KeyUsage):
        return ", ".join(label for usage, label in KEY_USAGES.items() if _key_usage(value, usage))
    labels = {oid: label for label, oid in EXTENDED_KEY_USAGES.values()}
    return ", ".join(labels.get(oid, oid.dotted_string) for oid in value)


def _key_usage(value: x509.KeyUsage, usage: str) -> bool:
    # cryptography refuses to read encipher/decipher_only unless key_agreement is set.
    if usage in ("encipher_only", "decipher_only") and not value.key_agreement:
        return False
    return getattr(value, usage)


def build_csr(key, spec: RequestSpec) -> x509.CertificateSigningRequest:
    """A CSR for `spec` signed by `key` (a private key from keygen.generate_key)."""
    key_spec = spec_of_public_key(key)
    if key_spec is None:
        raise ValidationError("key", "only RSA 2048-4096, ECDSA P-256/384/521 and Ed25519")
    validate(spec, key_spec)
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject_name(spec))
    for value, critical in _extensions(spec):
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(key, hash_algorithm(spec.hash or default_hash(key_spec)))


def csr_pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def prefill_from_certificate(cert: x509.Certificate) -> RequestSpec:
    """Subject, alternative names, key usages and extended key usages of `cert`, for a
    renewal; what cannot be read is left out. The hash is left to the new key's default."""
    subject = _readable(lambda: _subject_values(cert.subject), {})
    sans = _readable(lambda: _san_values(cert), {})
    usages = _readable(lambda: _key_usage_names(cert), ())
    ekus = _readable(lambda: _eku_names(cert), ())
    return RequestSpec(**subject, **sans, key_usages=usages, extended_key_usages=ekus)


def _readable(read, default):
    # Certificates import even when cryptography cannot decode a part of them (or the
    # extension is absent); a renewal starts from whatever can be read.
    try:
        return quietly(read)
    except Exception:
        return default


def _subject_values(name: x509.Name) -> dict[str, str]:
    """The fields when they rebuild exactly this name (same attributes, same order);
    otherwise the RFC 4514 string, so a renewal never reorders or drops an attribute."""
    field_of = {oid: field for field, _, oid, _ in SUBJECT_FIELDS}
    values = {field_of.get(a.oid): a.value for a in name}
    if None not in values and all(isinstance(v, str) for v in values.values()):
        rebuilt = x509.Name(
            [x509.NameAttribute(oid, values[f]) for f, _, oid, _ in SUBJECT_FIELDS if f in values]
        )
        if rebuilt == name:
            return values
    return {"subject": name.rfc4514_string(_DN_PRINT_NAMES)}


def _san_values(cert: x509.Certificate) -> dict[str, tuple[str, ...]]:
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {
        "dns_names": tuple(sans.get_values_for_type(x509.DNSName)),
        "emails": tuple(sans.get_values_for_type(x509.RFC822Name)),
        "uris": tuple(sans.get_values_for_type(x509.UniformResourceIdentifier)),
        "ips": tuple(str(ip) for ip in sans.get_values_for_type(x509.IPAddress)),
    }


def _key_usage_names(cert: x509.Certificate) -> tuple[str, ...]:
    value = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    return tuple(usage for usage in KEY_USAGES if _key_usage(value, usage))


def _eku_names(cert: x509.Certificate) -> tuple[str, ...]:
    value = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    return tuple(_EKU_NAME_OF_OID.get(oid, oid.dotted_string) for oid in value)
