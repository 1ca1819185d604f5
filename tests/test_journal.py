"""The journal's hash chain: each event's hash is the SHA-256 of one canonical JSON text,
the list [previous hash, time, user, action, target, outcome, details] dumped with
ensure_ascii=False and separators (",", ":"). Stores already hold events hashed so, and
`check` verifies them against it; however the journal builds that text, the bytes stay
these."""

import hashlib
import json

from app.services import journal
from app.services.session import write_transaction
from models import AuditEvent

AWKWARD = [
    "plain",
    'a "quote" and a \\ backslash',
    "line\nbreak\ttab\x01\x7f",
    "Ünïcödé 証明書 🔐",
    "not UTF-8: \udcff",  # kept as a \xff escape
    "",
]


def _canonical_hash(prev_hash: str, event: AuditEvent) -> str:
    fields = [
        prev_hash,
        event.time.isoformat(),
        event.user,
        event.action,
        event.target,
        event.outcome,
        event.details,
    ]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_event_is_hashed_from_its_canonical_json(session):
    with write_transaction(session):
        journal.record_many("admin", "certificate.disable", AWKWARD)
        journal.record_many("admin", "group.add", AWKWARD[:2], groups='"A", B\n')
        journal.record_each(
            "admin", "certificate.import", [(t, {"sha256": t, "n": len(t)}) for t in AWKWARD]
        )
        journal.record('ädmin "x"', 'odd "action"', "one", "denied", reason="why\nnot")
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert len(events) > 2 * len(AWKWARD) + 2  # the store's own events come first
    prev_hash = journal.GENESIS
    for event in events:
        assert event.prev_hash == prev_hash
        assert event.hash == _canonical_hash(prev_hash, event), event.target
        prev_hash = event.hash
    assert journal.chain_breaks() == []


def test_a_changed_field_breaks_the_chain_at_that_event(session):
    with write_transaction(session):
        journal.record_many("admin", "certificate.disable", AWKWARD)
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    AuditEvent.update(details='{"x":1}').where(AuditEvent.id == events[-2].id).execute()
    assert journal.chain_breaks() == [events[-2].id]
