#!/usr/bin/env python3
"""Bulk operations on N checked certificates: the services the selection toolbar calls.

    .venv/bin/python bench/bulk_bench.py            # 10,000 of a 20,000-certificate store
    .venv/bin/python bench/bulk_bench.py 10000 --store-size 100000

A fresh temporary store (the keyring is the fail backend); rows are bulk-inserted as the
table benchmark's `--setup direct` does, so setup takes seconds. Each line is the time of
one service call (one transaction, audit events included) plus the rows it re-reads for
the table, as the GUI does after the operation.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import certfactory
from table_bench import setup_direct

from app.services import certificate_groups, certificates, lifecycle, users
from models import Certificate


def timed(label: str, call) -> object:
    start = time.perf_counter()
    result = call()
    print(f"  {label:<44} {time.perf_counter() - start:7.3f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=10_000, help="checked certificates")
    parser.add_argument("--store-size", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="certdesk-bulk-") as work:
        session, _ = users.initialise_store(Path(work) / "store", "bench", "bench-password-123")
        try:
            print(f"Setting up {args.store_size:,} certificates (not counted)…")
            setup_direct(session, certfactory.generate(args.store_size))
            ids = [i for (i,) in Certificate.select(Certificate.id).tuples()][::2][: args.n]
            print(f"Bulk operations on {len(ids):,} of {args.store_size:,} certificates:")
            result = timed("disable", lambda: lifecycle.disable_certificates(session, ids))
            timed("  re-read the changed rows", lambda: certificates.certificate_rows(session, ids))
            assert len(result.changed_ids) == len(ids)
            timed("enable", lambda: lifecycle.enable_certificates(session, ids))
            both, one = ["Bench A", "Bench B"], ["Bench A"]
            timed(
                "add to 2 new groups", lambda: certificate_groups.add_to_groups(session, ids, both)
            )
            timed(
                "remove from 1 group",
                lambda: certificate_groups.remove_from_groups(session, ids, one),
            )
            timed("delete (with checkpoint)", lambda: lifecycle.delete_certificates(session, ids))
            left = Certificate.select().count()
            assert left == args.store_size - len(ids), left
        finally:
            session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
