"""The benchmark's stores and PEM bundles, built fast and cached between runs.

A cached entry is a folder `<cache>/<n>-schema<SCHEMA_VERSION>-factory<FACTORY>/` with
`store/` (a Certdesk store of n certificates, administrator ADMIN, password PASSWORD),
`pem/` (the same certificates as bundles of at most BUNDLE certificates: the import
refuses files over 20 MiB) and `meta.json`. It is built under a temporary name and
renamed when complete, so a killed build never leaves a half-made entry.

The rows are inserted directly: the columns come from certfactory (no parsing), the
statement from the models' own table and column names, with executemany in chunks, all
in one transaction. Then the rows are decorated as a user's store would be: groups,
policies (direct and through groups), usage counts, owners, PINs, disabled rows.
"""

import datetime as dt
import json
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import certfactory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.services import users  # noqa: E402
from app.services.session import write_transaction  # noqa: E402
from models import (  # noqa: E402
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    User,
)
from models.schema import SCHEMA_VERSION  # noqa: E402

ADMIN = "bench"
PASSWORD = "bench-password-123"
FACTORY = 1  # bump when certfactory or the decoration changes what a store holds
BUNDLE = 10_000
GROUPS = 24
POLICIES = 6
CACHE_PAGES_KIB = 512 * 1024  # SQLite page cache while building: the indexes stay in memory


@dataclass(frozen=True)
class Cached:
    n: int
    store: Path
    bundles: tuple[Path, ...]
    built_at: int  # epoch seconds the certificates' validity is relative to
    build_seconds: float


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "certdesk-bench"


def entry_name(n: int) -> str:
    return f"{n}-schema{SCHEMA_VERSION}-factory{FACTORY}"


def ensure(n: int, cache: Path, fresh: bool = False, log=print) -> Cached:
    """The cached entry for `n` certificates, built first if missing (or if `fresh`)."""
    folder = cache / entry_name(n)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if not (folder / "meta.json").exists():
        building = cache / f".building-{entry_name(n)}-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        try:
            build(n, building, log)
            shutil.rmtree(folder, ignore_errors=True)
            building.rename(folder)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    meta = json.loads((folder / "meta.json").read_text())
    bundles = tuple(folder / "pem" / name for name in meta["bundles"])
    return Cached(n, folder / "store", bundles, meta["built_at"], meta["build_seconds"])


def build(n: int, folder: Path, log) -> None:
    start = time.perf_counter()
    now_s = int(dt.datetime.now(dt.UTC).timestamp())
    log(f"  building the {n:,}-certificate store and PEM bundles in {folder} ...")
    session = users.initialise_store(folder / "store", ADMIN, PASSWORD)[0]
    try:
        owner = User.get(User.name == ADMIN).id
        db = session.store.db
        db.execute_sql(f"PRAGMA cache_size = -{CACHE_PAGES_KIB}")
        (folder / "pem").mkdir()
        bundles: list[str] = []
        with write_transaction(session):
            insert = Inserter(db, owner, now_s)
            pending: list[bytes] = []
            for chunk in certfactory.generate(n, now_s):
                if not bundles and len(chunk) > 1:
                    problems = certfactory.check_against_parser(chunk[:20])
                    if problems:
                        raise SystemExit("certfactory drifted from the parser: " + problems[0])
                insert.add(chunk)
                pending.extend(certfactory.pem(leaf.der) for leaf in chunk)
                while len(pending) >= BUNDLE or (pending and insert.count == n):
                    bundles.append(write_bundle(folder / "pem", len(bundles) + 1, pending[:BUNDLE]))
                    del pending[:BUNDLE]
            inserted = time.perf_counter() - start
            decorate(db, n, owner)
        session.store.checkpoint()
    finally:
        session.close()
    seconds = time.perf_counter() - start
    log(
        f"  built in {seconds:.0f} s (generated and inserted in {inserted:.0f} s, "
        f"{len(bundles)} bundle(s))"
    )
    meta = {"n": n, "built_at": now_s, "build_seconds": seconds, "bundles": bundles}
    (folder / "meta.json").write_text(json.dumps(meta))


