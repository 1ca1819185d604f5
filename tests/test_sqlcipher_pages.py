"""The test-side SQLCipher page decryptor: it must see inside the store's encryption,
or a test that finds nothing in the plaintext would prove nothing."""

import secrets
import sqlite3
import struct

import pytest

from app.crypto.sealing import derive_subkey
from app.services import certificate_import
from app.store import DB_FILE
from models import PrivateKey
from tests.helpers.sqlcipher_pages import (
    PAGE_SIZE,
    RESERVE,
    SQLITE_MAGIC,
    PageAuthError,
    decrypted_pages,
    decrypted_store_files,
    decrypted_wal_frames,
    iter_decrypted_pages,
)

CN = "Pagewise Canary Signing CN"


def raw_key(session) -> bytes:
    """The database key, as app.store derives it (read it before the store closes)."""
    return derive_subkey(session.store.master_key(), "sqlcipher")


@pytest.fixture
def imported(session, tmp_path, certs):
    cert, key = certs.make_cert(CN)
    p12 = certs.write(tmp_path, "canary.p12", certs.p12(cert, key, b"pw"))
    report = certificate_import.import_files(session, [p12], password="pw")
    assert report.imported == 1, report.files[0].error
    return PrivateKey.get().sealed


def test_raw_key_is_the_one_the_connection_uses(session):
    assert raw_key(session).hex() == session.store.db._key_hex


def test_plaintext_holds_what_the_ciphertext_hides(session, store_dir, imported):
    session.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db_path = store_dir / DB_FILE
    on_disk = db_path.read_bytes()
    assert CN.encode() not in on_disk
    assert bytes(imported) not in on_disk
    plain = decrypted_pages(db_path, raw_key(session))  # every page's HMAC checked
    assert len(plain) == len(on_disk)
    assert CN.encode() in plain
    assert bytes(imported) in plain


def test_page_one_is_a_sqlite_header_with_sqlciphers_reserve(session, store_dir, imported):
    session.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db_path = store_dir / DB_FILE
    pages = dict(iter_decrypted_pages(db_path, raw_key(session)))
    first = pages[1]
    assert first[:16] == SQLITE_MAGIC
    page_size, write_version, read_version, reserve = struct.unpack(">HBBB", first[16:21])
    assert (page_size, reserve) == (PAGE_SIZE, RESERVE)
    assert (write_version, read_version) == (2, 2)  # 2 = WAL
    assert first[21:24] == bytes([64, 32, 32])  # payload fractions, fixed by the format
    (size_in_pages,) = struct.unpack(">I", first[28:32])
    page_count = session.store.db.execute_sql("PRAGMA page_count").fetchone()[0]
    assert size_in_pages == page_count == len(pages)


def test_decrypted_file_is_a_database_plain_sqlite_reads(session, store_dir, imported, tmp_path):
    session.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    plain_path = tmp_path / "plain.db"
    plain_path.write_bytes(decrypted_pages(store_dir / DB_FILE, raw_key(session)))
    with sqlite3.connect(plain_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT sealed FROM private_key").fetchall()
    conn.close()
    assert rows == [(bytes(imported),)]


def test_fresh_writes_sit_in_the_wal_until_a_truncating_checkpoint(session, store_dir, imported):
    key = raw_key(session)
    wal_path = store_dir / f"{DB_FILE}-wal"
    assert wal_path.stat().st_size > 0
    assert bytes(imported) not in wal_path.read_bytes()
    assert bytes(imported) in decrypted_wal_frames(wal_path, key)
    session.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert decrypted_wal_frames(wal_path, key) == b""
    found = decrypted_store_files(store_dir / DB_FILE, key)
    assert bytes(imported) in found[DB_FILE]
    assert found[f"{DB_FILE}-wal"] == b""


def test_a_wrong_key_fails_the_hmac_instead_of_finding_nothing(session, store_dir, imported):
    session.store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    with pytest.raises(PageAuthError, match="page 1"):
        decrypted_pages(store_dir / DB_FILE, secrets.token_bytes(32))
