"""The hash-chained journal every service writes its audit events to: each event carries
the hash of the one before it, and the last event of each append is signed by the
Ed25519 key of the user it names (`signed_by`, set around every operation), so that
nobody can add, change or remove another user's events without the signatures naming
the first one broken. Reading the log is `audit_log`'s."""

import hashlib
import json
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from time import monotonic
from typing import NamedTuple

import peewee

from app.crypto.key_wraps import audit_event
from app.crypto.user_keys import PublicKeys, UserKeys
from models import AuditEvent, database, statements
from models.base import blob, utcnow

GENESIS = "0" * 64
# A run of events noted as written here that never shows up was rolled back; forgotten
# after this long (no write transaction stays open that long).
OWN_RUN_TTL_S = 600.0


# What json.dumps(ensure_ascii=False) writes for a str, without its per-call set-up: the
# canonical text of one event is built from these pieces, the same bytes as dumping the
# list [prev_hash, time, user, action, target, outcome, details] with separators (",", ":").
_encode_str = json.encoder.encode_basestring


def _json(value) -> str:
    """One value as json.dumps(value, ensure_ascii=False) writes it; a str (every value
    but a damaged row's) by the encoder alone."""
    if type(value) is str:
        return _encode_str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _head(time: datetime, user, action) -> str:
    """The canonical text between the previous hash and the target: the same for every
    event of one append, so it is encoded once."""
    return f",{_json(time.isoformat())},{_json(user)},{_json(action)},"


def _tail(outcome, details) -> str:
    """The canonical text after the target: the same for every event of one
    `record_many`."""
    return f",{_json(outcome)},{_json(details)}]"


class _Signer(NamedTuple):
    user: str
    keys: UserKeys
    store_id: str


# Per thread and task: an operation runs on its worker thread, and signs there.
_signer: ContextVar[_Signer | None] = ContextVar("certdesk_audit_signer", default=None)


@contextmanager
def signed_by(user: str, keys: UserKeys | None, store_id: str) -> Iterator[None]:
    """Inside the block, the events `user` causes are signed with `keys` (None: unsigned,
    as before the user has keys)."""
    token = _signer.set(None if keys is None else _Signer(user, keys, store_id))
    try:
        yield
    finally:
        _signer.reset(token)


def _digest(prev_hash, head: str, target, tail: str) -> str:
    canonical = f"[{_json(prev_hash)}{head}{_json(target)}{tail}"
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(user: str, action: str, target: str = "", outcome: str = "allowed", **details) -> None:
    """Append one event. Call inside the operation's write transaction."""
    record_many(user, action, [target], outcome, **details)


def record_many(
    user: str, action: str, targets: Iterable[str], outcome: str = "allowed", **details
) -> None:
    """One event per target, chained in memory and inserted together: a bulk operation on
    10,000 certificates writes 10,000 events without 10,000 look-ups of the last hash."""
    details_text = _details_text(details)
    _append(user, action, outcome, [(_storable(t), details_text) for t in targets])


def record_each(
    user: str, action: str, events: Iterable[tuple[str, dict]], outcome: str = "allowed"
) -> None:
    """One event per (target, details), chained and inserted together as `record_many`'s:
    for events that differ in their details too (each imported certificate's SHA-256)."""
    _append(
        user, action, outcome, [(_storable(t), _details_text(details)) for t, details in events]
    )


def details_of(text: object) -> dict:
    """An event's details as stored, or nothing if they are not a JSON object."""
    try:
        details = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def _details_text(details: dict) -> str:
    details = {k: _storable(v) if isinstance(v, str) else v for k, v in details.items()}
    return json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)


