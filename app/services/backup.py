"""`certdesk backup` and `restore`: the whole store in one file, still encrypted.

The archive holds the database (a consistent online copy, under the store's own key)
and the key slots; whoever restores it needs a user's password, as with the original.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

from app.errors import CertdeskError, StoreExistsError
from app.keyslots import SLOTS_FILE
from app.services import audit
from app.services.session import Session, write_transaction
from app.store import DB_FILE, load_slots, prepare_new_folder
from models.base import utcnow
from models.permissions import USERS_MANAGE
from models.schema import SCHEMA_VERSION

MANIFEST = "certdesk-backup.json"
FORMAT = "certdesk-backup"
MEMBERS = {MANIFEST, DB_FILE, SLOTS_FILE}


def backup_store(session: Session, out: Path) -> Path:
    session.authorize(USERS_MANAGE, "store.backup", str(out))
    out = Path(out)
    if out.exists():
        raise StoreExistsError(f"{out}: exists; choose a new file name")
    if not out.resolve().parent.is_dir():
        raise CertdeskError(f"{out}: no folder {out.resolve().parent}")
    with write_transaction(session):  # first, so that the copy records its own making
        audit.record(session.user_name, "store.backup", str(out))
    manifest = {
        "format": FORMAT,
        "store_id": session.store.store_id,
        "schema_version": SCHEMA_VERSION,
        "created": utcnow().isoformat(),
    }
    with tempfile.TemporaryDirectory(dir=out.resolve().parent) as work:
        database = Path(work) / DB_FILE
        session.store.copy_database(database)
        partial = Path(work) / "backup.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            archive.write(database, DB_FILE)
            archive.write(session.folder / SLOTS_FILE, SLOTS_FILE)
        os.chmod(partial, 0o600)
        os.replace(partial, out)  # all or nothing: no half-written backup under its name
    return out


def restore_store(folder: Path, archive_path: Path) -> str:
    """Unpack a backup into a new or empty folder; returns the store id."""
    folder = Path(folder)
    try:
        with zipfile.ZipFile(archive_path) as archive:
            names = set(archive.namelist())
            if names != MEMBERS:
                raise CertdeskError(f"{archive_path}: not a Certdesk backup (unexpected contents)")
            manifest = json.loads(archive.read(MANIFEST))
            if manifest.get("format") != FORMAT:
                raise CertdeskError(f"{archive_path}: not a Certdesk backup")
            if int(manifest.get("schema_version", 0)) > SCHEMA_VERSION:
                raise CertdeskError(
                    f"{archive_path}: made by a newer Certdesk (schema "
                    f"{manifest['schema_version']}); update Certdesk to restore it"
                )
            prepare_new_folder(folder)
            for name in (DB_FILE, SLOTS_FILE):
                target = folder / name
                target.write_bytes(archive.read(name))
                os.chmod(target, 0o600)
    except (zipfile.BadZipFile, json.JSONDecodeError, KeyError, ValueError) as exc:
        raise CertdeskError(f"{archive_path}: damaged backup ({exc})") from None
    except OSError as exc:
        raise CertdeskError(f"{archive_path}: cannot read ({exc.strerror or exc})") from None
    return load_slots(folder).store_id
