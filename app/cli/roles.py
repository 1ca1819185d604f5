"""Roles: `role list`, `role add`, `role edit`, `role delete`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.output import print_json, printable, problem
from app.cli.schemas import role_json
from app.cli.signin import signed_in
from app.services import roles


def register(commands: Commands) -> None:
    role = commands.group("role", "the built-in roles and custom ones, and their permissions")
    role.add("list", "the roles and their permissions", run_list, json="one JSON array")
    a = role.add("add", "a custom role with these permissions", run_add)
    a.add_argument("name", metavar="NAME")
    a.add_argument(
        "--permission",
        dest="permissions",
        action="append",
        required=True,
        choices=roles.ALL_PERMISSIONS,
        metavar="P",
        help=f"repeat for each: {', '.join(roles.ALL_PERMISSIONS)}",
    )
    a.add_argument("--description", default="", metavar="TEXT")
    e = role.add("edit", "a custom role's permissions or description", run_edit)
    e.add_argument("name", metavar="NAME")
    for flag, dest, words in (
        ("--permission", "permissions", "the role's permissions become these"),
        ("--add-permission", "added", "give it this permission too"),
        ("--remove-permission", "removed", "take this permission away"),
    ):
        e.add_argument(
            flag, dest=dest, action="append", choices=roles.ALL_PERMISSIONS, metavar="P", help=words
        )
    e.add_argument("--description", metavar="TEXT")
    d = role.add("delete", "delete a custom role no user has", run_delete)
    d.add_argument("name", metavar="NAME")
    d.add_argument("--yes", action="store_true", help="confirm")


def run_list(args, folder: Path) -> int:
    with signed_in(folder) as session:
        rows = roles.list_roles(session)
    if args.json:
        print_json([role_json(r) for r in rows])
        return 0
    for r in rows:
        kind = "built-in" if r.builtin else "custom"
        print(
            printable(f"{r.name}  ({kind}, {r.users} user(s)): {', '.join(sorted(r.permissions))}")
        )
    return 0


def run_add(args, folder: Path) -> int:
    with signed_in(folder) as session:
        roles.add_role(session, args.name, args.permissions, args.description)
    print(printable(f"Added the role {args.name!r}."))
    return 0


def run_edit(args, folder: Path) -> int:
    if not (args.permissions or args.added or args.removed) and args.description is None:
        problem("role edit: nothing to change; give --permission, --add-permission, "
                "--remove-permission or --description")  # fmt: skip
        return 2
    with signed_in(folder) as session:
        changed = roles.edit_role(
            session,
            args.name,
            args.permissions,
            args.description,
            add=args.added or (),
            remove=args.removed or (),
        )
    if changed:
        print(
            printable(f"Saved the role {args.name!r}; its users have it from their next sign-in.")
        )
    else:
        print(printable(f"The role {args.name!r} is already so."))
    return 0


def run_delete(args, folder: Path) -> int:
    if not args.yes:
        problem("delete removes the role; add --yes to confirm")
        return 2
    with signed_in(folder) as session:
        roles.delete_role(session, args.name)
    print(printable(f"Deleted the role {args.name!r}."))
    return 0
