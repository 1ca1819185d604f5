"""The newest audit event and roster (models.custody) this workstation has seen of each
store, kept in its own state folder (not the store's): a store whose log lacks the
event, or whose roster is older, because its newest events were deleted, an older copy
of its database was put in place or older users' records were put back, is named at
the next sign-in here (app.services.users).

One small JSON file, `{store_id: {"id": N, "hash": "…", "roster": N}}`, read only as a
regular file and with a bound, written atomically. Losing it loses only what it would
have caught: a file that cannot be read or written is taken as empty, never an error.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path

import platformdirs

from app.files import FileRefusedError, read_regular

FILE = "audit-heads.json"
MAX_FILE_BYTES = 1024 * 1024


def _path() -> Path:
    return platformdirs.user_state_path("certdesk", appauthor=False) / FILE


def _heads() -> dict:
    try:
        heads = json.loads(read_regular(_path(), MAX_FILE_BYTES).decode("utf-8"))
    except (FileRefusedError, OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return heads if isinstance(heads, dict) else {}


def seen(store_id: str) -> tuple[int, str] | None:
    """(id, hash) of the newest event of the store this workstation saw, if any."""
    head = _heads().get(store_id)
    if not isinstance(head, dict):
        return None
    event_id, event_hash = head.get("id"), head.get("hash")
    if type(event_id) is not int or not isinstance(event_hash, str):
        return None
    return event_id, event_hash


def roster_seen(store_id: str) -> int:
    """The serial of the newest roster of the store this workstation saw (0: none)."""
    head = _heads().get(store_id)
    serial = head.get("roster") if isinstance(head, dict) else None
    return serial if type(serial) is int else 0


def saw(
    store_id: str, event_id: int, event_hash: str, roster: int = 0, newer_only: bool = True
) -> None:
    """Keep (id, hash) as the newest event of the store seen here, and `roster` as its
    newest roster's serial; `newer_only`: unless newer ones are kept already (another
    window of the same store)."""
    heads = _heads()
    known = seen(store_id)
    roster = max(roster, roster_seen(store_id)) if newer_only else roster
    if newer_only and known is not None and known[0] > event_id:
        event_id, event_hash = known
    heads[store_id] = {"id": event_id, "hash": event_hash, "roster": roster}
    path = _path()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".audit-heads-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(heads, handle, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
