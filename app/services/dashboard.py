"""The dashboard's figures: how many certificates, how many expire within 30, 60 and 90
days, expired, disabled; the signatures per certificate over the last 30 days and the
latest events (for a role that reads the audit log); and the expiry dates as an
iCalendar file (RFC 5545) to put in a calendar."""

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import peewee

from app.files import new_file
from app.services import audit_log
from app.services.audit_log import AuditEntry, AuditFilter
from app.services.operations import operation
from app.services.session import Session
from models import AuditEvent, Certificate
from models.base import utcnow
from models.permissions import AUDIT_VIEW, CERTIFICATES_VIEW

WINDOWS = (30, 60, 90)  # the expiring figures, in days
CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")  # line breaks aside: escaped
USAGE_DAYS = 30
TOP_USED = 10
LATEST = 10


@dataclass(frozen=True)
class Usage:
    alias: str
    signatures: int


@dataclass(frozen=True)
class Dashboard:
    total: int
    with_keys: int
    disabled: int
    expired: int
    expiring: dict[int, int]  # days (WINDOWS) -> valid now, and ending within them
    # None when the role may not read the audit log, which these come from.
    usage: list[Usage] | None
    latest: list[AuditEntry] | None
    now: dt.datetime


@operation("store.dashboard", CERTIFICATES_VIEW, reads=True)
def dashboard(session: Session, now: dt.datetime | None = None) -> Dashboard:
    now = now or utcnow()
    ends = {days: now + dt.timedelta(days=days) for days in WINDOWS}

    def count(condition) -> peewee.Expression:
        return peewee.fn.COALESCE(peewee.fn.SUM(peewee.Case(None, [(condition, 1)], 0)), 0)

    valid_now = (Certificate.not_before <= now) & (Certificate.not_after >= now)
    figures = Certificate.select(
        peewee.fn.COUNT(Certificate.id),
        count(Certificate.private_key.is_null(False)),
        count(Certificate.enabled == False),  # noqa: E712 (peewee builds SQL from ==)
        count(Certificate.not_after < now),
        *(count(valid_now & (Certificate.not_after < ends[days])) for days in WINDOWS),
    ).tuples()[0]
    total, with_keys, disabled, expired, *expiring = figures
    reads_log = session.can(AUDIT_VIEW)
    return Dashboard(
        total=total,
        with_keys=with_keys,
        disabled=disabled,
        expired=expired,
        expiring=dict(zip(WINDOWS, expiring, strict=True)),
        usage=_usage(now) if reads_log else None,
        latest=audit_log.newest_events(session, AuditFilter(), LATEST).entries[::-1]
        if reads_log
        else None,
        now=now,
    )


@operation("certificate.expiring", CERTIFICATES_VIEW, reads=True)
def expiring(session: Session, days: int, now: dt.datetime | None = None) -> int:
    """How many certificates are valid now and end within `days` (the sign-in banner)."""
    now = now or utcnow()
    return (
        Certificate.select()
        .where(
            (Certificate.not_before <= now)
            & (Certificate.not_after >= now)
            & (Certificate.not_after < now + dt.timedelta(days=days))
        )
        .count()
    )


def _usage(now: dt.datetime) -> list[Usage]:
    """The certificates signed with most over the last USAGE_DAYS days, from the log."""
    since = now - dt.timedelta(days=USAGE_DAYS)
    signatures = peewee.fn.COUNT(AuditEvent.id)
    rows = (
        AuditEvent.select(AuditEvent.target, signatures)
        .where(
            (AuditEvent.time >= since)
            & (AuditEvent.action == "certificate.sign")
            & (AuditEvent.outcome == "allowed")
        )
        .group_by(AuditEvent.target)
        .order_by(signatures.desc(), AuditEvent.target)
        .limit(TOP_USED)
        .tuples()
    )
    return [Usage(alias, n) for alias, n in rows]


# -- the calendar -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    alias: str
    valid_to: dt.datetime


@operation("certificate.expiry_dates", CERTIFICATES_VIEW, reads=True)
def expiry_dates(
    session: Session, days: int | None = None, now: dt.datetime | None = None
) -> list[Ending]:
    """The certificates not expired yet (ending within `days`, if given), soonest first:
    what `export_calendar` writes, for `certdesk expiry` to list."""
    return [Ending(alias, not_after) for alias, not_after, *_ in _ending(now or utcnow(), days)]


def _ending(now: dt.datetime, days: int | None) -> list[tuple]:
    query = Certificate.select(
        Certificate.alias,
        Certificate.not_after,
        Certificate.subject,
        Certificate.serial,
        Certificate.sha256,
    ).where(Certificate.not_after >= now)
    if days is not None:
        query = query.where(Certificate.not_after < now + dt.timedelta(days=days))
    return list(query.order_by(Certificate.not_after).tuples())


@operation("certificate.expiry_calendar", CERTIFICATES_VIEW, target="out", reads=True)
def export_calendar(
    session: Session, out: Path, days: int | None = None, now: dt.datetime | None = None
) -> int:
    """The end of validity of each certificate not expired yet (within `days`, if given)
    as an all-day event, with reminders 30 and 7 days before, in the new file `out`;
    how many were written."""
    now = now or utcnow()
    rows = _ending(now, days)
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Certdesk//Certificate expiry//EN"]
    for alias, not_after, subject, serial, sha256 in rows:
        day = not_after.date()
        lines += [
            "BEGIN:VEVENT",
            f"UID:{sha256}@certdesk",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_text(f'Certificate “{alias}” expires')}",
            f"DESCRIPTION:{_text(_describe(subject, serial, not_after))}",
        ]
        for before in (30, 7):
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"DESCRIPTION:{_text(f'{alias} expires in {before} days')}",
                f"TRIGGER:-P{before}D",
                "END:VALARM",
            ]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    with new_file(out) as written:
        written.write("".join(_folded(line) + "\r\n" for line in lines).encode("utf-8"))
    return len(rows)


def _describe(subject: str, serial: str, not_after: dt.datetime) -> str:
    return f"{subject}; serial {serial}; valid until {not_after:%Y-%m-%d %H:%M} UTC"


def _text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped (RFC 5545 3.3.11)."""
    value = CONTROL.sub(" ", value)  # TEXT holds no control character (3.3.11)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _folded(line: str) -> str:
    """Lines of at most 75 octets, continued on lines that begin with a space (3.1),
    never inside a UTF-8 character."""
    data = line.encode("utf-8")
    parts, start, limit = [], 0, 75
    while len(data) - start > limit:
        end = start + limit
        while end > start and (data[end] & 0xC0) == 0x80:  # a continuation byte
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # the leading space counts
    parts.append(data[start:])
    return "\r\n ".join(p.decode("utf-8") for p in parts)