def _append(user: str, action: str, outcome: str, items: list[tuple[str, str]]) -> None:
    """Chain (target, details text) events after the last one and insert them."""
    if not items:
        return
    user, action, outcome = _storable(user), _storable(action), _storable(outcome)
    last_id, prev_hash = statements.last_audit_event(database) or (0, GENESIS)
    time = utcnow().replace(microsecond=0)
    micros = AuditEvent.time.db_value(time)
    head = _head(time, user, action)
    tail_of, tail = None, ""
    events = []
    sha256, encode_str = hashlib.sha256, _encode_str
    # Each event's canonical text as _digest makes it, written out: a hash is plain hex,
    # and the loop runs once per certificate of a bulk operation.
    prev_text = _json(prev_hash)
    for target, details_text in items:
        if details_text != tail_of:
            tail_of, tail = details_text, _tail(outcome, details_text)
        digest = sha256(f"[{prev_text}{head}{encode_str(target)}{tail}".encode()).hexdigest()
        events.append(
            (micros, user, action, target, outcome, details_text, prev_hash, digest, None)
        )
        prev_hash, prev_text = digest, f'"{digest}"'
    signer = _signer.get()
    if signer is not None and signer.user == user:
        signature = signer.keys.sign(audit_event(signer.store_id, prev_hash, events[0][7]))
        events[-1] = (*events[-1][:-1], signature)
    statements.append_audit_events(database, events)
    # Ids follow the last one: the write transaction keeps every other writer out.
    first = last_id + 1
    _own.note(database.obj, OwnRun(first, first + len(events) - 1, events[0][7], prev_hash))


