#!/usr/bin/env python3
"""What `key_grants.sync` costs every change of owner, policy or membership: its two diff
queries (wraps to remove, wraps to make) on a store where every certificate has a key
and every grant is already made, beside the floor: one scan of the certificates'
owners in the same run. And the query it runs again once wraps are due, through attested
rows only (every owner's attestation checked), for one key and for every key.

    .venv/bin/python bench/grants_bench.py              # the cached 100k store
    .venv/bin/python bench/grants_bench.py 10000

It works on a copy of the cached bench store (bench/stores.py), with a stand-in key per
certificate (the queries never open one) and a stand-in wrap per owner.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stores

from app.services import attestations, users
from app.services.key_grants import Checker
from models import statements
from models.base import using

# A sealed RSA-2048 key and a wrap are this long: every key row fills a page of its own.
SEALED, WRAP = os.urandom(1245), os.urandom(1168)


def timed(call) -> float:
    """The median of five runs."""
    return statistics.median(timeit.repeat(call, number=1, repeat=5))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="certificates (100000)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bcache")
    args = parser.parse_args()
    entry = stores.ensure(args.n, args.cache)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "store"
        shutil.copytree(entry.store, folder)
        session, _ = users.sign_in(folder, stores.ADMIN, password=stores.PASSWORD)
        db = session.store.db
        try:
            with using(db), db.atomic():
                key_ids = []
                for _ in range(args.n):
                    cursor = db.execute_sql(
                        'INSERT INTO "private_key" ("uid", "algorithm", "spki_sha256", '
                        '"sealed", "created_at", "custodian_wrap") VALUES (?, ?, ?, ?, ?, ?)',
                        (os.urandom(16).hex(), "stand-in", "", SEALED, 0, WRAP),
                    )
                    key_ids.append(cursor.lastrowid)
                ids = [i for (i,) in db.execute_sql('SELECT "id" FROM "certificate" ORDER BY "id"')]
                db.cursor().executemany(
                    'UPDATE "certificate" SET "private_key_id" = ? WHERE "id" = ?',
                    list(zip(key_ids, ids, strict=True)),
                )
                db.execute_sql(
                    'UPDATE "private_key" SET "spki_sha256" = (SELECT c."spki_sha256" FROM '
                    '"certificate" c WHERE c."private_key_id" = "private_key"."id")'
                )
                attestations.attest_rows(session, "owned", ids)
                missing = statements.grants_to_make(db)
                statements.add_grants(db, [(g.key_id, g.user_id, WRAP, False) for g in missing])
            with using(db):
                owners = 'SELECT "owner_id" FROM "certificate" WHERE "owner_id" IS NOT NULL'
                floor = timed(lambda: db.execute_sql(owners).fetchall())
                to_remove = timed(lambda: statements.grants_to_remove(db))
                to_make = timed(lambda: statements.grants_to_make(db))
                one = statements.GrantScope(keys=key_ids[len(key_ids) // 2 : len(key_ids) // 2 + 1])
                attested_one = timed(lambda: statements.grants_to_make(db, one, Checker(session)))
                attested_all = timed(
                    lambda: statements.grants_to_make(db, attested=Checker(session))
                )
        finally:
            session.close()
    print(f"{args.n:,} keyed certificates, {len(missing):,} grants")
    print(f"floor (scan of the owners)  {floor * 1000:8.1f} ms")
    for what, seconds in (
        ("wraps to remove", to_remove),
        ("wraps to make", to_make),
        ("attested, one key", attested_one),
        ("attested, every key", attested_all),
    ):
        print(f"{what:<27} {seconds * 1000:8.1f} ms  {seconds / floor:6.1f} × floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
