"""Sniff and parse what an administrator may hand us: PEM (single or bundle), DER,
PKCS#7 (PEM or DER), PKCS#12 (with its key). The format comes from the content, not the
file name. Every failure is an ImportFormatError whose message is one readable reason.
"""

import base64
import binascii
import re
import threading
import warnings
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography import utils as crypto_utils
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from app.errors import ImportFormatError, PasswordRequiredError

# A BEGIN line, and an END marker. The label class holds no "-", so only its longest run
# can be followed by the dashes: a failed match costs the length of one label.
BEGIN_LINE = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----\r?\n")
END_MARKER = re.compile(rb"-----END ([A-Z0-9 #]+)-----")
# Checking an RSA key costs ~40 ms: a file of thousands of them would take minutes.
MAX_KEYS_PER_FILE = 16
CERTIFICATE_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE"}
PKCS7_LABELS = {b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"}
KEY_LABELS = {b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY", b"ENCRYPTED PRIVATE KEY"}
DESCRIBED = {
    b"CERTIFICATE REQUEST": "a certificate signing request",
    b"NEW CERTIFICATE REQUEST": "a certificate signing request",
    b"PUBLIC KEY": "a public key",
    b"X509 CRL": "a certificate revocation list",
}


@dataclass(frozen=True, slots=True)
class PemBlock:
    label: bytes
    body: bytes  # between the BEGIN line and the END line
    text: bytes  # from BEGIN to END, as a PEM reader takes it


@dataclass
class ParsedFile:
    kind: str
    certificates: list[x509.Certificate] = field(default_factory=list)
    keys: list = field(default_factory=list)


_quiet = threading.local()


@contextmanager
def quiet() -> Iterator[None]:
    """Call into cryptography without its warnings about odd but readable inputs
    (negative serials, BER where DER belongs), which we accept on purpose. `quietly`
    inside costs nothing: around a whole bundle, one change of the warnings filters
    instead of several per certificate, which cost more than reading it."""
    if getattr(_quiet, "on", False):
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crypto_utils.CryptographyDeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        _quiet.on = True
        try:
            yield
        finally:
            _quiet.on = False


def quietly(fn, *args):
    """`fn(*args)` inside `quiet()`."""
    if getattr(_quiet, "on", False):
        return fn(*args)
    with quiet():
        return fn(*args)


def parse(data: bytes, password: bytes | None = None) -> ParsedFile:
    if password is not None and b"\x00" in password:
        # OpenSSL takes passwords as C strings; it would panic rather than refuse.
        raise PasswordRequiredError("the password contains a NUL character, which none can")
    if not data.strip():
        raise ImportFormatError("the file is empty")
    if b"-----BEGIN " in data:
        return _parse_pem(data, password)
    if data[:1] == b"\x30":
        return _parse_der(data, password)
    if _looks_like_text(data):
        raise ImportFormatError("not a certificate: a text file without PEM blocks")
    raise ImportFormatError("not a certificate: neither PEM text nor DER data")


def _looks_like_text(data: bytes) -> bool:
    sample = data[:512]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 0x20 or b in b"\t\r\n" for b in sample)


def pem_blocks(data: bytes) -> Iterator[PemBlock]:
    """Each `-----BEGIN L-----` line with the first `-----END L-----` after it, in order;
    a BEGIN line without its END is skipped, and so are the lines inside a block.

    One pass, whatever the shape: the END markers are indexed first, so a BEGIN line whose
    END never comes costs a look-up instead of a scan to the end of the data (a regex with
    a lazy body and a backreference made a file of BEGIN lines quadratic: minutes a MiB).
    """
    ends = _end_markers(data)
    pos = 0
    while (begin := BEGIN_LINE.search(data, pos)) is not None:
        label = begin.group(1)
        candidates = ends.get(label, ())
        nearest = bisect_left(candidates, begin.end())
        if nearest == len(candidates):
            pos = begin.end()
            continue
        end = candidates[nearest]
        pos = end + len(label) + len(b"-----END -----")
        yield PemBlock(label, data[begin.end() : end], data[begin.start() : pos])


def _end_markers(data: bytes) -> dict[bytes, list[int]]:
    """The offsets of the END markers, by label, ascending. Searched one by one rather
    than with finditer: in `-----END A-----END B-----` the second starts inside the first."""
    ends: dict[bytes, list[int]] = defaultdict(list)
    pos = 0
    while (end := END_MARKER.search(data, pos)) is not None:
        ends[end.group(1)].append(end.start())
        pos = end.start() + len(b"-----END ")
    return ends


def _parse_pem(data: bytes, password: bytes | None) -> ParsedFile:
    parsed = ParsedFile(kind="PEM")
    labels: list[bytes] = []
    for number, block in enumerate(pem_blocks(data), start=1):
        label, body = block.label, block.body
        labels.append(label)
        where = f"PEM block {number} ({label.decode()})"
        if label in CERTIFICATE_LABELS:
            der = _pem_body(body, where)
            parsed.certificates.append(_load_der_certificate(der, where))
        elif label in PKCS7_LABELS:
            parsed.kind = "PKCS#7 (PEM)"
            parsed.certificates.extend(_load_pkcs7(_pem_body(body, where), where))
        elif label in KEY_LABELS:
            if len(parsed.keys) == MAX_KEYS_PER_FILE:
                raise ImportFormatError(
                    f"holds more than {MAX_KEYS_PER_FILE} private keys; "
                    "give each key beside its certificate"
                )
            parsed.keys.append(_load_pem_key(block.text, password, where))
    if not labels:
        raise ImportFormatError("damaged PEM: a BEGIN line without its matching END line")
    if not parsed.certificates:
        if parsed.keys:  # a .key beside its .crt: the store matches it to its certificate
            parsed.kind = "PEM private key"
            return parsed
        what = DESCRIBED.get(labels[0], f"a {labels[0].decode()} block")
        raise ImportFormatError(f"not a certificate: the file holds {what}")
    if len(parsed.certificates) > 1 and parsed.kind == "PEM":
        parsed.kind = "PEM bundle"
    return parsed


def _pem_body(body: bytes, where: str) -> bytes:
    if b":" in body.split(b"\n", 1)[0]:
        raise ImportFormatError(f"{where}: has headers a certificate block never has")
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ImportFormatError(f"{where}: damaged base64") from None


def _load_der_certificate(der: bytes, where: str) -> x509.Certificate:
    try:
        cert = quietly(x509.load_der_x509_certificate, der)
        # Force the fields every listing needs, so a damaged one fails here, not later.
        quietly(lambda: (cert.serial_number, cert.not_valid_after_utc, cert.issuer))
        return cert
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        raise ImportFormatError(f"{where}: damaged certificate ({_short(exc)})") from None


def _load_pkcs7(der: bytes, where: str) -> list[x509.Certificate]:
    try:
        certs = quietly(pkcs7.load_der_pkcs7_certificates, der)
    except UnsupportedAlgorithm:
        raise ImportFormatError(
            f"{where}: a PKCS#7/CMS message of another kind (encrypted or enveloped data?), "
            "not a certificate bundle"
        ) from None
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        raise ImportFormatError(f"{where}: damaged PKCS#7 ({_short(exc)})") from None
    if not certs:
        raise ImportFormatError(f"{where}: the PKCS#7 holds no certificates")
    return list(certs)


def _load_pem_key(block: bytes, password: bytes | None, where: str):
    try:
        return serialization.load_pem_private_key(block, password=password)
    except TypeError:
        if password is not None:  # not encrypted: the password was for another file
            return _load_pem_key(block, None, where)
        raise PasswordRequiredError(
            f"{where}: the private key is encrypted; give its password"
        ) from None
    except ValueError as exc:
        if password is not None and "password" in str(exc).lower():
            raise PasswordRequiredError(f"{where}: wrong password for the private key") from None
        raise ImportFormatError(f"{where}: damaged private key ({_short(exc)})") from None
    except Exception as exc:  # unsupported key types raise UnsupportedAlgorithm
        raise ImportFormatError(f"{where}: unsupported private key ({_short(exc)})") from None


def _load_der_key(data: bytes, password: bytes | None):
    try:
        return quietly(serialization.load_der_private_key, data, password)
    except TypeError:
        if password is not None:  # not encrypted: the password was for another file
            return _load_der_key(data, None)
        raise PasswordRequiredError("the private key is encrypted; give its password") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ImportFormatError(
            f"neither a certificate nor a readable private key ({_short(exc)})"
        ) from None


def _der_header(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, header length, content length) of the DER element at offset."""
    if offset + 2 > len(data):
        raise ImportFormatError("truncated: the DER data ends inside a header")
    tag, first = data[offset], data[offset + 1]
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7F
    if count == 0 or count > 4 or offset + 2 + count > len(data):
        raise ImportFormatError("damaged DER: an impossible length")
    length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    return tag, 2 + count, length


def _parse_der(data: bytes, password: bytes | None) -> ParsedFile:
    _, header, length = _der_header(data, 0)
    if header + length > len(data):
        raise ImportFormatError(
            f"truncated: the DER data announces {header + length} bytes, the file has {len(data)}"
        )
    inner_tag, inner_header, inner_length = _der_header(data, header)
    if inner_tag == 0x30:
        return ParsedFile(kind="DER", certificates=[_load_der_certificate(data, "DER")])
    if inner_tag == 0x06:
        return ParsedFile(kind="PKCS#7 (DER)", certificates=_load_pkcs7(data, "PKCS#7"))
    if inner_tag == 0x02:
        version = data[header + inner_header : header + inner_header + inner_length]
        if version == b"\x03":
            return _parse_pkcs12(data, password)
        return ParsedFile(kind="DER private key", keys=[_load_der_key(data, password)])
    raise ImportFormatError("not a certificate: DER data of another kind")


def _load_pkcs12(data: bytes, password: bytes | None):
    """With the password given, else none: a file without a password opens whatever
    password came with the command. Many tools write "no password" as the empty one."""
    if password is not None and not _is_utf8(password):
        try:  # a file without a password still opens
            return _load_pkcs12(data, None)
        except ValueError:
            raise PasswordRequiredError(
                "the password is not UTF-8 text, and a PKCS#12 password must be"
            ) from None
    first_error: ValueError | None = None
    for attempt in dict.fromkeys([password, None, b""]):
        try:
            return quietly(pkcs12.load_pkcs12, data, attempt)
        except ValueError as exc:
            first_error = first_error or exc
    raise first_error


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse_pkcs12(data: bytes, password: bytes | None) -> ParsedFile:
    try:
        bundle = _load_pkcs12(data, password)
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "mac" in text:
            if password is None:
                raise PasswordRequiredError("the PKCS#12 file needs a password") from None
            raise PasswordRequiredError("wrong password for the PKCS#12 file") from None
        raise ImportFormatError(f"damaged PKCS#12 ({_short(exc)})") from None
    except PasswordRequiredError:
        raise
    except Exception as exc:  # unsupported encryption schemes, unknown key types
        raise ImportFormatError(f"unsupported PKCS#12 ({_short(exc)})") from None
    parsed = ParsedFile(kind="PKCS#12")
    if bundle.cert is not None:
        parsed.certificates.append(bundle.cert.certificate)
    parsed.certificates.extend(c.certificate for c in bundle.additional_certs)
    if bundle.key is not None:
        parsed.keys.append(bundle.key)
    if not parsed.certificates:
        raise ImportFormatError("the PKCS#12 file holds no certificate")
    return parsed


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
