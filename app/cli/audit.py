"""The audit log: `audit`."""

import argparse
import csv
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import fields_as_flags
from app.cli.output import Failed, print_json, printable, problem
from app.cli.schemas import audit_event_json, iso
from app.cli.signin import signed_in
from app.services import audit_log
from app.services.audit_log import OUTCOMES, AuditFilter

TIME_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], UTC unless an offset is given"


def register(commands: Commands) -> None:
    p = commands.add("audit", "the audit log, oldest first", run_audit, json="one JSON array")
    p.add_argument("--verify", action="store_true", help="exit 1 if the hash chain is broken")
    p.add_argument("--csv", action="store_true", help="CSV on stdout, one row per event")
    p.add_argument("--user", default="", metavar="USER", help="events by this user")
    p.add_argument(
        "--action", default="", metavar="ACTION", help="e.g. certificate.sign, or user.*"
    )
    p.add_argument("--target", default="", metavar="TEXT", help="events whose target holds TEXT")
    p.add_argument("--outcome", default="", choices=OUTCOMES)
    p.add_argument("--since", type=_start, metavar="TIME", help=f"from TIME ({TIME_FORMS})")
    p.add_argument("--until", type=_end, metavar="TIME", help="before TIME; a date: to its end")


def _moment(text: str) -> datetime | date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time ({TIME_FORMS})") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _start(text: str) -> datetime:
    moment = _moment(text)
    if isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


def _end(text: str) -> datetime:
    moment = _moment(text)
    if isinstance(moment, datetime):
        return moment
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)


def run_audit(args, folder: Path) -> int:
    if args.csv and args.json:
        problem("--csv and --json: choose one")
        return 2
    with fields_as_flags({"until": "--until", "outcome": "--outcome"}):
        filters = AuditFilter(
            args.user, args.action, args.target, args.outcome, args.since, args.until
        )
    with signed_in(folder) as session:
        events = audit_log.list_events(session, filters)
        breaks = audit_log.verify_chain(session) if args.verify else []
        whole = len(events) if filters.empty else audit_log.count_events(session)
    if args.json:
        print_json([audit_event_json(e) for e in events])
    elif args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(audit_log.CSV_COLUMNS)
        writer.writerows(audit_log.csv_rows(events))
    else:
        for e in events:
            details = ", ".join(f"{k}={v}" for k, v in e.details.items())
            line = f"{e.user}  {e.outcome:<7}  {e.action}  {e.target}  {details}"
            print(f"{iso(e.time)}  {printable(line)}")
    if breaks:
        problem(f"the audit chain is broken at event(s) {', '.join(map(str, breaks))}")
        raise Failed
    if args.verify:
        print(f"The audit chain of {whole:,} event(s) is intact.", file=sys.stderr)
    return 0
