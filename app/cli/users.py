"""The store's users: `user add`, `user list`, `user enable`/`disable`, `user delete`,
`user role`, `user passwd`, `user reset-password`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.output import print_json, printable, problem
from app.cli.schemas import user_json
from app.cli.signin import current_password, new_password, signed_in
from app.services import logins, user_groups, users
from app.services.roles import BUILTIN_ROLES, SIGNER


def register(commands: Commands) -> None:
    user = commands.group("user", "add, list, enable, disable users, their roles, passwords")
    u = user.add("add", "a new user with a key slot", run_add)
    u.add_argument("name", metavar="NAME")
    u.add_argument("--role", default=SIGNER, choices=list(BUILTIN_ROLES))
    u.add_argument("--user-group", dest="user_groups", action="append", default=[], metavar="UG")
    user.add("list", "the store's users", run_list, json="one JSON array")
    for verb, words in (("enable", "let a user sign in again"), ("disable", "stop their sign-ins")):
        e = user.add(verb, words, run_enabled)
        e.add_argument("name", metavar="NAME")
        e.set_defaults(enable=verb == "enable")
    d = user.add("delete", "delete users: their slots and wraps; the store key changes", run_delete)
    d.add_argument("names", metavar="NAME", nargs="+")
    d.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    r = user.add("role", "give a user another role (from their next sign-in)", run_role)
    r.add_argument("name", metavar="NAME")
    r.add_argument("role", metavar="ROLE", choices=list(BUILTIN_ROLES))
    user.add("passwd", "change your own password", run_passwd)
    reset = user.add("reset-password", "set another user's password: new keys", run_reset)
    reset.add_argument("name", metavar="NAME")
    user_group = commands.group("user-group", "the members of user groups")
    m = user_group.add("members", "put users in a user group, or take them out", run_members)
    m.add_argument("name", metavar="UG")
    m.add_argument("--add", nargs="+", default=[], metavar="USER")
    m.add_argument("--remove", nargs="+", default=[], metavar="USER")


def run_add(args, folder: Path) -> int:
    password = new_password(
        "CERTDESK_NEW_PASSWORD", args.name, f"Password for the new user {args.name}: "
    )
    with signed_in(folder) as session:
        users.add_user(session, args.name, password, args.role, args.user_groups)
    print(f"Added the user {args.name!r} ({args.role}).")
    return 0


def run_list(args, folder: Path) -> int:
    with signed_in(folder) as session:
        rows = users.list_users(session)
    if args.json:
        print_json([user_json(r) for r in rows])
        return 0
    for r in rows:
        groups_text = f"  [{', '.join(r.user_groups)}]" if r.user_groups else ""
        state = "" if r.enabled else "  (disabled)"
        print(printable(f"{r.name}  {r.role}{state}{groups_text}"))
    return 0


def run_passwd(args, folder: Path) -> int:
    with signed_in(folder) as session:
        name = session.user_name
        current = current_password(name)
        new = new_password("CERTDESK_NEW_PASSWORD", name, f"New password for {name}: ")
        kek = users.change_password(session, current, new)
        logins.keep_remembered(session, kek)
    print(printable(f"Changed the password of {name!r}."))
    return 0


def run_reset(args, folder: Path) -> int:
    password = new_password("CERTDESK_NEW_PASSWORD", args.name, f"New password for {args.name}: ")
    with signed_in(folder) as session:
        waits = users.reset_password(session, args.name, password)
    done = f"Set a new password for {args.name!r}, with new keys"
    print(printable(f"{done}; {_key_changed('their old password', waits)}"))
    return 0


def _key_changed(old: str, waits: str | None) -> str:
    """What a delete or a password reset did to the store's key."""
    if waits is None:
        return f"the store's key changed, so {old} opens nothing of it now."
    return f"the store's key changes at a later sign-in ({waits}); until then {old} still opens it."


def run_members(args, folder: Path) -> int:
    with signed_in(folder) as session:
        added, removed = user_groups.change_members(session, args.name, args.add, args.remove)
    print(printable(f"User group {args.name!r}: {added} put in, {removed} taken out."))
    return 0


def run_enabled(args, folder: Path) -> int:
    with signed_in(folder) as session:
        change = users.enable_user if args.enable else users.disable_user
        changed = change(session, args.name)
    state = "enabled" if args.enable else "disabled"
    if changed:
        print(printable(f"{state.capitalize()} the user {args.name!r}."))
    else:
        print(printable(f"The user {args.name!r} is already {state}."))
    return 0


def run_delete(args, folder: Path) -> int:
    if not args.yes:
        problem(
            "delete removes the users' key slots and every key wrapped to them, and cannot "
            "be undone; add --yes to confirm"
        )
        return 2
    with signed_in(folder) as session:
        waits = users.delete_users(session, args.names)
    names = ", ".join(repr(name) for name in dict.fromkeys(args.names))
    changed = _key_changed("a copy of their key slot", waits)
    print(
        printable(
            f"Deleted {names}, with every key wrapped to them; {changed} Renew the "
            "certificates whose keys they could sign with."
        )
    )
    return 0


def run_role(args, folder: Path) -> int:
    with signed_in(folder) as session:
        changed = users.set_user_role(session, args.name, args.role)
    if changed:
        print(printable(f"{args.name!r} is now {args.role}, from their next sign-in."))
    else:
        print(printable(f"{args.name!r} is already {args.role}."))
    return 0
