"""Stores made in-process, at the cheap Argon2id cost conftest sets, and ways to fill them."""

from contextlib import contextmanager
from pathlib import Path

from app.services import certificate_import, certificates, users

PASSWORD = "correct horse battery"
# The other users' password, at the length new passwords need.
SIGNER_PASSWORD = "a good long password"

# Holds the store's write lock until it reads a line: a second process that writes.
HOLD_LOCK = """
import sys
from app.services import users
session, _ = users.sign_in(__import__("pathlib").Path(sys.argv[1]), "admin", password=sys.argv[2])
session.store.db.execute_sql("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
session.store.db.execute_sql("ROLLBACK")
session.close()
"""


def make_store(folder: Path, admin: str = "admin", password: str = PASSWORD) -> Path:
    """A new store in `folder` whose Administrator is `admin`, closed again."""
    users.initialise_store(folder, admin, password)[0].close()
    return folder


@contextmanager
def raw_store(store_dir: Path):
    """The store opened as admin, to change rows behind the CLI's back."""
    session, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        yield session
    finally:
        session.close()


def import_some(session, tmp_path, certs, names) -> dict[str, int]:
    paths = [certs.write(tmp_path, f"{n}.pem", certs.pem(certs.make_cert(n)[0])) for n in names]
    certificate_import.import_files(session, paths)
    return {r.alias: r.id for r in certificates.list_certificates(session)}


def import_keys(session, tmp_path, certs, *aliases) -> None:
    """Certificates with private keys, each a key of its own (rows name keys by their
    public key's hash)."""
    paths = []
    for alias in aliases:
        cert, key = certs.make_cert(alias)
        paths.append(certs.write(tmp_path, f"{alias}.p12", certs.p12(cert, key, None)))
    report = certificate_import.import_files(session, paths)
    assert all(f.error is None for f in report.files)


def sign_in_as(session, store_dir, name, role):
    users.add_user(session, name, SIGNER_PASSWORD, role)
    session.close()
    return users.sign_in(store_dir, name, password=SIGNER_PASSWORD)[0]
