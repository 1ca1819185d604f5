"""The encrypted store: creation, unlocking, refusals, and what lies on disk."""

import json
import shutil
import stat
import subprocess
import sys

import pytest

from app import keyslots
from app.errors import (
    AuthenticationError,
    NewerSchemaError,
    StoreDamagedError,
    StoreExistsError,
    StoreMissingError,
    ValidationError,
)
from app.services import backup, certificate_import, certificates, users
from app.store import DB_FILE
from models import SCHEMA_VERSION, PrivateKey, SchemaVersion
from tests.helpers.cli import one_line_error
from tests.helpers.stores import PASSWORD


def test_init_creates_database_and_private_slot_file(store_dir, session):
    assert (store_dir / DB_FILE).exists()
    slots = json.loads((store_dir / "keyslots.json").read_text())
    assert list(slots["slots"]) == ["admin"]
    assert (store_dir / "keyslots.json").stat().st_mode & 0o077 == 0
    assert (store_dir / DB_FILE).stat().st_mode & 0o077 == 0
    assert session.role == "Administrator"
    assert "users.manage" in session.permissions


def test_unlock_with_the_right_password(store_dir, session):
    session.close()
    again, kek = users.sign_in(store_dir, "admin", password=PASSWORD)
    assert again.user_name == "admin" and len(kek) == 32
    again.close()


def test_unlock_with_a_remembered_kek_skips_the_password(store_dir, session):
    session.close()
    _, kek = users.sign_in(store_dir, "admin", password=PASSWORD)
    _.close()
    again, _ = users.sign_in(store_dir, "admin", kek=kek)
    assert again.user_name == "admin"
    again.close()


def test_wrong_password_is_one_clear_refusal(store_dir, session):
    session.close()
    with pytest.raises(AuthenticationError, match="Wrong password for user 'admin'"):
        users.sign_in(store_dir, "admin", password="not the password")


def test_unknown_user_is_refused(store_dir, session):
    session.close()
    with pytest.raises(AuthenticationError, match="No user 'mallory'"):
        users.sign_in(store_dir, "mallory", password=PASSWORD)


def test_missing_store_names_the_folder(tmp_path):
    with pytest.raises(StoreMissingError, match="no store here"):
        users.sign_in(tmp_path / "nothing", "admin", password=PASSWORD)


def test_init_refuses_an_existing_store(store_dir, session):
    with pytest.raises(StoreExistsError):
        users.initialise_store(store_dir, "other", PASSWORD)


def test_init_refuses_a_short_password(store_dir):
    with pytest.raises(ValidationError, match="password"):
        users.initialise_store(store_dir, "admin", "short")
    assert not (store_dir / DB_FILE).exists()


def test_newer_schema_is_refused_and_left_untouched(store_dir, session):
    SchemaVersion.update(version=SCHEMA_VERSION + 1).execute()
    session.close()
    before = (store_dir / DB_FILE).read_bytes()
    with pytest.raises(NewerSchemaError, match="newer Certdesk"):
        users.sign_in(store_dir, "admin", password=PASSWORD)
    assert (store_dir / DB_FILE).read_bytes() == before


def test_damaged_slot_file_is_reported(store_dir, session):
    session.close()
    (store_dir / "keyslots.json").write_text("{not json")
    with pytest.raises(StoreDamagedError, match="key-slot file is damaged"):
        users.sign_in(store_dir, "admin", password=PASSWORD)


def test_slot_from_another_store_does_not_unlock(tmp_path, store_dir, session):
    session.close()
    other = tmp_path / "other"
    users.initialise_store(other, "admin", PASSWORD)[0].close()
    # Graft the other store's slot (same user, same password) onto this store.
    mine = json.loads((store_dir / "keyslots.json").read_text())
    theirs = json.loads((other / "keyslots.json").read_text())
    mine["slots"]["admin"] = theirs["slots"]["admin"]
    (store_dir / "keyslots.json").write_text(json.dumps(mine))
    with pytest.raises(AuthenticationError):
        users.sign_in(store_dir, "admin", password=PASSWORD)


