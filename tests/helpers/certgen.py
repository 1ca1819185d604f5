"""Certificates made for the tests with cryptography (and a few odd ones with openssl)."""

import datetime as dt
import subprocess
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

NOW = dt.datetime.now(dt.UTC)


@cache
def ec_key(seed: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_cert(
    cn: str = "Test Signing",
    key=None,
    days: int = 365,
    start_days: int = -1,
    serial: int | None = None,
    org: str = "Certdesk Tests",
) -> tuple[x509.Certificate, object]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=start_days))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def p7b(certs: list[x509.Certificate], encoding=serialization.Encoding.DER) -> bytes:
    return pkcs7.serialize_certificates(certs, encoding)


def p12(cert, key, password: bytes | None, extra=None, name=b"test") -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(name, key, cert, extra, encryption)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def openssl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=True, timeout=60)


def verify_detached(signature: Path, content: Path) -> bool:
    """openssl's verdict on a detached CMS signature of `content` (signer trust aside)."""
    verified = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
        "-content", str(content), "-noverify", "-out", "/dev/null",
    )  # fmt: skip
    return b"Verification successful" in verified.stderr


RICH_EXTENSIONS = (
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,nonRepudiation",
    "extendedKeyUsage=codeSigning,timeStamping,1.3.6.1.4.1.311.10.3.13",
    "subjectAltName=DNS:build.example.com,email:release@example.com,"
    "URI:https://example.com/signing,IP:10.20.30.40",
    "subjectKeyIdentifier=hash",
    "crlDistributionPoints=URI:http://crl.example.com/signing.crl",
    "authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/ca.cer",
    "certificatePolicies=1.3.6.1.4.1.99999.1.2,2.23.140.1.3",
    "1.3.6.1.4.1.311.20.2=ASN1:BMPSTRING:CodeSigning",
    "1.2.3.4.5.6.7=critical,DER:0500",
)


def openssl_rich_cert(folder: Path, cn: str = "Release Code Signing 2026") -> Path:
    """A code-signing certificate from `openssl req -x509` with many extensions."""
    out = folder / "rich.pem"
    args = [arg for ext in RICH_EXTENSIONS for arg in ("-addext", ext)]
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(folder / "rich.key"), "-days", "400", "-out", str(out),
        "-subj", f"/C=DE/ST=Berlin/L=Berlin/O=Example Software GmbH/OU=Release Engineering/CN={cn}",
        *args,
    )  # fmt: skip
    return out


def openssl_v1_cert(folder: Path, cn: str = "Legacy Version One") -> Path:
    """An X.509 version 1 certificate: `openssl x509 -req` without extensions."""
    openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(folder / "v1.key"), "-subj", f"/CN={cn}", "-out", str(folder / "v1.csr"),
    )  # fmt: skip
    openssl(
        "x509", "-req", "-in", str(folder / "v1.csr"), "-key", str(folder / "v1.key"),
        "-days", "30", "-out", str(folder / "v1.pem"),
    )  # fmt: skip
    return folder / "v1.pem"


CURVES = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}


@cache
def ed25519_cert(cn: str = "Edwards") -> tuple[x509.Certificate, object]:
    """A self-signed certificate with an Ed25519 key (which signs without a hash)."""
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .sign(key, None)
    )
    return cert, key


_REQUEST_CA: list = []


def issue_for_request(csr_pem: str, days: int = 30) -> bytes:
    """The CA's part, in-process: a PEM certificate for the CSR, with its extensions."""
    if not _REQUEST_CA:
        _REQUEST_CA.extend(make_cert("In-process CA"))
    ca_cert, ca_key = _REQUEST_CA
    request = x509.load_pem_x509_csr(csr_pem.encode())
    builder = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(ca_cert.subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
    )
    for extension in request.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    return pem(builder.sign(ca_key, hashes.SHA256()))


def curve_key(curve: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVES[curve])


def issue(
    cn: str,
    extensions: list[tuple[x509.ExtensionType, bool]],
    key=None,
    issuer: tuple[x509.Certificate, object] | None = None,
    days: int = 365,
) -> tuple[x509.Certificate, object]:
    """A certificate with exactly `extensions` (each with its critical flag), signed by
    `issuer` (a certificate and its key) or by itself."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Certdesk Tests"),
        ]
    )
    issuer_cert, issuer_key = issuer or (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256()), key


def key_usage(*names: str) -> x509.KeyUsage:
    """KeyUsage with the named bits set: digital_signature, content_commitment, ..."""
    bits = dict.fromkeys(
        (
            "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
            "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
        ),
        False,
    )  # fmt: skip
    bits.update(dict.fromkeys(names, True))
    return x509.KeyUsage(**bits)


def ca(cn: str, issuer: tuple[x509.Certificate, object] | None = None):
    return issue(
        cn,
        [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (key_usage("key_cert_sign", "crl_sign", "digital_signature"), True),
        ],
        issuer=issuer,
    )
