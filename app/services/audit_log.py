"""Reading the audit log: the events, filtered, as CSV, and whether their chain is intact."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import peewee

from app.errors import ValidationError
from app.files import new_file
from app.services import custody
from app.services.journal import chain_breaks
from app.services.operations import operation
from app.services.session import Session
from models import AuditEvent
from models.permissions import AUDIT_VIEW

OUTCOMES = ("allowed", "denied", "failed")
CSV_COLUMNS = ("id", "time", "user", "action", "target", "outcome", "details")
# A spreadsheet runs a cell that begins with one of these as a formula; the log holds
# text others chose (aliases from certificates' names, reasons).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: datetime
    user: str
    action: str
    target: str
    outcome: str
    details: dict


@dataclass(frozen=True)
class AuditFilter:
    """Which events: each given part must match. `action` ending in "*" is a prefix
    ("user.*"); `target` matches a part of the target (an alias in a bulk event's list);
    `since` and `until` are aware datetimes, `until` excluded; `through`, the last
    event's id (the log up to its first broken event)."""

    user: str = ""
    action: str = ""
    target: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None
    through: int | None = None

    def __post_init__(self) -> None:
        if self.outcome and self.outcome not in OUTCOMES:
            raise ValidationError(
                "outcome", f"{self.outcome!r} is not one of {', '.join(OUTCOMES)}"
            )
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"AuditFilter.{name} needs an aware datetime")
        if self.since and self.until and self.until <= self.since:
            raise ValidationError("until", "the end of the time range is not after its start")

    @property
    def empty(self) -> bool:
        return self == AuditFilter()


@dataclass(frozen=True)
class AuditEvents:
    """The newest `limit` events that match, oldest first, and how many matched."""

    entries: list[AuditEntry]
    matched: int


@dataclass(frozen=True)
class AuditFacets:
    """What the filters offer: the users and the actions the log holds."""

    users: list[str]
    actions: list[str]


@operation("audit.list", AUDIT_VIEW, reads=True)
def list_events(session: Session, filters: AuditFilter = AuditFilter()) -> list[AuditEntry]:
    """Every event that matches, oldest first."""
    return _entries(_matching(filters).order_by(AuditEvent.id))


@operation("audit.newest", AUDIT_VIEW, reads=True)
def newest_events(session: Session, filters: AuditFilter, limit: int) -> AuditEvents:
    """The newest `limit` events that match, oldest first: a page shows a log of a
    million events by its end, and says how many more match."""
    query = _matching(filters)
    newest = query.order_by(AuditEvent.id.desc()).limit(limit)
    entries = _entries(newest)[::-1]
    matched = len(entries) if len(entries) < limit else query.count()
    return AuditEvents(entries, matched)


@operation("audit.count", AUDIT_VIEW, reads=True)
def count_events(session: Session, filters: AuditFilter = AuditFilter()) -> int:
    return _matching(filters).count()


@operation("audit.facets", AUDIT_VIEW, reads=True)
def facets(session: Session) -> AuditFacets:
    def distinct(column) -> list[str]:
        names = (value for (value,) in AuditEvent.select(column).distinct().tuples())
        return sorted(names, key=str.casefold)

    return AuditFacets(distinct(AuditEvent.user), distinct(AuditEvent.action))


@operation("audit.export", AUDIT_VIEW, reads=True)
def export_csv(session: Session, out: Path, filters: AuditFilter = AuditFilter()) -> int:
    """The events that match, as CSV in the new file `out`; how many were written."""
    count = 0
    with new_file(out) as written:
        text = io.TextIOWrapper(_Writes(written), encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(CSV_COLUMNS)
        for row in csv_rows(_entries(_matching(filters).order_by(AuditEvent.id))):
            writer.writerow(row)
            count += 1
        text.flush()
        text.detach()
    return count


def csv_rows(entries: Iterable[AuditEntry]) -> Iterator[list[str]]:
    """The CSV_COLUMNS of each event: time in ISO 8601 UTC, details as compact JSON, and
    any cell a spreadsheet would run as a formula given a leading apostrophe."""
    for e in entries:
        details = json.dumps(e.details, ensure_ascii=False, separators=(",", ":"))
        cells = (e.user, e.action, e.target, e.outcome, details)
        yield [str(e.id), f"{e.time:%Y-%m-%dT%H:%M:%SZ}", *(_inert(c) for c in cells)]


def _inert(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


class _Writes(io.RawIOBase):
    """A NewFile as a binary stream, for the text wrapper the csv module writes to."""

    def __init__(self, written) -> None:
        self._written = written

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self._written.write(bytes(data))


@operation("audit.verify", AUDIT_VIEW, reads=True)
def verify_chain(session: Session) -> list[int]:
    """The ids of the events whose hash or link does not match, that no signature of
    their user covers, or that a user wrote after their deletion; empty when the log is
    intact."""
    breaks = chain_breaks() + custody.audit_breaks(session) + custody.after_deletion(session)
    return sorted(set(breaks))


def _matching(filters: AuditFilter) -> peewee.ModelSelect:
    query = AuditEvent.select(
        AuditEvent.id,
        AuditEvent.time,
        AuditEvent.user,
        AuditEvent.action,
        AuditEvent.target,
        AuditEvent.outcome,
        AuditEvent.details,
    )
    if filters.user:
        query = query.where(AuditEvent.user == filters.user)
    if filters.action.endswith("*"):
        query = query.where(AuditEvent.action.startswith(filters.action[:-1]))
    elif filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.target:
        # A part of the text as typed: LIKE would take % and _ in it as wildcards.
        query = query.where(peewee.fn.instr(AuditEvent.target, filters.target) > 0)
    if filters.outcome:
        query = query.where(AuditEvent.outcome == filters.outcome)
    if filters.since is not None:
        query = query.where(AuditEvent.time >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.time < filters.until)
    if filters.through is not None:
        query = query.where(AuditEvent.id <= filters.through)
    return query


def _entries(query: peewee.ModelSelect) -> list[AuditEntry]:
    return [
        AuditEntry(id_, time, user, action, target, outcome, json.loads(details or "{}"))
        for id_, time, user, action, target, outcome, details in query.tuples()
    ]
