"""The audit log: `audit`."""

import sys
from pathlib import Path

from app.cli.commands import Commands
from app.cli.output import Failed, print_json, printable, problem
from app.cli.schemas import audit_event_json, iso
from app.cli.signin import signed_in
from app.services import audit_log


def register(commands: Commands) -> None:
    p = commands.add("audit", "the audit log, oldest first", run_audit, json="one JSON array")
    p.add_argument("--verify", action="store_true", help="exit 1 if the hash chain is broken")


def run_audit(args, folder: Path) -> int:
    with signed_in(folder) as session:
        events = audit_log.list_events(session)
        breaks = audit_log.verify_chain(session) if args.verify else []
    if args.json:
        print_json([audit_event_json(e) for e in events])
    else:
        for e in events:
            details = ", ".join(f"{k}={v}" for k, v in e.details.items())
            line = f"{e.user}  {e.outcome:<7}  {e.action}  {e.target}  {details}"
            print(f"{iso(e.time)}  {printable(line)}")
    if breaks:
        problem(f"the audit chain is broken at event(s) {', '.join(map(str, breaks))}")
        raise Failed
    if args.verify:
        print(f"The audit chain of {len(events)} event(s) is intact.", file=sys.stderr)
    return 0
