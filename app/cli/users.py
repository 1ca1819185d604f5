"""The store's users: `user add`, `user list`, `user show`, `user enable`/`disable`,
`user delete`, `user role`, `user passwd`, `user reset-password`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.output import print_json, printable, problem
from app.cli.schemas import signing_choice_json, user_json
from app.cli.signin import current_password, new_password, signed_in
from app.errors import NotFoundError
from app.services import logins, signing, users
from app.services.roles import SIGNER


def register(commands: Commands) -> None:
    user = commands.group("user", "add, list, enable, disable users, their roles, passwords")
    u = user.add("add", "a new user with a key slot", run_add)
    u.add_argument("name", metavar="NAME")
    u.add_argument(
        "--role", default=SIGNER, help="a built-in role (default Signer) or a custom one"
    )
    u.add_argument("--user-group", dest="user_groups", action="append", default=[], metavar="UG")
    u.add_argument("--display-name", default="", metavar="TEXT", help="the person's name")
    user.add("list", "the store's users", run_list, json="one JSON array")
    s = user.add("show", "a user, and what they may sign now", run_show, json="one JSON object")
    s.add_argument("name", metavar="NAME")
    for verb, words in (("enable", "let a user sign in again"), ("disable", "stop their sign-ins")):
        e = user.add(verb, words, run_enabled)
        e.add_argument("name", metavar="NAME")
        e.set_defaults(enable=verb == "enable")
    d = user.add("delete", "delete users: their slots and wraps; the store key changes", run_delete)
    d.add_argument("names", metavar="NAME", nargs="+")
    d.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    r = user.add("role", "give a user another role (from their next sign-in)", run_role)
    r.add_argument("name", metavar="NAME")
    r.add_argument("role", metavar="ROLE")
    user.add("passwd", "change your own password", run_passwd)
    reset = user.add("reset-password", "set another user's password: new keys", run_reset)
    reset.add_argument("name", metavar="NAME")


def run_add(args, folder: Path) -> int:
    password = new_password(
        "CERTDESK_NEW_PASSWORD", args.name, f"Password for the new user {args.name}: "
    )
    with signed_in(folder) as session:
        users.add_user(session, args.name, password, args.role, args.user_groups, args.display_name)
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


def run_show(args, folder: Path) -> int:
    with signed_in(folder) as session:
        row = next((r for r in users.list_users(session) if r.name == args.name), None)
        if row is None:
            raise NotFoundError(f"No user {args.name!r} in this store.")
        may_sign = signing.signable_by(session, args.name)
    if args.json:
        print_json(user_json(row) | {"may_sign": [signing_choice_json(c) for c in may_sign]})
        return 0
    shown = f"{row.name} ({row.display_name})" if row.display_name else row.name
    state = "enabled" if row.enabled else "disabled"
    print(printable(f"{shown}  {row.role}, {state}"))
    print(printable(f"User groups: {', '.join(row.user_groups) or 'none'}"))
    print(f"Owns: {row.owned} certificate(s)")
    print("May sign with:" if may_sign else "May sign with: nothing now")
    for c in may_sign:
        by = f"the policy {c.policy!r}" if c.policy else "owner"
        stop = f"  ({c.blocked})" if c.blocked else ""
        print(printable(f"  {c.alias}  by {by}{stop}"))
    return 0


def run_passwd(args, folder: Path) -> int:
    with signed_in(folder) as session:
        name = session.user_name
        current = current_password(name)
        new = new_password("CERTDESK_NEW_PASSWORD", name, f"New password for {name}: ")
        logins.change_password(session, current, new)
    print(printable(f"Changed the password of {name!r}."))
    return 0


def run_reset(args, folder: Path) -> int:
    password = new_password("CERTDESK_NEW_PASSWORD", args.name, f"New password for {args.name}: ")
    with signed_in(folder) as session:
        waits = users.reset_password(session, args.name, password)
    done = f"Set a new password for {args.name!r}, with new keys"
    print(printable(f"{done}; {users.key_change_words('their old password', waits)}"))
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
    changed = users.key_change_words("a copy of their key slot", waits)
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
