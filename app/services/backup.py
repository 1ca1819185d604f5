"""`certdesk backup` and `restore`: the whole store in one file, still encrypted.

The archive holds the database (a consistent online copy, under the store's own key)
and the key slots; whoever restores it needs a user's password, as with the original.
"""

import errno
import functools
import json
import os
import re
import secrets
import shutil
import zipfile
from pathlib import Path

from app.errors import CertdeskError
from app.files import FileRefusedError, check_new_file, new_file, open_regular
from app.inprogress import Held, remove_abandoned
from app.keyslots import SLOTS_FILE, KeySlots
from app.services import journal
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.sqlite_errors import database_errors
from app.store import PAGE_BYTES, making_store
from app.store_paths import DB_FILE, RESTORE_MARKER
from models.base import utcnow
from models.permissions import USERS_MANAGE
from models.schema import SCHEMA_VERSION

MANIFEST = "certdesk-backup.json"
FORMAT = "certdesk-backup"
MEMBERS = {MANIFEST, DB_FILE, SLOTS_FILE}
# Far above a real store (100,000 certificates take ~150 MiB); a zip bomb stops here.
LIMITS = {MANIFEST: 64 * 1024, SLOTS_FILE: 4 * 1024 * 1024, DB_FILE: 4 * 1024**3}
# A backup under way beside its output: `<prefix><token>.partial` is the archive being
# written, held by its process; `<prefix><token>.db.partial` the database copy in it.
PARTIAL_PREFIX = ".certdesk-backup-"
_PARTIAL = re.compile(rf"{re.escape(PARTIAL_PREFIX)}([0-9a-f]{{16}})\.partial")


@operation("store.backup", USERS_MANAGE, target="out")
def backup_store(session: Session, out: Path) -> Path:
    """Write the backup to `out`, a new file: it appears there whole or not at all, and
    never replaces a file, even one created meanwhile. What a killed backup left beside
    it (`.certdesk-backup-*.partial`) is removed by the next backup into that folder."""
    out = check_new_file(out)
    folder = out.absolute().parent
    remove_abandoned_partials(folder)
    with write_transaction(session):  # first, so that the copy records its own making
        journal.record(session.user_name, "store.backup", str(out))
    manifest = {
        "format": FORMAT,
        "store_id": session.store.store_id,
        "schema_version": SCHEMA_VERSION,
        "created": utcnow().isoformat(),
    }
    try:
        _write_archive(session, folder, manifest, out)
    except CertdeskError as exc:
        with write_transaction(session):  # the event above said it began
            journal.record(session.user_name, "store.backup", str(out), "failed", why=str(exc))
        raise
    return out