def write_bundle(folder: Path, number: int, certificates: list[bytes]) -> str:
    name = f"bundle-{number:03d}.pem"
    (folder / name).write_bytes(b"".join(certificates))
    return name


def insert_sql(model, columns: list[str]) -> str:
    table = model._meta.table_name
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


class Inserter:
    """Certificate and CertificateDer rows for certfactory leaves, ids 1, 2, ... in order.
    The per-row flags (enabled, owner, PIN, ask-reason, usage) are decided here, so that
    no UPDATE pass over a million rows is needed."""

    def __init__(self, db, owner: int, now_s: int):
        self.db = db
        self.owner = owner
        self.count = 0
        self.rng = random.Random(7)
        self.now_us = now_s * certfactory.MICROS
        self.spki = certfactory.spki_sha256()
        fields = Certificate._meta.sorted_fields
        self.columns = [f.column_name for f in fields]
        self.sql = insert_sql(Certificate, self.columns)
        self.der_sql = insert_sql(CertificateDer, ["certificate_id", "der"])

    def add(self, chunk: list[certfactory.Leaf]) -> None:
        rows = [self.row(self.count + k + 1, leaf) for k, leaf in enumerate(chunk)]
        cursor = self.db.cursor()
        cursor.executemany(self.sql, rows)
        cursor.executemany(
            self.der_sql, [(self.count + k + 1, leaf.der) for k, leaf in enumerate(chunk)]
        )
        self.count += len(chunk)

    def row(self, cid: int, leaf: certfactory.Leaf) -> tuple:
        rng = self.rng
        used = rng.random() < 0.3
        values = {
            "id": cid,
            "alias": leaf.alias,
            "description": "",
            "enabled": 0 if rng.random() < 0.02 else 1,
            "owner_id": self.owner if rng.random() < 0.1 else None,
            "owner_attestation": None,
            "ask_reason": 1 if rng.random() < 0.1 else 0,
            "pin_hash": "bench-not-a-real-hash" if rng.random() < 0.05 else None,
            "usage_count": rng.randint(1, 5000) if used else 0,
            "last_used": self.now_us - rng.randint(1, 400 * 24 * 60) * 60 * certfactory.MICROS
            if used
            else None,
            "sha1": leaf.sha1,
            "sha256": leaf.sha256,
            "subject": leaf.subject,
            "issuer": leaf.issuer,
            "serial": leaf.serial,
            "not_before": leaf.not_before,
            "not_after": leaf.not_after,
            "spki_sha256": self.spki,
            "key_algorithm": certfactory.KEY_ALGORITHM,
            "private_key_id": None,
            "imported_at": self.now_us,
        }
        return tuple(values[c] for c in self.columns)


def decorate(db, n: int, owner: int) -> None:
    """Groups (two thirds of the rows in one, a third in two) and policies naming groups
    and some certificates directly, as table_bench did: every column has values."""
    groups = [CertificateGroup.create(name=f"Team {k + 1:02d} signing").id for k in range(GROUPS)]
    members = []
    for cid in range(1, n + 1):
        k = cid - 1
        if k % 3 >= 1:
            members.append((groups[k % GROUPS], cid))
        if k % 3 == 2 and (k * 7) % GROUPS != k % GROUPS:
            members.append((groups[(k * 7) % GROUPS], cid))
    db.cursor().executemany(
        insert_sql(CertificateGroupMember, ["group_id", "certificate_id"]), members
    )
    direct = []
    for p in range(POLICIES):
        policy = Policy.create(name=f"Policy {chr(ord('A') + p)}: release signing")
        for g in range(4):
            PolicyCertificateGroup.create(policy=policy, group=groups[(p * 4 + g) % GROUPS])
        direct.extend((policy.id, cid) for cid in range(1 + p, n + 1, 97 + p))
    db.cursor().executemany(insert_sql(PolicyCertificate, ["policy_id", "certificate_id"]), direct)


def working_copy(cached: Cached, folder: Path) -> Path:
    """A copy of the cached store to change (the disable figure writes, sign-ins audit)."""
    target = folder / f"store-{cached.n}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(cached.store, target)
    return target
