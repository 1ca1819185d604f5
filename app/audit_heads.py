"""The newest audit event and roster (models.custody) seen of a store, kept where the
database cannot take them back with it: in each workstation's own state folder, and in
`audit-head.json` in the store folder, signed by the user whose session wrote it. A
store whose log lacks the event, or whose roster is older, because its newest events
were deleted, an older copy of its database was put in place or older users' records
were put back, is named at the next sign-in (app.services.users): on a workstation that
saw the newer one, and on any workstation when only the database was put back.

The workstation's file is `{store_id: {"id": N, "hash": "…", "roster": N, …}}`, read only
as a regular file and with a bound, written atomically; losing it loses only what it
would have caught. It also keeps the newest roster seen, whole and signed
(`saw_roster`), so that a custodian's sign-in puts back the records an older roster
would bring back (a revoked user enabled again) as the newer one says. The folder's
(app.locked_json) holds one head and its signature; anyone with the folder can put back
an older one with the database, which only the workstations' heads then catch.
"""

import base64
import binascii
import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import platformdirs

from app import locked_json
from app.files import FileRefusedError, read_regular

FILE = "audit-heads.json"
FOLDER_FILE = "audit-head.json"
MAX_FILE_BYTES = 16 * 1024 * 1024  # the rosters of the stores seen, a line per user
MAX_INTEGER = 2**63


class Head(NamedTuple):
    event_id: int
    event_hash: str
    roster: int  # the roster's serial (0: none)

    def newer(self, other: "Head | None") -> "Head":
        """The newer event and roster of the two."""
        if other is None:
            return self
        event = self if self.event_id >= other.event_id else other
        return Head(event.event_id, event.event_hash, max(self.roster, other.roster))


class SignedHead(NamedTuple):
    head: Head
    signer: str
    signature: bytes


def _head(value: object) -> Head | None:
    if not isinstance(value, dict):
        return None
    event_id, event_hash, roster = value.get("id"), value.get("hash"), value.get("roster", 0)
    if type(event_id) is not int or not isinstance(event_hash, str) or type(roster) is not int:
        return None
    if not (0 <= event_id < MAX_INTEGER and 0 <= roster < MAX_INTEGER):
        return None  # not a row id SQLite could hold
    return Head(event_id, event_hash, roster)


def _fields(head: Head) -> dict:
    return {"id": head.event_id, "hash": head.event_hash, "roster": head.roster}


# -- this workstation's ------------------------------------------------------------------


def _path() -> Path:
    return platformdirs.user_state_path("certdesk", appauthor=False) / FILE


def _heads() -> dict:
    try:
        heads = json.loads(read_regular(_path(), MAX_FILE_BYTES).decode("utf-8"))
    except (FileRefusedError, OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return heads if isinstance(heads, dict) else {}


def seen(store_id: str) -> Head | None:
    """The newest head of the store this workstation saw, if any."""
    return _head(_heads().get(store_id))


def saw(store_id: str, head: Head, newer_only: bool = True) -> None:
    """Keep `head` as the newest seen here; `newer_only`: with what is newer of the one
    kept already (another window of the same store)."""
    heads = _heads()
    if newer_only:
        head = head.newer(seen(store_id))
    kept = heads.get(store_id)
    roster = {k: kept[k] for k in _ROSTER_FIELDS if k in kept} if isinstance(kept, dict) else {}
    heads[store_id] = _fields(head) | roster
    _write(heads)


def _write(heads: dict) -> None:
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


class Roster(NamedTuple):
    """The custodian's roster of every user's role and state (models.custody), signed."""

    serial: int
    records: str
    signature: bytes


_ROSTER_FIELDS = ("roster_serial", "roster_records", "roster_signature")


def newest_roster(store_id: str) -> Roster | None:
    """The newest roster of the store this workstation saw (its signature not checked)."""
    kept = _heads().get(store_id)
    if not isinstance(kept, dict):
        return None
    serial, records, signature = (kept.get(k) for k in _ROSTER_FIELDS)
    if type(serial) is not int or not isinstance(records, str) or not isinstance(signature, str):
        return None
    try:
        return Roster(serial, records, base64.b64decode(signature, validate=True))
    except (binascii.Error, ValueError):
        return None


def saw_roster(store_id: str, roster: Roster) -> None:
    """Keep `roster` (one the custodian signed) as the newest seen here, unless the one
    kept has a newer serial. Never taken back with the head: a roster put back, or an
    older database restored, does not bring back the users it revoked."""
    kept = newest_roster(store_id)
    if kept is not None and kept.serial >= roster.serial:
        return
    heads = _heads()
    entry = heads.get(store_id) if isinstance(heads.get(store_id), dict) else {}
    signature = base64.b64encode(roster.signature).decode()
    fields = dict(zip(_ROSTER_FIELDS, (roster.serial, roster.records, signature), strict=True))
    heads[store_id] = {**entry, **fields}
    _write(heads)


# -- the store folder's ------------------------------------------------------------------


def in_folder(folder: Path) -> SignedHead | None:
    """The head kept in the store folder, as written (its signature not checked)."""
    value = locked_json.read(folder / FOLDER_FILE)
    head, signer, signature = _head(value), value.get("by"), value.get("signature")
    if head is None or not isinstance(signer, str) or not isinstance(signature, str):
        return None
    try:
        return SignedHead(head, signer, base64.b64decode(signature, validate=True))
    except (binascii.Error, ValueError):
        return None


def keep_in_folder(
    folder: Path,
    head: Head,
    signer: str,
    sign: Callable[[Head], bytes],
    newer_only: bool = True,
) -> None:
    """Keep `head` in the store folder, signed by `signer` (`sign`); `newer_only`: unless
    the one there names a newer event (it is never signed again by another)."""

    def change(value: dict) -> None:
        kept = _head(value)
        if newer_only and kept is not None and kept.event_id > head.event_id:
            return
        value.clear()
        value.update(_fields(head), by=signer, signature=base64.b64encode(sign(head)).decode())

    locked_json.update(folder / FOLDER_FILE, change)