def _write_archive(session: Session, folder: Path, manifest: dict, out: Path) -> None:
    name = f"{PARTIAL_PREFIX}{secrets.token_hex(8)}"
    with Held(folder / f"{name}.partial") as partial:
        try:
            database = folder / f"{name}.db.partial"
            users = session.store.copy_database(database)
            # Read after the copy, it has a slot for every user the copy has; an add
            # committed meanwhile may have added one more, which the copy must not name.
            slots = session.store.slots()
            slots.slots = {user: slot for user, slot in slots.slots.items() if user in users}
            slots.pending = None
            with zipfile.ZipFile(partial.path, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
                archive.write(database, DB_FILE)
                archive.writestr(SLOTS_FILE, slots.dump())
            with open(partial.path, "rb+") as handle:
                os.fsync(handle.fileno())
        except (OSError, *database_errors()) as exc:  # the copy's SQLite says a full disk its way
            raise FileRefusedError(out, _write_failure(exc)) from None
        finally:
            _remove_companions(folder, name, keep=partial.path.name)
        _publish(partial.path, out)


def _write_failure(exc: Exception) -> str:
    if getattr(exc, "errno", None) == errno.ENOSPC or "disk is full" in str(exc):
        return "cannot write the backup: the disk is full; nothing was written"
    return f"cannot write the backup ({exc.strerror or exc}); nothing was written"


def remove_abandoned_partials(folder: Path) -> None:
    """Remove what killed backups left in `folder`; a backup still running keeps its own."""
    for entry in os.listdir(folder):
        if match := _PARTIAL.fullmatch(entry):
            name = f"{PARTIAL_PREFIX}{match[1]}"
            remove_abandoned(
                folder / entry, functools.partial(_remove_companions, folder, name, entry)
            )


def _remove_companions(folder: Path, name: str, keep: str) -> None:
    # The database copy, and the journal SQLite may keep beside it.
    for entry in os.listdir(folder):
        if entry.startswith(f"{name}.") and entry != keep:
            (folder / entry).unlink(missing_ok=True)


def _publish(partial: Path, out: Path) -> None:
    """The finished archive under the chosen name, create-only: a hard link fails if the
    name exists, where a rename would replace it."""
    try:
        os.link(partial, out)
    except FileExistsError:
        raise FileRefusedError(out, "exists; choose a new file name") from None
    except OSError:  # a file system without hard links: a create-only copy instead
        with open(partial, "rb") as source, new_file(out, 0o600) as target:
            shutil.copyfileobj(source, target)


def restore_store(folder: Path, archive_path: Path) -> str:
    """Unpack a backup into a new or empty folder; returns the store id. The archive is
    checked before the folder is touched, and the slot file written last: a refused
    archive leaves nothing behind (not even the folder, if restore created it), and an
    interrupted restore a half-made store that the next `restore` or `init` clears."""
    folder = Path(folder).absolute()
    try:
        # A regular file only: zipfile would wait forever on a FIFO.
        with open_regular(archive_path) as handle, zipfile.ZipFile(handle) as archive:
            _check_members(archive, archive_path)
            manifest = _manifest(archive, archive_path)
            slots = KeySlots.parse(_read(archive, SLOTS_FILE), f"{archive_path}: {SLOTS_FILE}")
            if not slots.slots:
                raise CertdeskError(f"{archive_path}: damaged backup (its key slots name no user)")
            if manifest.get("store_id") != slots.store_id:
                raise CertdeskError(
                    f"{archive_path}: its database and key slots are of different stores"
                )
            with making_store(folder, RESTORE_MARKER):
                _extract(archive, DB_FILE, folder / DB_FILE)
                _check_encrypted(folder / DB_FILE, archive_path)
                # No lock to take: the marker keeps others off until the slot file is there.
                slots.save(folder)
    except CertdeskError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            ValueError, TypeError, KeyError, RecursionError) as exc:  # fmt: skip
        raise CertdeskError(f"{archive_path}: damaged backup ({exc})") from None
    except OSError as exc:
        raise CertdeskError(f"{archive_path}: cannot restore ({exc.strerror or exc})") from None
    return slots.store_id


def _check_members(archive: zipfile.ZipFile, archive_path: Path) -> None:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if sorted(names) != sorted(MEMBERS):
        raise CertdeskError(f"{archive_path}: not a Certdesk backup (unexpected contents)")
    for info in infos:
        if info.flag_bits & 0x1:
            raise CertdeskError(f"{archive_path}: not a Certdesk backup (encrypted member)")
        if info.file_size > LIMITS[info.filename]:
            raise CertdeskError(f"{archive_path}: {info.filename} is implausibly large")


def _manifest(archive: zipfile.ZipFile, archive_path: Path) -> dict:
    manifest = json.loads(archive.read(MANIFEST))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CertdeskError(f"{archive_path}: not a Certdesk backup")
    version = manifest.get("schema_version")
    if not isinstance(version, int):
        raise CertdeskError(f"{archive_path}: damaged backup (no schema version)")
    if version > SCHEMA_VERSION:
        raise CertdeskError(
            f"{archive_path}: made by a newer Certdesk (schema {version}); update Certdesk "
            "to restore it"
        )
    return manifest


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    """Read with a byte count: the sizes in a zip's directory can lie."""
    with archive.open(name) as source:
        data = source.read(LIMITS[name] + 1)
    if len(data) > LIMITS[name]:
        raise CertdeskError(f"{name} is implausibly large")
    return data


def _extract(archive: zipfile.ZipFile, name: str, target: Path) -> None:
    """Streamed with a byte count: the sizes in a zip's directory can lie."""
    written = 0
    with archive.open(name) as source, open(target, "xb") as out:
        os.chmod(target, 0o600)
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > LIMITS[name]:
                raise CertdeskError(f"{name} is implausibly large")
            out.write(chunk)


def _check_encrypted(database: Path, archive_path: Path) -> None:
    with open(database, "rb") as db:
        if db.read(16) == b"SQLite format 3\x00":
            raise CertdeskError(f"{archive_path}: holds an unencrypted database; refused")
    # A backup's database is a whole copy: never shorter than its first page.
    if database.stat().st_size < PAGE_BYTES:
        raise CertdeskError(f"{archive_path}: damaged backup (its database is cut short)")
