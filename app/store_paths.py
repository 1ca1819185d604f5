"""A store folder before it is opened: where it is, whether a store is there, and its key
slots read (for the users who may sign in and the store's id).

Apart from `app.store` so that the login dialog can show with only this loaded: the
database, its driver, the models and the store's cryptography load at the sign-in.
"""

import os
from pathlib import Path

import platformdirs

from app.errors import StoreBusyError, StoreDamagedError, StoreMissingError
from app.files import display_path
from app.inprogress import in_use
from app.keyslots import BACKUP_FILE, SLOTS_FILE, KeySlots

DB_FILE = "certdesk.db"
INIT_MARKER = ".certdesk-init.partial"
RESTORE_MARKER = ".certdesk-restore.partial"
# Each marker file, and the command whose unfinished making of a store it says.
MAKERS = {INIT_MARKER: "init", RESTORE_MARKER: "restore"}


def default_store_dir() -> Path:
    return platformdirs.user_data_path("certdesk", appauthor=False)


def resolve_store_dir(explicit: str | os.PathLike | None = None) -> Path:
    """`--store DIR`, else `CERTDESK_STORE`, else the platform's user data folder."""
    chosen = explicit or os.environ.get("CERTDESK_STORE") or default_store_dir()
    try:
        return Path(chosen).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a symbolic link loop, ~user of no such user
        raise StoreMissingError(
            f"{display_path(chosen)}: cannot be a store folder ({exc}); give another --store"
        ) from None


def store_exists(folder: Path) -> bool:
    """Whether the folder holds a store, or what may be part of one: a slot file (or its
    .bak), or a database that no unfinished init or restore is making."""
    if has_slot_file(folder):
        return True
    return (folder / DB_FILE).exists() and maker_marker(folder) is None


def has_slot_file(folder: Path) -> bool:
    return (folder / SLOTS_FILE).exists() or (folder / BACKUP_FILE).exists()


def maker_marker(folder: Path) -> Path | None:
    """The marker file of an init or restore making a store here, if there is one."""
    for name in MAKERS:
        if (folder / name).exists():
            return folder / name
    return None


def half_made(folder: Path) -> Path | None:
    """The marker of an init or restore that has not written the slot file (yet)."""
    return None if has_slot_file(folder) else maker_marker(folder)


def load_slots(folder: Path) -> KeySlots:
    marker = half_made(folder)
    if marker is not None:
        command = MAKERS[marker.name]
        if in_use(marker):
            raise StoreBusyError(
                f"{folder}: `certdesk {command}` is making a store here right now; "
                "try again when it is done."
            )
        raise StoreMissingError(
            f"{folder}: an interrupted `certdesk {command}` left a half-made store here; "
            f"run `certdesk {command}` again to re-create it."
        )
    has_db, has_slots = (folder / DB_FILE).exists(), (folder / SLOTS_FILE).exists()
    if not has_db and not has_slots:
        raise StoreMissingError(
            f"{folder}: no store here. Create one with `certdesk init`, "
            "or point --store / CERTDESK_STORE at an existing one."
        )
    if not has_slots:
        hint = "put it back"
        if (folder / BACKUP_FILE).exists():
            hint = f"copy {BACKUP_FILE} (beside it) to {SLOTS_FILE}"
        raise StoreDamagedError(
            f"{folder}: the key-slot file {SLOTS_FILE} is missing; {hint}, or restore a backup."
        )
    if not has_db:
        raise StoreDamagedError(f"{folder}: {DB_FILE} is missing; restore a backup.")
    return KeySlots.load(folder)


def slot_users(folder: Path) -> list[str]:
    """The users who hold a key slot: readable before unlocking."""
    return load_slots(folder).users()


def folder_store_id(folder: Path) -> str:
    return load_slots(folder).store_id
