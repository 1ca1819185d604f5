"""Many distinct certificates, fast, for the benchmarks (the tests have tests/helpers/certgen).

One EC P-256 key signs every certificate and is every certificate's subject key (an EC
signature costs ~50 µs; a fresh key per certificate would cost more than the rest). Each
certificate differs by CN, organisation, serial and validity, so each has its own SHA-256
and its own alias. About 5% are expired and 5% expire within the next 30 days.
"""

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANISATIONS = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli")
ISSUERS = 3
EXPIRING_DAYS = 30  # as app.services.certificates.EXPIRING_DAYS


@dataclass(frozen=True)
class Batch:
    pems: list[bytes]
    expired: int  # how many had expired when generated
    expiring: int  # how many expire within EXPIRING_DAYS of generation
    now: dt.datetime


def common_name(i: int) -> str:
    return f"Bench Signer {i:07d}"


def generate(n: int, seed: int = 20_000) -> Batch:
    """`n` PEM certificates; every 20th is expired and every 20th (offset 1) expires soon."""
    rng = random.Random(seed)
    key = ec.generate_private_key(ec.SECP256R1())
    public_key = key.public_key()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    issuers = [
        x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, f"Bench Issuing CA {k}"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Certdesk Bench"),
            ]
        )
        for k in range(ISSUERS)
    ]
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING])
    sha256 = hashes.SHA256()
    pem = serialization.Encoding.PEM
    # CN numbers in shuffled order: sorting by name must not see already-sorted input.
    numbers = list(range(1, n + 1))
    rng.shuffle(numbers)
    serials: set[int] = set()
    pems: list[bytes] = []
    expired = expiring = 0
    for i in range(1, n + 1):
        kind = i % 20
        if kind == 0:  # expired 1 to 400 days ago
            not_after = now - dt.timedelta(days=rng.randint(1, 400), hours=rng.randint(1, 23))
            expired += 1
        elif kind == 1:  # expires in 2 to 28 days: well inside the 30-day warning
            not_after = now + dt.timedelta(days=rng.randint(2, 28), hours=rng.randint(1, 23))
            expiring += 1
        else:  # 60 days to 3 years ahead
            not_after = now + dt.timedelta(days=rng.randint(60, 1100), hours=rng.randint(1, 23))
        not_before = min(now, not_after) - dt.timedelta(days=rng.choice((365, 730, 1095)))
        serial = rng.getrandbits(120) | (1 << 120)
        while serial in serials:
            serial = rng.getrandbits(120) | (1 << 120)
        serials.add(serial)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name(numbers[i - 1])),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATIONS[i % 5]),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuers[i % ISSUERS])
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(eku, critical=False)
            .sign(key, sha256)
        )
        pems.append(cert.public_bytes(pem))
    return Batch(pems=pems, expired=expired, expiring=expiring, now=now)


def write_files(batch: Batch, folder: Path) -> list[str]:
    """One PEM file per certificate; returns the file names (relative to `folder`)."""
    folder.mkdir(parents=True, exist_ok=True)
    width = max(6, len(str(len(batch.pems))))
    names = []
    for i, data in enumerate(batch.pems, start=1):
        name = f"cert-{i:0{width}d}.pem"
        (folder / name).write_bytes(data)
        names.append(name)
    return names


def write_bundle(batch: Batch, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(batch.pems))
    return path
