"""Make tests/data/store-v1: a real store of schema version 1, for the migration tests.

Run it with the code of schema 1 (commit 4f304ff), never with later code, which would
write a store of its own version:

    mkdir /tmp/certdesk-v1 && git archive 4f304ff | tar -x -C /tmp/certdesk-v1
    cd /tmp/certdesk-v1 && python /path/to/tools/make_store_v1.py /path/to/tests/data/store-v1

(the code is imported from the current folder, and refused unless its SCHEMA_VERSION is 1).

It drives the CLI in this process, with cheap Argon2id parameters so that the tests
unlock the store fast. The admin's password is PASSWORD below; bob's is BOB_PASSWORD.
"""

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PASSWORD = "certdesk v1 fixture"
BOB_PASSWORD = "bob v1 fixture"
P12_PASSWORD = "p12 of the fixture"
# Fixed dates: the fixture is the same whenever it is made, and valid for years.
NOT_BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _cert(cn: str, days: int, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Certdesk Fixture"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_BEFORE + dt.timedelta(days=days))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def main(out: Path) -> None:
    sys.path.insert(0, os.getcwd())
    import models
    from app import cli, keyslots

    if models.SCHEMA_VERSION != 1:
        raise SystemExit(f"{models.__file__}: schema {models.SCHEMA_VERSION}, not 1")
    print(f"making a schema-1 store with the code in {Path(models.__file__).parent.parent}")

    keyslots.DEFAULT_PARAMS = keyslots.Argon2Params(1, 1, 1024)
    os.environ.update(
        {
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "CERTDESK_STORE": str(out),
            "CERTDESK_USER": "admin",
            "CERTDESK_PASSWORD": PASSWORD,
            "CERTDESK_NEW_PASSWORD": BOB_PASSWORD,
            "P12_PASSWORD": P12_PASSWORD,
        }
    )

    def run(*argv: str) -> None:
        code = cli.main(list(argv))
        if code != 0:
            raise SystemExit(f"certdesk {' '.join(argv)}: exit {code}")

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        signing, key = _cert("Release Signing", 365 * 20)
        (work / "release.p12").write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"release",
                key,
                signing,
                None,
                serialization.BestAvailableEncryption(P12_PASSWORD.encode()),
            )
        )
        build, _ = _cert("Build 2030", 365 * 5)
        (work / "build.pem").write_bytes(build.public_bytes(serialization.Encoding.PEM))

        run("init", "--admin", "admin")
        run("import", str(work / "release.p12"), "--password-env", "P12_PASSWORD")
        run("import", str(work / "build.pem"))
        run("group", "add", "Production", "Release Signing", "Build 2030")
        run("user", "add", "bob", "--role", "Signer", "--user-group", "Builders")
        run("set", "Release Signing", "--owner", "bob", "--description", "made at schema 1")
        run("disable", "Build 2030")
        run(
            "policy", "add", "Builders sign", "--cert-group", "Production",
            "--user-group", "Builders",
        )  # fmt: skip
        run(
            "request", "new", "--alias", "Next Build", "--subject", "CN=Next Build,O=Fixture",
            "--key", "ec-p256", "--out", str(work / "next.csr"),
        )  # fmt: skip
        run("audit", "--verify")
        run("check")
    for leftover in ("certdesk.db-wal", "certdesk.db-shm"):
        if (out / leftover).exists():
            raise SystemExit(f"{out / leftover}: left behind; the database is not whole")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} NEW-FOLDER")
    main(Path(sys.argv[1]))
