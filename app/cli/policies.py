"""Who may sign with what, and when: `policy add`, `policy list`, `policy enable`,
`policy disable`, `policy delete`."""

import argparse
from datetime import date, datetime
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import fields_as_flags
from app.cli.output import print_json, printable
from app.cli.schemas import policy_json
from app.cli.signin import signed_in
from app.services import policies
from app.services.policies import PolicySpec

# The fields of a policy as `policy add` spells them; its NAME keeps the field's own
# name ("policy name"), as `user add` and `group add` do.
FLAGS = {
    "certificates": "--cert",
    "certificate groups": "--cert-group",
    "users": "--user",
    "user groups": "--user-group",
    "days": "--days",
    "hours": "--hours",
    "until": "--until",
    "priority": "--priority",
}


def register(commands: Commands) -> None:
    policy = commands.group("policy", "who may sign with what, and when")
    q = policy.add("add", "a new policy (Allow by default)", run_add)
    q.add_argument("name", metavar="NAME")
    for flag, dest in (
        ("--cert", "certificates"),
        ("--cert-group", "certificate_groups"),
        ("--user", "users"),
        ("--user-group", "user_groups"),
    ):
        q.add_argument(flag, dest=dest, action="append", default=[], metavar="NAME")
    q.add_argument("--deny", action="store_true", help="a Deny policy")
    q.add_argument("--priority", type=int, default=100, help="0 is the highest (default 100)")
    q.add_argument("--days", default="", help="e.g. mon-fri (default: every day)")
    q.add_argument("--hours", default="", help="UTC, e.g. 08:00-18:00 (default: all day)")
    q.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="YYYY-MM-DD")
    q.add_argument("--until", dest="date_until", type=_date, metavar="DATE", help="YYYY-MM-DD")
    policy.add("list", "the policies, by priority", run_list, json="one JSON array")
    for verb, words in (
        ("enable", "let a policy decide again"),
        ("disable", "stop a policy deciding; its wraps go"),
        ("delete", "delete a policy; its wraps go"),
    ):
        change = policy.add(verb, words, run_change)
        change.add_argument("name", metavar="NAME")
        change.set_defaults(verb=verb)


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def run_add(args, folder: Path) -> int:
    spec = PolicySpec(
        name=args.name,
        certificates=tuple(args.certificates),
        certificate_groups=tuple(args.certificate_groups),
        users=tuple(args.users),
        user_groups=tuple(args.user_groups),
        deny=args.deny,
        priority=args.priority,
        days=args.days,
        hours=args.hours,
        date_from=args.date_from,
        date_until=args.date_until,
    )
    with signed_in(folder) as session, fields_as_flags(FLAGS):
        row = policies.add_policy(session, spec)
    print(f"Added the policy {row.name!r} ({row.effect}, priority {row.priority}).")
    return 0


def run_change(args, folder: Path) -> int:
    with signed_in(folder) as session:
        if args.verb == "delete":
            policies.delete_policy(session, args.name)
            print(printable(f"Deleted the policy {args.name!r}."))
            return 0
        change = policies.enable_policy if args.verb == "enable" else policies.disable_policy
        changed = change(session, args.name)
    state = f"{args.verb}d"
    if changed:
        print(printable(f"{state.capitalize()} the policy {args.name!r}."))
    else:
        print(printable(f"The policy {args.name!r} is already {state}."))
    return 0


def run_list(args, folder: Path) -> int:
    with signed_in(folder) as session:
        rows = policies.list_policies(session)
    if args.json:
        print_json([policy_json(r) for r in rows])
        return 0
    if not rows:
        print("No policies yet: add one with `certdesk policy add`.")
    for r in rows:
        what = ", ".join([*r.certificates, *(f"group {g}" for g in r.certificate_groups)])
        who = ", ".join([*r.users, *(f"user group {g}" for g in r.user_groups)])
        when = " ".join(filter(None, (r.weekdays, r.hours))) or "always"
        print(printable(f"{r.priority:>4}  {r.effect:<5}  {r.name}: {who} → {what} ({when})"))
    return 0