def test_database_with_a_wrong_key_is_reported_not_crashed(tmp_path, store_dir, session):
    session.close()
    other = tmp_path / "other"
    users.initialise_store(other, "admin", PASSWORD)[0].close()
    shutil.copy(other / DB_FILE, store_dir / DB_FILE)
    for suffix in ("-wal", "-shm"):
        (store_dir / f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    with pytest.raises(
        StoreDamagedError, match=r"does not open the database\. .*the database is damaged"
    ):
        users.sign_in(store_dir, "admin", password=PASSWORD)


def test_production_argon2_parameters_are_rfc9106_second_setting(tmp_path, monkeypatch):
    monkeypatch.setattr(keyslots, "DEFAULT_PARAMS", keyslots.Argon2Params())
    session, _ = users.initialise_store(tmp_path / "strong", "admin", PASSWORD)
    session.close()
    slot = json.loads((tmp_path / "strong" / "keyslots.json").read_text())["slots"]["admin"]
    assert (slot["kdf"], slot["iterations"], slot["lanes"], slot["memory_kib"]) == (
        "argon2id",
        3,
        4,
        65536,
    )


def test_secure_delete_wal_and_foreign_keys_are_on(session):
    db = session.store.db
    assert db.execute_sql("PRAGMA secure_delete").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_no_plaintext_certificate_or_key_on_disk(store_dir, session, tmp_path, certs):
    cn = "Plaintext Canary Signing CN"
    cert, key = certs.make_cert(cn, key=certs.rsa_key())
    p12 = certs.write(tmp_path, "canary.p12", certs.p12(cert, key, b"pw"))
    report = certificate_import.import_files(session, [p12], password="pw")
    assert report.imported == 1
    assert certificates.list_certificates(session)[0].has_private_key
    key_der = certs.rsa_key().private_bytes(
        certs.serialization.Encoding.DER,
        certs.serialization.PrivateFormat.PKCS8,
        certs.serialization.NoEncryption(),
    )
    files = [p for p in store_dir.iterdir() if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files)  # the fresh writes are checked too
    for path in files:
        data = path.read_bytes()
        for needle in (cn.encode(), cn.encode("utf-16-be"), b"PRIVATE KEY", key_der[-64:]):
            assert needle not in data, f"{needle!r} found in {path.name}"
    session.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (store_dir / DB_FILE).read_bytes()
    assert cn.encode() not in data and b"PRIVATE KEY" not in data


def test_private_key_is_sealed_and_opens_to_the_same_key(session, tmp_path, certs):
    cert, key = certs.make_cert("Sealed Key")
    path = certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))
    certificate_import.import_files(session, [path])
    row = PrivateKey.get()
    from app.crypto.key_wraps import data_key_purpose
    from app.crypto.sealing import Sealer, SealError

    # Under its own data key, which only the custodian's wrap (and grantees') opens.
    purpose = data_key_purpose(session.store.store_id, row.uid, None)
    sealer = Sealer(session.custodian.unwrap(row.custodian_wrap, purpose))
    pkcs8 = sealer.open(row.sealed, row.uid, row.spki_sha256)
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    assert load_der_private_key(pkcs8, None).private_numbers() == key.private_numbers()
    with pytest.raises(SealError):  # the id is bound in: a blob moved to another key fails
        sealer.open(row.sealed, "another-id", row.spki_sha256)
    with pytest.raises(SealError):  # and so is the public key's hash
        sealer.open(row.sealed, row.uid, "0" * 64)
    with pytest.raises(SealError):  # and the master key's sub-key does not open it
        session.store.sealer.open(row.sealed, row.uid, row.spki_sha256)


KILLED_RIGHT_AFTER_INIT = """
import os, signal, sys
from pathlib import Path
from app import keyslots
keyslots.DEFAULT_PARAMS = keyslots.Argon2Params(1, 1, 1024)
from app.services import users
users.initialise_store(Path(sys.argv[1]), "admin", sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_database_cut_short_beside_its_slots_is_refused_not_rebuilt(cli, tmp_path, store_dir):
    subprocess.run([sys.executable, "-c", KILLED_RIGHT_AFTER_INIT, str(store_dir), PASSWORD])
    # Killed with the store open: the database file is one page, the rest in the -wal.
    assert (
        (store_dir / DB_FILE).stat().st_size <= 4096 < (store_dir / f"{DB_FILE}-wal").stat().st_size
    )
    cases = {}
    for name, size, keep_wal in (
        ("empty", 0, False),
        ("empty with its -wal", 0, True),
        ("cut in the first page", 100, False),
        ("one page, its -wal lost", 4096, False),
    ):
        case = tmp_path / name
        shutil.copytree(store_dir, case)
        with open(case / DB_FILE, "r+b") as db:
            db.truncate(size)
        for suffix in ("-wal", "-shm") if not keep_wal else ():
            (case / f"{DB_FILE}{suffix}").unlink()
        cases[name] = (case, (case / DB_FILE).read_bytes())
    listed = cli("list")
    assert listed.returncode == 0, listed.stderr  # not refused: SQLite reads the -wal
    for name, (case, before) in cases.items():
        with pytest.raises(StoreDamagedError, match="the store is damaged"):
            users.sign_in(case, "admin", password=PASSWORD)
        assert (case / DB_FILE).read_bytes() == before, name  # refused, not made anew
    refused = cli("list", env_extra={"CERTDESK_STORE": str(cases["empty"][0])})
    line = one_line_error(refused)
    assert refused.returncode == 1
    assert "damaged" in line and "certdesk check" in line and "restore a backup" in line


def test_init_and_restore_make_an_open_folder_private_to_its_owner(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    session, _ = users.initialise_store(shared, "admin", PASSWORD)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700
    archive = backup.backup_store(session, tmp_path / "store.zip")
    session.close()
    other = tmp_path / "other"
    other.mkdir()
    other.chmod(0o777)
    backup.restore_store(other, archive)
    assert stat.S_IMODE(other.stat().st_mode) == 0o700
