"""X.509 extensions as plain data: name, OID, critical flag and a readable value."""

from dataclasses import dataclass

from cryptography import x509

from app.crypto.parse import quietly


@dataclass(frozen=True)
class ExtensionInfo:
    oid: str
    name: str
    critical: bool
    value: str


def describe_extensions(cert: x509.Certificate) -> list[ExtensionInfo]:
    """Every extension; one that cryptography cannot decode is shown as OID plus hex."""
    try:
        extensions = quietly(lambda: list(cert.extensions))
    except ValueError as exc:
        return [ExtensionInfo("", "undecodable extensions", False, str(exc))]
    return [
        ExtensionInfo(
            oid=ext.oid.dotted_string,
            name=getattr(ext.oid, "_name", None) or ext.oid.dotted_string,
            critical=ext.critical,
            value=_value_text(ext.value),
        )
        for ext in extensions
    ]


def _value_text(value: x509.ExtensionType) -> str:
    if isinstance(value, x509.UnrecognizedExtension):
        return value.value.hex(":")
    if isinstance(value, x509.BasicConstraints):
        text = f"CA:{'TRUE' if value.ca else 'FALSE'}"
        return text if value.path_length is None else f"{text}, pathlen:{value.path_length}"
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(getattr(u, "_name", None) or u.dotted_string for u in value)
    if isinstance(value, x509.SubjectAlternativeName | x509.IssuerAlternativeName):
        return ", ".join(_general_name(n) for n in value)
    if isinstance(value, x509.SubjectKeyIdentifier):
        return value.digest.hex(":").upper()
    if isinstance(value, x509.KeyUsage):
        return ", ".join(_key_usages(value))
    return str(value)


def _general_name(name: x509.GeneralName) -> str:
    label = {
        x509.DNSName: "DNS",
        x509.RFC822Name: "email",
        x509.UniformResourceIdentifier: "URI",
        x509.IPAddress: "IP Address",
        x509.DirectoryName: "DirName",
        x509.RegisteredID: "Registered ID",
        x509.OtherName: "othername",
    }.get(type(name), type(name).__name__)
    value = name.value
    if isinstance(value, x509.Name):
        value = value.rfc4514_string()
    elif isinstance(name, x509.OtherName):
        value = f"{name.type_id.dotted_string}:{name.value.hex()}"
    return f"{label}:{value}"


def _key_usages(value: x509.KeyUsage) -> list[str]:
    names = [
        ("digital_signature", "Digital Signature"),
        ("content_commitment", "Non Repudiation"),
        ("key_encipherment", "Key Encipherment"),
        ("data_encipherment", "Data Encipherment"),
        ("key_agreement", "Key Agreement"),
        ("key_cert_sign", "Certificate Sign"),
        ("crl_sign", "CRL Sign"),
    ]
    used = [label for attr, label in names if getattr(value, attr)]
    if value.key_agreement:
        if value.encipher_only:
            used.append("Encipher Only")
        if value.decipher_only:
            used.append("Decipher Only")
    return used
