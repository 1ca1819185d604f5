"""The store at a glance: `dashboard`, and `expiry` (with `--ics FILE`, a calendar)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import out_option
from app.cli.output import print_json, printable
from app.cli.schemas import audit_event_json, iso
from app.cli.signin import signed_in
from app.files import display_path
from app.services import dashboard


def register(commands: Commands) -> None:
    commands.add(
        "dashboard",
        "totals, expiring in 30/60/90 days, expired, disabled, usage, latest events",
        run_dashboard,
        json="one JSON object",
    )
    e = commands.add(
        "expiry", "the certificates by end of validity", run_expiry, json="one JSON array"
    )
    e.add_argument("--days", type=int, metavar="N", help="only those ending within N days")
    e.add_argument("--ics", metavar="FILE", help="write them as calendar events to a new FILE")


def run_dashboard(args, folder: Path) -> int:
    with signed_in(folder) as session:
        figures = dashboard.dashboard(session)
    if args.json:
        print_json(
            {
                "time": iso(figures.now),
                "certificates": figures.total,
                "with_private_key": figures.with_keys,
                "disabled": figures.disabled,
                "expired": figures.expired,
                "expiring": {str(days): n for days, n in figures.expiring.items()},
                "signatures_30_days": None
                if figures.usage is None
                else [{"alias": u.alias, "signatures": u.signatures} for u in figures.usage],
                "latest_events": None
                if figures.latest is None
                else [audit_event_json(e) for e in figures.latest],
            }
        )
        return 0
    print(f"Certificates: {figures.total:,} ({figures.with_keys:,} with a private key)")
    print("Expiring: " + ", ".join(f"{n:,} within {d} days" for d, n in figures.expiring.items()))
    print(f"Expired: {figures.expired:,}; disabled: {figures.disabled:,}")
    if figures.usage is not None:
        print(f"Signatures over the last {dashboard.USAGE_DAYS} days:")
        for u in figures.usage or ():
            print(printable(f"  {u.signatures:>6,}  {u.alias}"))
        if not figures.usage:
            print("  none")
    if figures.latest is not None:
        print("Latest events:")
        for e in figures.latest:
            print(printable(f"  {iso(e.time)}  {e.user}  {e.outcome}  {e.action}  {e.target}"))
    return 0


def run_expiry(args, folder: Path) -> int:
    with signed_in(folder) as session:
        if args.ics:
            with out_option(args.ics, "--ics"):
                written = dashboard.export_calendar(session, Path(args.ics), args.days)
            print(
                f"Wrote {written:,} expiry date(s) as calendar events to "
                f"{printable(display_path(args.ics))}."
            )
            return 0
        ending = dashboard.expiry_dates(session, args.days)
    if args.json:
        print_json([{"alias": r.alias, "valid_to": iso(r.valid_to)} for r in ending])
        return 0
    now = datetime.now(UTC)
    for r in ending:
        left = (r.valid_to - now) // timedelta(days=1)
        print(printable(f"{r.valid_to:%Y-%m-%d}  {left:>5} days  {r.alias}"))
    return 0
