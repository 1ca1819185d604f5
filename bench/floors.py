#!/usr/bin/env python3
"""The floors the CLI figures are divided by, each run as its own process (interpreter
start included, as for `certdesk`):

    floors.py import STORE FILE...   parse the PEM files with cryptography and store the
                                     same rows (certificate + DER) in one transaction
    floors.py list STORE             one SELECT of the `list --json` columns (groups and
                                     policies joined) and json.dumps of the same document

Both unlock STORE as the CLI does (app.store.unlock_store: the key slot, Argon2id), with
CERTDESK_USER and CERTDESK_PASSWORD. They skip what the product adds on top: the
permission check, audit events, duplicate and alias checks, pending requests (import);
the service's row objects (list). The import floor writes with executemany on peewee's
connection; peewee's per-row statement building would raise the floor.
"""

import hashlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from app.store import unlock_store
from models import Certificate, CertificateDer

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
EPOCH_US = 1_000_000


def open_store(folder: str):
    store, _, _ = unlock_store(
        Path(folder), os.environ["CERTDESK_USER"], password=os.environ["CERTDESK_PASSWORD"]
    )
    return store


def key_text(public_key) -> str:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "EC P-256", "secp384r1": "EC P-384"}.get(
            public_key.curve.name, f"EC {public_key.curve.name}"
        )
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}"
    return type(public_key).__name__


def import_floor(folder: str, files: list[str]) -> int:
    store = open_store(folder)
    fields = Certificate._meta.sorted_fields
    columns = [f.column_name for f in fields if f.column_name != "id"]
    table = Certificate._meta.table_name
    marks = ", ".join("?" * (len(columns) + 1))
    sql = f'INSERT INTO "{table}" (id, {", ".join(columns)}) VALUES ({marks})'
    der_sql = f'INSERT INTO "{CertificateDer._meta.table_name}" VALUES (?, ?)'
    now = int(time.time()) * EPOCH_US
    rows, ders = [], []
    for name in files:
        for cert in x509.load_pem_x509_certificates(Path(name).read_bytes()):
            der = cert.public_bytes(DER)
            public_key = cert.public_key()
            cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            serial = format(cert.serial_number, "x")
            values = {
                "alias": cns[0].value if cns else "",
                "description": "",
                "enabled": 1,
                "owner_id": None,
                "owner_attestation": None,
                "ask_reason": 0,
                "pin_hash": None,
                "usage_count": 0,
                "last_used": None,
                "sha1": hashlib.sha1(der).hexdigest(),
                "sha256": hashlib.sha256(der).hexdigest(),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "serial": "0" + serial if len(serial) % 2 else serial,
                "not_before": int(cert.not_valid_before_utc.timestamp()) * EPOCH_US,
                "not_after": int(cert.not_valid_after_utc.timestamp()) * EPOCH_US,
                "spki_sha256": hashlib.sha256(public_key.public_bytes(DER, SPKI)).hexdigest(),
                "key_algorithm": key_text(public_key),
                "private_key_id": None,
                "imported_at": now,
            }
            rows.append([values[c] for c in columns])
            ders.append(der)
    with store.db.atomic("IMMEDIATE"):
        first = (store.db.execute_sql(f'SELECT max(id) FROM "{table}"').fetchone()[0] or 0) + 1
        ids = range(first, first + len(rows))
        cursor = store.db.cursor()
        cursor.executemany(sql, [[cid, *row] for cid, row in zip(ids, rows, strict=True)])
        cursor.executemany(der_sql, zip(ids, ders, strict=True))
    store.close()
    print(f"Stored {len(rows)} certificates")
    return 0


# The `list --json` document (app/cli/schemas.py certificate_json), from one statement.
# Names are joined with the unit separator, which no group or policy name holds.
LIST_SQL = """
SELECT c.alias, c.enabled, u.name, c.pin_hash IS NOT NULL, c.ask_reason, c.usage_count,
       c.last_used,
       (SELECT group_concat(g.name, char(31)) FROM certificate_group_member m
          JOIN certificate_group g ON g.id = m.group_id WHERE m.certificate_id = c.id),
       (SELECT group_concat(name, char(31)) FROM (
          SELECT p.name FROM policy_certificate pc JOIN policy p ON p.id = pc.policy_id
           WHERE pc.certificate_id = c.id
          UNION
          SELECT p.name FROM certificate_group_member m
            JOIN policy_certificate_group pg ON pg.group_id = m.group_id
            JOIN policy p ON p.id = pg.policy_id WHERE m.certificate_id = c.id)),
       c.not_before, c.not_after, c.subject, c.issuer, c.serial, c.sha1, c.sha256,
       c.private_key_id IS NOT NULL, c.key_algorithm
  FROM certificate c LEFT JOIN user u ON u.id = c.owner_id
 ORDER BY c.id
"""


def iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(micros // EPOCH_US))


def names(joined: str | None) -> list[str]:
    return [] if joined is None else sorted(joined.split("\x1f"), key=str.casefold)


def list_floor(folder: str) -> int:
    store = open_store(folder)
    rows = store.db.execute_sql(LIST_SQL).fetchall()
    doc = [
        {
            "alias": alias,
            "enabled": bool(enabled),
            "owner": owner,
            "has_pin": bool(has_pin),
            "ask_reason": bool(ask_reason),
            "usage_count": usage_count,
            "last_used": iso(last_used),
            "groups": names(groups),
            "policies": names(policies),
            "valid_from": iso(not_before),
            "valid_to": iso(not_after),
            "subject": subject,
            "issuer": issuer,
            "serial": serial,
            "sha1": sha1,
            "sha256": sha256,
            "has_private_key": bool(has_key),
            "key_algorithm": key_algorithm,
        }
        for (
            alias,
            enabled,
            owner,
            has_pin,
            ask_reason,
            usage_count,
            last_used,
            groups,
            policies,
            not_before,
            not_after,
            subject,
            issuer,
            serial,
            sha1,
            sha256,
            has_key,
            key_algorithm,
        ) in rows
    ]
    store.close()
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "import":
        return import_floor(argv[1], argv[2:])
    if len(argv) == 2 and argv[0] == "list":
        return list_floor(argv[1])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
