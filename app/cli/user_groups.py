"""User groups: `user-group add`, `list`, `rename`, `delete`, `members`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.output import print_json, printable, problem
from app.cli.schemas import user_group_json
from app.cli.signin import signed_in
from app.services import user_groups


def register(commands: Commands) -> None:
    group = commands.group("user-group", "user groups and their members")
    a = group.add("add", "a new, empty user group", run_add)
    a.add_argument("name", metavar="UG")
    a.add_argument("--description", default="", metavar="TEXT")
    group.add(
        "list", "the user groups, their members and policies", run_list, json="one JSON array"
    )
    r = group.add("rename", "rename a user group (its policies follow)", run_rename)
    r.add_argument("name", metavar="UG")
    r.add_argument("new_name", metavar="NEW")
    r.add_argument("--description", metavar="TEXT")
    d = group.add(
        "delete", "delete a user group: its policies stop reaching its members", run_delete
    )
    d.add_argument("name", metavar="UG")
    d.add_argument("--yes", action="store_true", help="confirm")
    m = group.add("members", "put users in a user group, or take them out", run_members)
    m.add_argument("name", metavar="UG")
    m.add_argument("--add", nargs="+", default=[], metavar="USER")
    m.add_argument("--remove", nargs="+", default=[], metavar="USER")


def run_add(args, folder: Path) -> int:
    with signed_in(folder) as session:
        user_groups.create_user_group(session, args.name, args.description)
    print(printable(f"Added the user group {args.name!r}."))
    return 0


def run_list(args, folder: Path) -> int:
    with signed_in(folder) as session:
        rows = user_groups.list_user_groups(session)
    if args.json:
        print_json([user_group_json(r) for r in rows])
        return 0
    for r in rows:
        members = ", ".join(r.members) or "no members"
        policies = f"; policies: {', '.join(r.policies)}" if r.policies else ""
        print(printable(f"{r.name}  ({members}{policies})"))
    return 0


def run_rename(args, folder: Path) -> int:
    with signed_in(folder) as session:
        changed = user_groups.edit_user_group(session, args.name, args.new_name, args.description)
    if changed:
        print(printable(f"Renamed the user group {args.name!r} to {args.new_name!r}."))
    else:
        print(printable(f"The user group {args.name!r} is already so."))
    return 0


def run_delete(args, folder: Path) -> int:
    if not args.yes:
        problem(
            "delete removes the user group; the policies naming it stop reaching its "
            "members; add --yes to confirm"
        )
        return 2
    with signed_in(folder) as session:
        user_groups.delete_user_group(session, args.name)
    print(printable(f"Deleted the user group {args.name!r}; its members are still users."))
    return 0


def run_members(args, folder: Path) -> int:
    with signed_in(folder) as session:
        added, removed = user_groups.change_members(session, args.name, args.add, args.remove)
    print(printable(f"User group {args.name!r}: {added} put in, {removed} taken out."))
    return 0
