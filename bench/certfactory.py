"""Many distinct certificates, fast, with the columns Certdesk stores for each (the tests
have tests/helpers/certgen).

One EC P-256 key, derived from a fixed number so that every worker process holds the same
one, signs every certificate and is every certificate's subject key (an EC signature
costs ~50 µs; a fresh key per certificate would cost more than the rest). Each
certificate differs by CN, organisation, serial and validity, so each has its own SHA-256
and its own alias. Every 20th is expired and every 20th (offset 1) expires within 30 days.

The stored columns are computed from what was built (subject, serial, dates; the
fingerprints are hashes of the DER), never by parsing the certificate again: that is what
lets `stores.py` build a million rows in minutes. `check_against_parser` compares a sample
with the product's own `certificate_facts`, so the two cannot drift apart unnoticed.
"""

import base64
import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from multiprocessing import Pool
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANISATIONS = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli")
ISSUERS = 3
KEY_SCALAR = 0x5EED_CE27_DE5C  # the one key: same in every process, no key to pass around
KEY_ALGORITHM = "EC P-256"
CHUNK = 5_000  # certificates per work item of the pool
# A prime that divides no size (sizes are 2^a·5^b): i -> (i·P mod n) + 1 is a permutation,
# so the CN numbers come shuffled and sorting by name never sees sorted input.
SHUFFLE_PRIME = 1_000_003
MICROS = 1_000_000


class Leaf(NamedTuple):
    """One certificate and its stored columns (a tuple: a million of them are pickled
    between processes and turned into rows)."""

    der: bytes
    sha1: str
    sha256: str
    subject: str
    issuer: str
    alias: str
    serial: str
    not_before: int  # microseconds since the epoch, as models.base.UtcDateTimeField
    not_after: int


def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(KEY_SCALAR, ec.SECP256R1())


def spki_sha256() -> str:
    spki = (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return hashlib.sha256(spki).hexdigest()


def common_name(number: int) -> str:
    return f"Bench Signer {number:07d}"


def issuer_name(k: int) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Bench Issuing CA {k}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Certdesk Bench"),
        ]
    )


def serial_hex(number: int) -> str:
    digits = format(number, "x")
    return "0" + digits if len(digits) % 2 else digits


def validity(i: int, rng: random.Random, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    kind = i % 20
    if kind == 0:  # expired 1 to 400 days ago
        not_after = now - dt.timedelta(days=rng.randint(1, 400), hours=rng.randint(1, 23))
    elif kind == 1:  # expires in 2 to 28 days: well inside the 30-day warning
        not_after = now + dt.timedelta(days=rng.randint(2, 28), hours=rng.randint(1, 23))
    else:  # 60 days to 3 years ahead
        not_after = now + dt.timedelta(days=rng.randint(60, 1100), hours=rng.randint(1, 23))
    return min(now, not_after) - dt.timedelta(days=rng.choice((365, 730, 1095))), not_after


def leaves(start: int, count: int, n: int, now_s: int, seed: int) -> list[Leaf]:
    """Certificates number `start` .. `start + count - 1` of `n` (1-based), built at `now_s`."""
    key = signing_key()
    public_key = key.public_key()
    now = dt.datetime.fromtimestamp(now_s, dt.UTC)
    issuers = [issuer_name(k) for k in range(ISSUERS)]
    issuer_texts = [name.rfc4514_string() for name in issuers]
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING])
    sha256, der_encoding = hashes.SHA256(), serialization.Encoding.DER
    out: list[Leaf] = []
    for i in range(start, start + count):
        rng = random.Random(seed * 10_000_019 + i)
        not_before, not_after = validity(i, rng, now)
        serial = rng.getrandbits(120) | (1 << 120)
        cn = common_name((i * SHUFFLE_PRIME) % n + 1)
        organisation = ORGANISATIONS[i % 5]
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            ]
        )
        der = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuers[i % ISSUERS])
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(eku, critical=False)
            .sign(key, sha256)
            .public_bytes(der_encoding)
        )
        out.append(
            Leaf(
                der=der,
                sha1=hashlib.sha1(der).hexdigest(),
                sha256=hashlib.sha256(der).hexdigest(),
                # RFC 4514 order is the reverse of the DER's; nothing here needs escaping.
                subject=f"C=DE,O={organisation},CN={cn}",
                issuer=issuer_texts[i % ISSUERS],
                alias=cn,
                serial=serial_hex(serial),
                not_before=int(not_before.timestamp()) * MICROS,
                not_after=int(not_after.timestamp()) * MICROS,
            )
        )
    return out


def _leaves_star(job: tuple[int, int, int, int, int]) -> list[Leaf]:
    return leaves(*job)


def generate(n: int, now_s: int, seed: int = 20_000, processes: int = 2) -> Iterator[list[Leaf]]:
    """All `n` certificates in order, in chunks of CHUNK, built by `processes` workers."""
    jobs = [(s, min(CHUNK, n + 1 - s), n, now_s, seed) for s in range(1, n + 1, CHUNK)]
    if processes <= 1 or len(jobs) == 1:
        yield from map(_leaves_star, jobs)
        return
    with Pool(processes) as pool:
        yield from pool.imap(_leaves_star, jobs)


def pem(der: bytes) -> bytes:
    b64 = base64.b64encode(der)
    lines = [b64[k : k + 64] for k in range(0, len(b64), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def pems(n: int, seed: int = 20_000) -> list[bytes]:
    """`n` PEM certificates built now (for the benchmarks that only need PEM)."""
    now_s = int(dt.datetime.now(dt.UTC).timestamp())
    return [pem(leaf.der) for chunk in generate(n, now_s, seed) for leaf in chunk]


def check_against_parser(sample: list[Leaf]) -> list[str]:
    """Where the computed columns differ from what the product's parser stores."""
    from app.crypto.certinfo import certificate_facts

    problems = []
    for leaf in sample:
        facts = certificate_facts(x509.load_der_x509_certificate(leaf.der))
        computed = {
            "sha1": leaf.sha1,
            "sha256": leaf.sha256,
            "subject": leaf.subject,
            "issuer": leaf.issuer,
            "common_name": leaf.alias,
            "serial": leaf.serial,
            "not_before": leaf.not_before,
            "not_after": leaf.not_after,
            "spki_sha256": spki_sha256(),
            "key_algorithm": KEY_ALGORITHM,
        }
        for name, value in computed.items():
            stored = getattr(facts, name)
            if isinstance(stored, dt.datetime):
                stored = int(stored.timestamp()) * MICROS
            if stored != value:
                problems.append(f"{name}: computed {value!r}, the parser stores {stored!r}")
    return problems