def _storable(text: str) -> str:
    """Text SQLite can store: a name that came from the environment or the file system
    with bytes that are not UTF-8 keeps them as \\xNN escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def chain_breaks() -> list[int]:
    """Ids of events whose hash or link does not match: empty when the log is intact."""
    broken = []
    prev_hash = GENESIS
    for event in AuditEvent.select().order_by(AuditEvent.id):
        expected = _digest(
            prev_hash,
            _head(event.time, event.user, event.action),
            event.target,
            _tail(event.outcome, event.details),
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            broken.append(event.id)
        prev_hash = event.hash
    return broken


def signature_breaks(
    store_id: str, first_id: int, keys_of: Callable[[str], PublicKeys | bool | None]
) -> list[int]:
    """Ids of the events from `first_id` on that no signature of their user covers: a
    signed event whose signature fails, or unsigned events not followed by a signed one
    of the same user before another user's, or before the first event that signature
    names. `keys_of(name)` is the user's certified
    keys; False for a user who signs nothing yet (no keys, or keys still awaited), whose
    events are not looked at; None for a name whose keys cannot be trusted (no such
    user, or keys without the custodian's certificate), whose every event is broken."""
    broken: list[int] = []
    waiting: list[tuple[int, str]] = []  # unsigned events of one user, waiting for theirs
    waiting_user = None
    keys: dict[str, PublicKeys | bool | None] = {}
    query = AuditEvent.select(AuditEvent.id, AuditEvent.user, AuditEvent.hash, AuditEvent.signature)
    for event in query.where(AuditEvent.id >= first_id).order_by(AuditEvent.id):
        if waiting and event.user != waiting_user:
            broken += [event_id for event_id, _ in waiting]
            waiting = []
        if event.user not in keys:
            keys[event.user] = keys_of(event.user)
        public = keys[event.user]
        if public is False:
            continue
        if public is None:
            broken.append(event.id)
            continue
        if event.signature is None:
            waiting_user = event.user
            waiting.append((event.id, event.hash))
            continue
        broken += _uncovered(store_id, public, blob(event.signature), event.id, event.hash, waiting)
        waiting = []
    return sorted(broken + [event_id for event_id, _ in waiting])


def _uncovered(
    store_id: str,
    keys: PublicKeys,
    signature: bytes,
    event_id: int,
    event_hash: str,
    waiting: list[tuple[int, str]],
) -> list[int]:
    """Of a signed event and the unsigned events of its user right before it, those its
    signature does not cover: the ones before the first event of the append it names,
    all of them if it signs none."""
    signed = _signed_from(store_id, keys, signature, event_hash, [h for _, h in waiting])
    if signed is None:
        return [*(event_id for event_id, _ in waiting), event_id]
    return [event_id for event_id, _ in waiting[: signed[0]]]


def _signed_from(
    store_id: str, keys: PublicKeys, signature: bytes, event_hash: str, before: list[str]
) -> tuple[int, bytes] | None:
    """Where the append that `signature` signs begins, among the unsigned events
    `before` (their hashes) and the signed event: the index of its first, and the
    statement signed. A signature made before appends were named by their first event
    covers them all (index 0). None if `keys` signed none of them."""
    starts = [*before, event_hash]
    # The likely ones first, one verification each: the whole run (an append of today),
    # the signature of before (which covers it too), the signed event alone; then the
    # starts between, which only events put before an append make.
    tries = [(0, starts[0]), (0, None), (len(before), event_hash)]
    tries += [(start, starts[start]) for start in range(1, len(before))]
    for start, first_hash in tries:
        statement = audit_event(store_id, event_hash, first_hash)
        if keys.verify(signature, statement):
            return start, statement
    return None


def signs_alone(store_id: str, keys: PublicKeys, signature: bytes, event_hash: str) -> bool:
    """Whether `signature` is `keys`' of the event `event_hash` as an append of its own."""
    return _signed_from(store_id, keys, signature, event_hash, []) is not None


def signed_by_keys(store_id: str, user: str, keys: PublicKeys) -> Iterator[tuple[int, bytes]]:
    """Each signed event of `user` whose signature `keys` made, with the statement it
    signs (to be signed again with other keys)."""
    before: list[str] = []
    previous = None
    query = AuditEvent.select(AuditEvent.id, AuditEvent.hash, AuditEvent.signature)
    events = query.where(AuditEvent.user == user).order_by(AuditEvent.id).tuples()
    for event_id, event_hash, signature in events:
        if previous is None or event_id != previous + 1:  # another user's events between
            before = []
        previous = event_id
        if signature is None:
            before.append(event_hash)
            continue
        signed = _signed_from(store_id, keys, blob(signature), event_hash, before)
        if signed is not None:
            yield event_id, signed[1]
        before = []


class OwnRun(NamedTuple):
    """Consecutive events one append wrote: their first and last ids and hashes."""

    first_id: int
    last_id: int
    first_hash: str
    last_hash: str


class _OwnRuns:
    """The runs of events each watched connection wrote, until the watcher has read
    past them: what a window wrote itself it has already announced, so `store_changes`
    tells it only of the others'. A run is its own only if the log holds its first and
    last hashes at its ids (a hash is unique in the log): a run that was rolled back and
    whose ids another writer reused never matches. Kept only for a database being
    watched."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def watch(self, db: peewee.Database) -> None:
        with self._lock:
            self._runs.setdefault(db, {})

    def note(self, db: peewee.Database, run: OwnRun) -> None:
        with self._lock:
            runs = self._runs.get(db)
            if runs is not None:
                _drop_old(runs)
                runs[run] = monotonic()

    def take(self, db: peewee.Database) -> list[OwnRun]:
        """The runs noted so far, in the order written."""
        with self._lock:
            runs = self._runs.get(db, {})
            _drop_old(runs)
            return list(runs)

    def forget(self, db: peewee.Database, runs: Iterable[OwnRun]) -> None:
        with self._lock:
            noted = self._runs.get(db, {})
            for run in runs:
                noted.pop(run, None)


def _drop_old(runs: dict[OwnRun, float]) -> None:
    """Runs older than OWN_RUN_TTL_S leave; they were noted in time order, so the oldest
    come first."""
    old = monotonic() - OWN_RUN_TTL_S
    while runs and next(iter(runs.values())) < old:
        del runs[next(iter(runs))]


_own = _OwnRuns()


def watch_own_events(db: peewee.Database) -> None:
    """From now on, note the events written through `db` (see `own_runs`)."""
    _own.watch(db)


def own_runs(db: peewee.Database) -> list[OwnRun]:
    """The runs of events written through the watched `db` and not yet forgotten, in
    the order written (some perhaps not committed yet, or rolled back)."""
    return _own.take(db)


def forget_own_runs(db: peewee.Database, runs: Iterable[OwnRun]) -> None:
    _own.forget(db, runs)
