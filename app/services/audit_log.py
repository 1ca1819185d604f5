"""Reading the audit log: the events and whether their hash chain is intact."""

import json
from dataclasses import dataclass
from datetime import datetime

from app.services import custody
from app.services.journal import chain_breaks
from app.services.operations import operation
from app.services.session import Session
from models import AuditEvent
from models.permissions import AUDIT_VIEW


@dataclass(frozen=True)
class AuditEntry:
    time: datetime
    user: str
    action: str
    target: str
    outcome: str
    details: dict


@operation("audit.list", AUDIT_VIEW, reads=True)
def list_events(session: "Session") -> list[AuditEntry]:
    """Every event, oldest first."""
    return [
        AuditEntry(e.time, e.user, e.action, e.target, e.outcome, json.loads(e.details or "{}"))
        for e in AuditEvent.select().order_by(AuditEvent.id)
    ]


@operation("audit.verify", AUDIT_VIEW, reads=True)
def verify_chain(session: "Session") -> list[int]:
    """The ids of the events whose hash or link does not match, that no signature of
    their user covers, or that a user wrote after their deletion; empty when the log is
    intact."""
    breaks = chain_breaks() + custody.audit_breaks(session) + custody.after_deletion(session)
    return sorted(set(breaks))
