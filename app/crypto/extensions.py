"""X.509 extensions as plain data: name, OID, critical flag and a readable value.

Names and values follow `openssl x509 -text` (OpenSSL 3.0), so what an administrator
reads here matches what they read there. Multi-line values are joined with "\\n" and keep
openssl's relative indentation. Nothing here raises for a certificate that loaded: a value
that cannot be decoded is shown as its DER in hex with a note.
"""

import datetime as dt
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.certificate_transparency import SignatureAlgorithm

from app.crypto.parse import quietly


@dataclass(frozen=True)
class ExtensionInfo:
    oid: str
    name: str
    critical: bool
    value: str


# openssl's long names for the objects that appear as extension names or inside values.
LONG_NAMES = {
    "2.5.29.9": "X509v3 Subject Directory Attributes",
    "2.5.29.14": "X509v3 Subject Key Identifier",
    "2.5.29.15": "X509v3 Key Usage",
    "2.5.29.16": "X509v3 Private Key Usage Period",
    "2.5.29.17": "X509v3 Subject Alternative Name",
    "2.5.29.18": "X509v3 Issuer Alternative Name",
    "2.5.29.19": "X509v3 Basic Constraints",
    "2.5.29.30": "X509v3 Name Constraints",
    "2.5.29.31": "X509v3 CRL Distribution Points",
    "2.5.29.32": "X509v3 Certificate Policies",
    "2.5.29.32.0": "X509v3 Any Policy",
    "2.5.29.33": "X509v3 Policy Mappings",
    "2.5.29.35": "X509v3 Authority Key Identifier",
    "2.5.29.36": "X509v3 Policy Constraints",
    "2.5.29.37": "X509v3 Extended Key Usage",
    "2.5.29.37.0": "Any Extended Key Usage",
    "2.5.29.46": "X509v3 Freshest CRL",
    "2.5.29.54": "X509v3 Inhibit Any Policy",
    "2.5.29.56": "X509v3 No Revocation Available",
    "1.3.6.1.5.5.7.1.1": "Authority Information Access",
    "1.3.6.1.5.5.7.1.2": "Biometric Info",
    "1.3.6.1.5.5.7.1.3": "qcStatements",
    "1.3.6.1.5.5.7.1.11": "Subject Information Access",
    "1.3.6.1.5.5.7.1.14": "Proxy Certificate Information",
    "1.3.6.1.5.5.7.1.24": "TLS Feature",
    "1.3.6.1.5.5.7.48.1": "OCSP",
    "1.3.6.1.5.5.7.48.1.5": "OCSP No Check",
    "1.3.6.1.5.5.7.48.2": "CA Issuers",
    "1.3.6.1.5.5.7.48.3": "AD Time Stamping",
    "1.3.6.1.5.5.7.48.5": "CA Repository",
    "1.3.6.1.5.5.7.48.10": "RPKI Manifest",
    "1.3.6.1.5.5.7.48.11": "Signed Object",
    "1.3.6.1.5.5.7.48.13": "RPKI Notify",
    "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication",
    "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing",
    "1.3.6.1.5.5.7.3.4": "E-mail Protection",
    "1.3.6.1.5.5.7.3.5": "IPSec End System",
    "1.3.6.1.5.5.7.3.6": "IPSec Tunnel",
    "1.3.6.1.5.5.7.3.7": "IPSec User",
    "1.3.6.1.5.5.7.3.8": "Time Stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP Signing",
    "1.3.6.1.5.5.7.3.10": "dvcs",
    "1.3.6.1.5.5.7.3.17": "ipsec Internet Key Exchange",
    "1.3.6.1.5.5.7.3.21": "SSH Client",
    "1.3.6.1.5.5.7.3.22": "SSH Server",
    "1.3.6.1.5.2.3.4": "PKINIT Client Auth",
    "1.3.6.1.5.2.3.5": "Signing KDC Response",
    "1.3.6.1.4.1.311.2.1.21": "Microsoft Individual Code Signing",
    "1.3.6.1.4.1.311.2.1.22": "Microsoft Commercial Code Signing",
    "1.3.6.1.4.1.311.10.3.1": "Microsoft Trust List Signing",
    "1.3.6.1.4.1.311.10.3.3": "Microsoft Server Gated Crypto",
    "1.3.6.1.4.1.311.10.3.4": "Microsoft Encrypted File System",
    "1.3.6.1.4.1.311.20.2.2": "Microsoft Smartcard Login",
    "1.3.6.1.4.1.311.20.2.3": "Microsoft User Principal Name",
    "1.3.6.1.4.1.11129.2.4.2": "CT Precertificate SCTs",
    "1.3.6.1.4.1.11129.2.4.3": "CT Precertificate Poison",
    "1.3.6.1.4.1.11129.2.4.5": "CT Certificate SCTs",
    "1.3.36.8.3.3": "Professional Information or basis for Admission",
    "2.16.840.1.113730.1.1": "Netscape Cert Type",
    "2.16.840.1.113730.1.2": "Netscape Base Url",
    "2.16.840.1.113730.1.3": "Netscape Revocation Url",
    "2.16.840.1.113730.1.4": "Netscape CA Revocation Url",
    "2.16.840.1.113730.1.7": "Netscape Renewal Url",
    "2.16.840.1.113730.1.8": "Netscape CA Policy Url",
    "2.16.840.1.113730.1.12": "Netscape SSL Server Name",
    "2.16.840.1.113730.1.13": "Netscape Comment",
    "2.16.840.1.113730.4.1": "Netscape Server Gated Crypto",
    # openssl prints these three as bare OIDs; Windows names them.
    "1.3.6.1.4.1.311.20.2": "Microsoft Certificate Template Name",
    "1.3.6.1.4.1.311.21.7": "Microsoft Certificate Template",
    "1.3.6.1.4.1.311.21.10": "Microsoft Application Policies",
}

