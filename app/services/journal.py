"""The hash-chained journal every service writes its audit events to: each event carries
the hash of the one before it. Reading the log is `audit_log`'s."""

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

from models import AuditEvent, database, statements
from models.base import utcnow

GENESIS = "0" * 64


def _digest(prev_hash: str, time: datetime, user, action, target, outcome, details: str) -> str:
    canonical = json.dumps(
        [prev_hash, time.isoformat(), user, action, target, outcome, details],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(user: str, action: str, target: str = "", outcome: str = "allowed", **details) -> None:
    """Append one event. Call inside the operation's write transaction."""
    record_many(user, action, [target], outcome, **details)


def record_many(
    user: str, action: str, targets: Iterable[str], outcome: str = "allowed", **details
) -> None:
    """One event per target, chained in memory and inserted together: a bulk operation on
    10,000 certificates writes 10,000 events without 10,000 look-ups of the last hash."""
    user, action, outcome = _storable(user), _storable(action), _storable(outcome)
    targets = [_storable(t) for t in targets]
    last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
    prev_hash = last.hash if last else GENESIS
    time = utcnow().replace(microsecond=0)
    details = {k: _storable(v) if isinstance(v, str) else v for k, v in details.items()}
    details_text = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
    micros = AuditEvent.time.db_value(time)
    events = []
    for target in targets:
        digest = _digest(prev_hash, time, user, action, target, outcome, details_text)
        events.append((micros, user, action, target, outcome, details_text, prev_hash, digest))
        prev_hash = digest
    statements.append_audit_events(database, events)


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
            event.time,
            event.user,
            event.action,
            event.target,
            event.outcome,
            event.details,
        )
        if event.prev_hash != prev_hash or event.hash != expected:
            broken.append(event.id)
        prev_hash = event.hash
    return broken
