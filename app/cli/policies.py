"""Who may sign with what, and when: `policy add`, `policy list`, `policy show`,
`policy edit`, `policy enable`, `policy disable`, `policy delete`, and `who-can-sign`."""

import argparse
import dataclasses
from datetime import date, datetime
from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import fields_as_flags
from app.cli.output import print_json, printable, problem
from app.cli.schemas import policy_json, who_json
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
    "description": "--description",
}
WHAT_AND_WHO = (
    ("--cert", "certificates"),
    ("--cert-group", "certificate_groups"),
    ("--user", "users"),
    ("--user-group", "user_groups"),
)


def register(commands: Commands) -> None:
    policy = commands.group("policy", "who may sign with what, and when")
    q = policy.add("add", "a new policy (Allow by default)", run_add)
    q.add_argument("name", metavar="NAME")
    for flag, dest in WHAT_AND_WHO:
        q.add_argument(flag, dest=dest, action="append", default=[], metavar="NAME")
    q.add_argument("--description", default="", metavar="TEXT")
    q.add_argument("--disabled", action="store_true", help="added disabled")
    q.add_argument("--deny", action="store_true", help="a Deny policy")
    q.add_argument("--priority", type=int, default=100, help="0 is the highest (default 100)")
    q.add_argument("--days", default="", help="e.g. mon-fri (default: every day)")
    q.add_argument("--hours", default="", help="UTC, e.g. 08:00-18:00 (default: all day)")
    q.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="YYYY-MM-DD")
    q.add_argument("--until", dest="date_until", type=_date, metavar="DATE", help="YYYY-MM-DD")
    policy.add("list", "the policies, by priority", run_list, json="one JSON array")
    show = policy.add("show", "one policy", run_show, json="one JSON object")
    show.add_argument("name", metavar="NAME")
    e = policy.add("edit", "change a policy: each option given replaces that part", run_edit)
    e.add_argument("name", metavar="NAME")
    e.add_argument("--rename", metavar="NEW")
    e.add_argument("--description", metavar="TEXT")
    for flag, dest in WHAT_AND_WHO:
        e.add_argument(flag, dest=dest, action="append", metavar="NAME", help="replaces the list")
    for flag, dest in WHAT_AND_WHO:
        e.add_argument(f"--no-{flag[2:]}s", dest=f"no_{dest}", action="store_true")
    effect = e.add_mutually_exclusive_group()
    effect.add_argument("--allow", dest="deny", action="store_false", default=None)
    effect.add_argument("--deny", dest="deny", action="store_true", default=None)
    e.add_argument("--priority", type=int)
    e.add_argument("--days", help="e.g. mon-fri; '' for every day")
    e.add_argument("--hours", help="UTC, e.g. 08:00-18:00 or 22:00-06:00; '' for all day")
    e.add_argument("--from", dest="date_from", type=_date, metavar="DATE")
    e.add_argument("--until", dest="date_until", type=_date, metavar="DATE")
    e.add_argument("--no-dates", action="store_true", help="no start or end date")
    e.add_argument("--always", action="store_true", help="no schedule: every day, all day")
    for verb, words in (
        ("enable", "let a policy decide again"),
        ("disable", "stop a policy deciding; its wraps go"),
        ("delete", "delete a policy; its wraps go"),
    ):
        change = policy.add(verb, words, run_change)
        change.add_argument("name", metavar="NAME")
        change.set_defaults(verb=verb)
    who = commands.add(
        "who-can-sign", "who may sign with a certificate now, and by what", run_who_can_sign
    )
    who.add_argument("alias", metavar="ALIAS")
    who.add_argument("--json", action="store_true", help="one JSON array")


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
        description=args.description,
        enabled=not args.disabled,
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


def run_show(args, folder: Path) -> int:
    with signed_in(folder) as session:
        row = policies.show_policy(session, args.name)
    if args.json:
        print_json(policy_json(row))
        return 0
    state = "enabled" if row.enabled else "disabled"
    print(printable(f"{row.name}  {row.effect}, priority {row.priority}, {state}"))
    if row.description:
        print(printable(f"Description: {row.description}"))
    what = [*row.certificates, *(f"certificate group {g}" for g in row.certificate_groups)]
    who = [*row.users, *(f"user group {g}" for g in row.user_groups)]
    print(printable(f"What: {', '.join(what)}"))
    print(printable(f"Who: {', '.join(who)}"))
    print(f"When: {schedule_text(row)}")
    return 0


def schedule_text(row: policies.PolicyRow) -> str:
    parts = [row.weekdays or "every day", f"{row.hours} UTC" if row.hours else "all day"]
    if row.date_from or row.date_until:
        start = row.date_from.isoformat() if row.date_from else "…"
        end = row.date_until.isoformat() if row.date_until else "…"
        parts.append(f"from {start} until {end}")
    return ", ".join(parts)


def run_edit(args, folder: Path) -> int:
    if not _edited(PolicySpec(args.name), args):
        problem("policy edit: nothing to change; give an option (see --help)")
        return 2
    with signed_in(folder) as session, fields_as_flags(FLAGS):
        spec = _edited(policies.show_policy(session, args.name).spec(), args)
        row = policies.edit_policy(session, args.name, spec)
    print(printable(f"Saved the policy {row.name!r} ({row.effect}, priority {row.priority})."))
    return 0


def _edited(spec: PolicySpec, args) -> PolicySpec | None:
    """`spec` with what the options of `policy edit` replace; None when they replace
    nothing."""
    changes: dict = {}
    if args.rename is not None:
        changes["name"] = args.rename
    for field in ("description", "deny", "priority", "days", "hours", "date_from", "date_until"):
        if getattr(args, field) is not None:
            changes[field] = getattr(args, field)
    for _flag, dest in WHAT_AND_WHO:
        if getattr(args, f"no_{dest}"):
            changes[dest] = ()
        elif getattr(args, dest) is not None:
            changes[dest] = tuple(getattr(args, dest))
    if args.no_dates:
        changes |= {"date_from": None, "date_until": None}
    if args.always:
        changes |= {"days": "", "hours": "", "date_from": None, "date_until": None}
    return dataclasses.replace(spec, **changes) if changes else None


def run_who_can_sign(args, folder: Path) -> int:
    with signed_in(folder) as session:
        signers = policies.who_can_sign(session, args.alias)
    if args.json:
        print_json([who_json(s) for s in signers])
        return 0
    if not signers:
        print(printable(f"Nobody may sign with {args.alias!r} now: no policy names a user for it."))
    for s in signers:
        verdict = "may sign" if s.allowed else "may not"
        by = f"policy {s.policy!r}" if s.policy else "owner"
        print(printable(f"{s.user}  {verdict}  ({by})"))
    return 0