# openssl's short names in directory names.
ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "GN",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
}

# The otherName types openssl labels itself (x509v3 GENERAL_NAME printing).
OTHER_NAME_TYPES = {
    "1.3.6.1.4.1.311.20.2.3": "UPN",
    "1.3.6.1.5.5.7.8.5": "XmppAddr",
    "1.3.6.1.5.5.7.8.7": "SRVName",
    "1.3.6.1.5.5.7.8.8": "NAIRealm",
    "1.3.6.1.5.5.7.8.9": "SmtpUTF8Mailbox",
}

KEY_USAGES = (
    "Digital Signature",
    "Non Repudiation",
    "Key Encipherment",
    "Data Encipherment",
    "Key Agreement",
    "Certificate Sign",
    "CRL Sign",
    "Encipher Only",
    "Decipher Only",
)
NETSCAPE_CERT_TYPES = (
    "SSL Client",
    "SSL Server",
    "S/MIME",
    "Object Signing",
    "Unused",
    "SSL CA",
    "S/MIME CA",
    "Object Signing CA",
)
REASONS = {
    x509.ReasonFlags.key_compromise: "Key Compromise",
    x509.ReasonFlags.ca_compromise: "CA Compromise",
    x509.ReasonFlags.affiliation_changed: "Affiliation Changed",
    x509.ReasonFlags.superseded: "Superseded",
    x509.ReasonFlags.cessation_of_operation: "Cessation Of Operation",
    x509.ReasonFlags.certificate_hold: "Certificate Hold",
    x509.ReasonFlags.privilege_withdrawn: "Privilege Withdrawn",
    x509.ReasonFlags.aa_compromise: "AA Compromise",
}
TLS_FEATURES = {5: "status_request", 17: "status_request_v2"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UNDECODABLE = "(undecodable value, shown as DER hex)"

# A bare certificate around one extension (see _decode_alone); nothing but its
# extensions is ever read.
ED25519 = bytes.fromhex("300506032b6570")
BARE_TBS_HEAD = b"".join(
    bytes.fromhex(part)
    for part in (
        "a003020102",  # version 3
        "020101",  # serial 1
        ED25519.hex(),
        "3000",  # empty issuer
        "301e170d3230303130313030303030305a170d3230303130313030303030305a",  # validity
        "3000",  # empty subject
        "302a" + ED25519.hex() + "032100" + "00" * 32,  # an all-zero Ed25519 key
    )
)
CERTIFICATE_POLICIES_OID = bytes.fromhex("0603551d20")


def describe_extensions(cert: x509.Certificate) -> list[ExtensionInfo]:
    """Every extension of the certificate, in its order."""
    try:
        raw = _raw_extensions(cert.tbs_certificate_bytes)
    except ValueError as exc:
        return [ExtensionInfo("", "undecodable extensions", False, str(exc))]
    return [_describe(*extension) for extension in raw]


def _describe(oid: str, critical: bool, value: bytes, extension: bytes) -> ExtensionInfo:
    try:
        text = _value_text(oid, value, extension)
    except Exception:  # the importer accepts odd certificates, so their details must show
        text = f"{_hex(value)}\n{UNDECODABLE}"
    return ExtensionInfo(oid, LONG_NAMES.get(oid, oid), critical, text)


def _value_text(oid: str, value: bytes, extension: bytes) -> str:
    if oid in RAW_FORMATS:
        return RAW_FORMATS[oid](value)
    decoded = _decode_alone(extension).value
    format_value = FORMATS.get(type(decoded))
    return format_value(decoded) if format_value else _hex(value)


def _decode_alone(extension: bytes) -> x509.Extension:
    """cryptography decodes extensions only as a certificate's whole list, and one
    malformed extension fails that list; a bare certificate holding just this one decodes
    each on its own. Its signature is never checked."""
    tbs = _der(0x30, BARE_TBS_HEAD + _der(0xA3, _der(0x30, extension)))
    cert = x509.load_der_x509_certificate(_der(0x30, tbs + ED25519 + _der(0x03, b"\x00")))
    return quietly(lambda: cert.extensions[0])


# --- values cryptography decodes -------------------------------------------------------


def _basic_constraints(value: x509.BasicConstraints) -> str:
    text = f"CA:{'TRUE' if value.ca else 'FALSE'}"
    return text if value.path_length is None else f"{text}, pathlen:{value.path_length}"


def _authority_key_id(value: x509.AuthorityKeyIdentifier) -> str:
    lines = []
    qualified = value.authority_cert_issuer is not None or (
        value.authority_cert_serial_number is not None
    )
    if value.key_identifier is not None:
        lines.append(("keyid:" if qualified else "") + _hex(value.key_identifier))
    lines += [_general_name(n) for n in value.authority_cert_issuer or ()]
    if value.authority_cert_serial_number is not None:
        lines.append("serial:" + _hex(_unsigned_bytes(value.authority_cert_serial_number)))
    return "\n".join(lines)


def _distribution_points(value: Iterable[x509.DistributionPoint]) -> str:
    lines = []
    for point in value:
        if point.full_name is not None:
            lines += [
                "Full Name:",
                *_indented(_general_name(n, inline=False) for n in point.full_name),
            ]
        if point.relative_name is not None:
            lines += ["Relative Name:", "  " + _spaced_name(x509.Name([point.relative_name]))]
        if point.reasons is not None:
            reasons = [label for flag, label in REASONS.items() if flag in point.reasons]
            lines += ["Reasons:", "  " + (", ".join(reasons) or "<EMPTY>")]
        if point.crl_issuer is not None:
            lines += [
                "CRL Issuer:",
                *_indented(_general_name(n, inline=False) for n in point.crl_issuer),
            ]
    return "\n".join(lines)


def _access(value: Iterable[x509.AccessDescription]) -> str:
    return "\n".join(
        f"{_object_name(d.access_method)} - {_general_name(d.access_location)}" for d in value
    )


def _policies(value: x509.CertificatePolicies) -> str:
    lines = []
    for policy in value:
        lines.append(f"Policy: {_object_name(policy.policy_identifier)}")
        for qualifier in policy.policy_qualifiers or ():
            if isinstance(qualifier, str):
                lines.append(f"  CPS: {qualifier}")
            else:
                lines += ["  User Notice:", *_indented(_notice(qualifier), "    ")]
    return "\n".join(lines)


def _notice(notice: x509.UserNotice) -> list[str]:
    lines = []
    if notice.notice_reference is not None:
        numbers = notice.notice_reference.notice_numbers
        lines.append(f"Organization: {notice.notice_reference.organization}")
        lines.append(f"Number{'s' if len(numbers) > 1 else ''}: {', '.join(map(str, numbers))}")
    if notice.explicit_text is not None:
        lines.append(f"Explicit Text: {notice.explicit_text}")
    return lines


def _name_constraints(value: x509.NameConstraints) -> str:
    lines = []
    for title, subtrees in (
        ("Permitted", value.permitted_subtrees),
        ("Excluded", value.excluded_subtrees),
    ):
        if subtrees is not None:
            lines += [f"{title}:", *_indented(_subtree(n) for n in subtrees)]
    return "\n".join(lines)


def _subtree(name: x509.GeneralName) -> str:
    if isinstance(name, x509.IPAddress):
        network = name.value
        return f"IP:{_ip(network.network_address)}/{_ip(network.netmask)}"
    return _general_name(name, inline=False)


def _policy_constraints(value: x509.PolicyConstraints) -> str:
    parts = []
    if value.require_explicit_policy is not None:
        parts.append(f"Require Explicit Policy:{value.require_explicit_policy}")
    if value.inhibit_policy_mapping is not None:
        parts.append(f"Inhibit Policy Mapping:{value.inhibit_policy_mapping}")
    return ", ".join(parts)


def _ms_template(value: x509.MSCertificateTemplate) -> str:
    parts = [f"Template={value.template_id.dotted_string}"]
    if value.major_version is not None:
        parts.append(f"Major Version Number={value.major_version}")
    if value.minor_version is not None:
        parts.append(f"Minor Version Number={value.minor_version}")
    return ", ".join(parts)


def _scts(value: Iterable) -> str:
    lines = []
    for sct in value:
        lines += [
            "Signed Certificate Timestamp:",
            *_field("Version   ", [f"v{sct.version.value + 1} (0x{sct.version.value:X})"]),
            *_field("Log ID    ", _hex_rows(sct.log_id)),
            *_field("Timestamp ", [_time(sct.timestamp, milliseconds=True)]),
            *_field("Extensions", _hex_rows(sct.extension_bytes) or ["none"]),
            *_field("Signature ", [_sct_algorithm(sct), *_hex_rows(sct.signature)]),
        ]
    return "\n".join(lines)


def _field(label: str, rows: list[str]) -> list[str]:
    return [f"    {label}: {rows[0]}", *(" " * 16 + row for row in rows[1:])]


def _sct_algorithm(sct) -> str:
    hash_name = sct.signature_hash_algorithm.name
    if sct.signature_algorithm == SignatureAlgorithm.ECDSA:
        return f"ecdsa-with-{hash_name.upper()}"
    if sct.signature_algorithm == SignatureAlgorithm.RSA:
        return f"{hash_name}WithRSAEncryption"
    return f"{sct.signature_algorithm.name}-with-{hash_name.upper()}"


FORMATS: dict[type, Callable] = {
    x509.BasicConstraints: _basic_constraints,
    x509.ExtendedKeyUsage: lambda v: ", ".join(_object_name(o) for o in v),
    x509.SubjectAlternativeName: lambda v: ", ".join(_general_name(n) for n in v),
    x509.IssuerAlternativeName: lambda v: ", ".join(_general_name(n) for n in v),
    x509.SubjectKeyIdentifier: lambda v: _hex(v.digest),
    x509.AuthorityKeyIdentifier: _authority_key_id,
    x509.CRLDistributionPoints: _distribution_points,
    x509.FreshestCRL: _distribution_points,
    x509.AuthorityInformationAccess: _access,
    x509.SubjectInformationAccess: _access,
    x509.CertificatePolicies: _policies,
    x509.NameConstraints: _name_constraints,
    x509.PolicyConstraints: _policy_constraints,
    x509.InhibitAnyPolicy: lambda v: str(v.skip_certs),
    x509.PrecertificateSignedCertificateTimestamps: _scts,
    x509.SignedCertificateTimestamps: _scts,
    x509.PrecertPoison: lambda v: "NULL",
    x509.OCSPNoCheck: lambda v: "",
    x509.MSCertificateTemplate: _ms_template,
}


# --- values decoded from their DER here ------------------------------------------------


def _named_bits(value: bytes, names: tuple[str, ...]) -> str:
    tag, content, rest = _tlv(value)
    if tag != 0x03 or not content or rest:
        raise ValueError("not a BIT STRING")
    bits = content[1:]
    return ", ".join(
        name
        for i, name in enumerate(names)
        if i // 8 < len(bits) and bits[i // 8] & (0x80 >> i % 8)
    )


def _string(value: bytes) -> str:
    tag, content, rest = _tlv(value)
    codec = {0x0C: "utf-8", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}.get(tag, "latin-1")
    if rest or tag not in (0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A, 0x1C, 0x1E):
        raise ValueError("not a string")
    return content.decode(codec)


def _application_policies(value: bytes) -> str:
    # Microsoft's Application Policies have the syntax of Certificate Policies.
    return _policies(_decode_alone(_der(0x30, CERTIFICATE_POLICIES_OID + _der(0x04, value))).value)


def _private_key_usage_period(value: bytes) -> str:
    parts = []
    for tag, content in _elements(_sequence(value)):
        if tag not in (0x80, 0x81):
            raise ValueError("not a private key usage period")
        moment = dt.datetime.strptime(content.decode("ascii"), "%Y%m%d%H%M%SZ")
        parts.append(f"{'Not Before' if tag == 0x80 else 'Not After'}: {_time(moment)}")
    return ", ".join(parts)


def _tls_features(value: bytes) -> str:
    numbers = [int.from_bytes(_expect(0x02, *e), "big") for e in _elements(_sequence(value))]
    return ", ".join(TLS_FEATURES.get(number, str(number)) for number in numbers)


def _policy_mappings(value: bytes) -> str:
    mappings = []
    for tag, content in _elements(_sequence(value)):
        issuer, subject = (_oid(_expect(0x06, *e)) for e in _elements(_expect(0x30, tag, content)))
        mappings.append(f"{_object_name(issuer)}:{_object_name(subject)}")
    return ", ".join(mappings)


RAW_FORMATS: dict[str, Callable[[bytes], str]] = {
    # cryptography refuses Encipher/Decipher Only without Key Agreement; openssl prints it.
    "2.5.29.15": lambda v: _named_bits(v, KEY_USAGES),
    "2.5.29.33": _policy_mappings,
    # cryptography 44, which pyproject allows, has no PrivateKeyUsagePeriod.
    "2.5.29.16": _private_key_usage_period,
    # cryptography fails on TLS features it has no name for; openssl prints their numbers.
    "1.3.6.1.5.5.7.1.24": _tls_features,
    "2.16.840.1.113730.1.1": lambda v: _named_bits(v, NETSCAPE_CERT_TYPES),
    **dict.fromkeys(
        [f"2.16.840.1.113730.1.{n}" for n in (2, 3, 4, 7, 8, 12, 13)] + ["1.3.6.1.4.1.311.20.2"],
        _string,
    ),
    "1.3.6.1.4.1.311.21.10": _application_policies,
}


# --- general names, names, times, hex --------------------------------------------------


def _general_name(name: x509.GeneralName, inline: bool = True) -> str:
    """One general name as openssl prints it: `inline` for lists such as a SAN, where it
    writes directory names as /CN=x/O=y; otherwise (CRL DP, name constraints) as CN = x."""
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP Address:{_ip(name.value)}"
    if isinstance(name, x509.RegisteredID):
        return f"Registered ID:{_object_name(name.value)}"
    if isinstance(name, x509.DirectoryName):
        return f"DirName:{_slashed_name(name.value) if inline else _spaced_name(name.value)}"
    if isinstance(name, x509.OtherName):
        return _other_name(name, inline)
    return f"{type(name).__name__}:{name.value}"


def _other_name(name: x509.OtherName, inline: bool) -> str:
    oid = name.type_id.dotted_string
    try:
        text = _string(name.value)
    except ValueError:
        text = _hex(name.value)
    if inline:
        return f"othername: {OTHER_NAME_TYPES.get(oid) or _object_name(oid)}::{text}"
    return f"othername:{OTHER_NAME_TYPES.get(oid, oid)}:{text}"


def _ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.version == 4:
        return str(address)
    packed = address.packed
    return ":".join(f"{int.from_bytes(packed[i : i + 2], 'big'):X}" for i in range(0, 16, 2))


def _slashed_name(name: x509.Name) -> str:
    return "".join(f"/{_attribute(a)}={_attribute_value(a)}" for a in name)


def _spaced_name(name: x509.Name) -> str:
    return ", ".join(
        " + ".join(f"{_attribute(a)} = {_attribute_value(a)}" for a in rdn) for rdn in name.rdns
    )


def _attribute(attribute: x509.NameAttribute) -> str:
    oid = attribute.oid.dotted_string
    return ATTRIBUTE_NAMES.get(oid, oid)


def _attribute_value(attribute: x509.NameAttribute) -> str:
    value = attribute.value
    return _hex(value) if isinstance(value, bytes) else value


def _object_name(oid: x509.ObjectIdentifier | str) -> str:
    dotted = oid if isinstance(oid, str) else oid.dotted_string
    return LONG_NAMES.get(dotted, dotted)


def _time(moment: dt.datetime, milliseconds: bool = False) -> str:
    # Month names by hand: strftime's %b follows the locale, which Qt sets from the desktop.
    seconds = f"{moment:%H:%M:%S}" + (f".{moment.microsecond // 1000:03d}" if milliseconds else "")
    return f"{MONTHS[moment.month - 1]} {moment.day:2d} {seconds} {moment.year} GMT"


def _hex(data: bytes) -> str:
    return data.hex(":").upper()


def _hex_rows(data: bytes) -> list[str]:
    """openssl's wrapped hex: 16 bytes a row, each row but the last ending in a colon."""
    rows = [_hex(data[i : i + 16]) for i in range(0, len(data), 16)]
    return [row + ":" for row in rows[:-1]] + rows[-1:]


def _indented(lines: Iterable[str], prefix: str = "  ") -> list[str]:
    return [prefix + line for line in lines]


def _unsigned_bytes(number: int) -> bytes:
    number = abs(number)
    return number.to_bytes(max(1, (number.bit_length() + 7) // 8), "big")


# --- just enough DER -------------------------------------------------------------------


def _raw_extensions(tbs: bytes) -> list[tuple[str, bool, bytes, bytes]]:
    """(OID, critical, value, the whole Extension) for each extension in a TBSCertificate."""
    for tag, content in _elements(_sequence(tbs)):
        if tag == 0xA3:  # [3] extensions
            return [_raw_extension(_expect(0x30, *e)) for e in _elements(_sequence(content))]
    return []


def _raw_extension(content: bytes) -> tuple[str, bool, bytes, bytes]:
    parts = _elements(content)
    if len(parts) not in (2, 3):
        raise ValueError("malformed extension")
    critical = len(parts) == 3 and _expect(0x01, *parts[1]) != b"\x00"
    return _oid(_expect(0x06, *parts[0])), critical, _expect(0x04, *parts[-1]), _der(0x30, content)


def _tlv(data: bytes) -> tuple[int, bytes, bytes]:
    """The first element of DER data: its tag, its content and the data after it."""
    if len(data) < 2:
        raise ValueError("truncated DER")
    length, start = data[1], 2
    if length & 0x80:
        start += length & 0x7F
        if not 2 < start <= 6 or start > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[2:start], "big")
    if start + length > len(data):
        raise ValueError("truncated DER")
    return data[0], data[start : start + length], data[start + length :]


def _elements(data: bytes) -> list[tuple[int, bytes]]:
    elements = []
    while data:
        tag, content, data = _tlv(data)
        elements.append((tag, content))
    return elements


def _sequence(data: bytes) -> bytes:
    tag, content, rest = _tlv(data)
    if rest:
        raise ValueError("trailing data after DER")
    return _expect(0x30, tag, content)


def _expect(tag: int, actual: int, content: bytes) -> bytes:
    if actual != tag:
        raise ValueError(f"DER tag {actual:#04x} where {tag:#04x} belongs")
    return content


def _oid(content: bytes) -> str:
    arcs, arc = [], 0
    for byte in content:
        arc = arc << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if not arcs or content[-1] & 0x80:
        raise ValueError("malformed OID")
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content
