"""Reading the audit log: the events and whether their hash chain is intact."""

import json
from dataclasses import dataclass
from datetime import datetime

from app.services.journal import chain_breaks
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


def list_events(session: "Session") -> list[AuditEntry]:
    """Every event, oldest first."""
    session.require(AUDIT_VIEW)
    return [
        AuditEntry(e.time, e.user, e.action, e.target, e.outcome, json.loads(e.details or "{}"))
        for e in AuditEvent.select().order_by(AuditEvent.id)
    ]


def verify_chain(session: "Session") -> list[int]:
    session.require(AUDIT_VIEW)
    return chain_breaks()
