"""Read a SQLCipher 4 database from outside SQLCipher: decrypt every page of the file and
of its write-ahead log, so a test can search the plaintext for bytes that must be gone.

Layout with SQLCipher 4 defaults and a raw key (`PRAGMA key = "x'<64 hex digits>'"`, as
`app.store.CipherDatabase` passes it):

* the 32-byte key is the AES-256 key as is (no PBKDF2 for the encryption key);
* the first 16 bytes of the database file are the KDF salt, in the clear;
* every page is `page_size` (4096) bytes and ends with an 80-byte reserve:
  a 16-byte IV, then a 64-byte HMAC-SHA512;
* page 1 keeps the salt in its first 16 bytes, so its ciphertext starts at offset 16;
  every other page is ciphertext from offset 0 up to the reserve;
* the content is AES-256-CBC without padding, under the page's IV;
* the HMAC covers ciphertext + IV + the page number as 4 little-endian bytes, keyed with
  PBKDF2-HMAC-SHA512(raw key, salt XOR 0x3a, 2 iterations, 32 bytes).

A WAL frame holds a page encrypted exactly as in the main file (page 1's frames carry
the salt too); the 32-byte WAL header and the 24-byte frame headers are plain.
(See sqlcipher's `sqlcipher_page_cipher`, `sqlcipher_page_hmac` and
`sqlcipher_cipher_ctx_key_derive`.)

Decrypted pages come back as plain SQLite pages: page 1 starts with "SQLite format 3\\0"
again, as SQLCipher hands it to SQLite. A value longer than about 4 KB spills onto
overflow pages, each starting with a 4-byte link, so search for pieces of it.
"""

import hashlib
import hmac
import struct
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE_SIZE = 4096
SALT_SIZE = 16
IV_SIZE = 16
HMAC_SIZE = 64
RESERVE = IV_SIZE + HMAC_SIZE  # 80, already a multiple of the AES block
HMAC_SALT_MASK = 0x3A
FAST_KDF_ITER = 2
SQLITE_MAGIC = b"SQLite format 3\x00"

WAL_HEADER_SIZE = 32
WAL_FRAME_HEADER_SIZE = 24
WAL_MAGICS = (0x377F0682, 0x377F0683)


class PageAuthError(ValueError):
    """A page whose HMAC does not match: wrong key, wrong salt, or damaged bytes."""


def hmac_key(raw_key: bytes, salt: bytes) -> bytes:
    masked = bytes(b ^ HMAC_SALT_MASK for b in salt)
    return hashlib.pbkdf2_hmac("sha512", raw_key, masked, FAST_KDF_ITER, len(raw_key))


def decrypt_page(
    page: bytes,
    pgno: int,
    raw_key: bytes,
    mac_key: bytes | None = None,
) -> bytes:
    """One encrypted page to its plaintext (same length). With `mac_key` (see
    `hmac_key`), the page's HMAC is checked first and a mismatch raises PageAuthError."""
    if len(raw_key) != 32:
        raise ValueError("SQLCipher raw keys are 32 bytes")
    page_size = len(page)
    offset = SALT_SIZE if pgno == 1 else 0
    end = page_size - RESERVE
    ciphertext = page[offset:end]
    iv = page[end : end + IV_SIZE]
    if mac_key is not None:
        expected = page[end + IV_SIZE : end + IV_SIZE + HMAC_SIZE]
        mac = hmac.new(mac_key, page[offset : end + IV_SIZE], hashlib.sha512)
        mac.update(struct.pack("<I", pgno))
        if not hmac.compare_digest(mac.digest(), expected):
            raise PageAuthError(f"HMAC mismatch on page {pgno}")
    decryptor = Cipher(algorithms.AES(raw_key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(ciphertext) + decryptor.finalize()
    head = SQLITE_MAGIC if pgno == 1 else b""
    # The reserve stays as it was (IV, HMAC): it is not secret and holds no content.
    return head + plain + page[end:]


def iter_decrypted_pages(
    db_path: Path, raw_key: bytes, page_size: int = PAGE_SIZE, verify: bool = True
) -> Iterator[tuple[int, bytes]]:
    """(page number, plaintext page) for every page of the database file."""
    data = Path(db_path).read_bytes()
    if len(data) % page_size:
        raise ValueError(f"{db_path}: {len(data)} bytes is not a whole number of pages")
    mac_key = hmac_key(raw_key, data[:SALT_SIZE]) if verify and data else None
    for index in range(len(data) // page_size):
        page = data[index * page_size : (index + 1) * page_size]
        yield index + 1, decrypt_page(page, index + 1, raw_key, mac_key)


def decrypted_pages(
    db_path: Path, raw_key: bytes, page_size: int = PAGE_SIZE, verify: bool = True
) -> bytes:
    """Every page of the database file, decrypted and concatenated in file order."""
    return b"".join(page for _, page in iter_decrypted_pages(db_path, raw_key, page_size, verify))


def iter_wal_frames(
    wal_path: Path, raw_key: bytes, salt: bytes | None = None, verify: bool = True
) -> Iterator[tuple[int, bytes]]:
    """(page number, plaintext page) for every whole frame in the -wal file: committed or
    not, current or left over from an earlier generation of the log (SQLite rewrites a
    log from the start and leaves older frames behind the new ones), because a left-over
    frame is still readable by anyone with the key.

    The HMAC needs the database's salt: by default the first 16 bytes of the database
    file next to the log (`certdesk.db` for `certdesk.db-wal`)."""
    wal_path = Path(wal_path)
    data = wal_path.read_bytes() if wal_path.exists() else b""
    if len(data) < WAL_HEADER_SIZE:
        return
    magic, _version, page_size = struct.unpack(">III", data[:12])
    if magic not in WAL_MAGICS:
        raise ValueError(f"{wal_path}: not a write-ahead log (magic {magic:#x})")
    mac_key = None
    if verify:
        if salt is None:
            db_path = wal_path.with_name(wal_path.name.removesuffix("-wal"))
            with open(db_path, "rb") as db_file:
                salt = db_file.read(SALT_SIZE)
        mac_key = hmac_key(raw_key, salt)
    frame_size = WAL_FRAME_HEADER_SIZE + page_size
    position = WAL_HEADER_SIZE
    while position + frame_size <= len(data):
        (pgno,) = struct.unpack(">I", data[position : position + 4])
        page = data[position + WAL_FRAME_HEADER_SIZE : position + frame_size]
        position += frame_size
        if pgno == 0 and not any(page):
            continue  # never written
        yield pgno, decrypt_page(page, pgno, raw_key, mac_key)


def decrypted_wal_frames(
    wal_path: Path, raw_key: bytes, salt: bytes | None = None, verify: bool = True
) -> bytes:
    """Every frame's page in the -wal file, decrypted and concatenated in log order;
    b"" when there is no log or it is empty (as after `wal_checkpoint(TRUNCATE)`)."""
    return b"".join(page for _, page in iter_wal_frames(wal_path, raw_key, salt, verify))


def decrypted_store_files(db_path: Path, raw_key: bytes) -> dict[str, bytes]:
    """The decrypted content of the database and of its -wal, by file name: the places
    where a deleted row's bytes could survive. (The -shm index holds no row content.)"""
    db_path = Path(db_path)
    wal_path = db_path.with_name(db_path.name + "-wal")
    return {
        db_path.name: decrypted_pages(db_path, raw_key),
        wal_path.name: decrypted_wal_frames(wal_path, raw_key),
    }
