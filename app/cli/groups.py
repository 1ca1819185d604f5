"""Certificate groups: `group add`, `group remove`, `group edit`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.options import fields_as_flags
from app.cli.output import problem
from app.cli.signin import run_bulk, signed_in
from app.services import certificate_groups

FLAGS = {"group name": "--rename", "description": "--description"}


def register(commands: Commands) -> None:
    group = commands.group("group", "put certificates in groups or take out; edit a group")
    for name, help, run in (
        ("add", "put certificates in GROUP", run_add),
        ("remove", "take them out", run_remove),
    ):
        p = group.add(name, help, run)
        p.add_argument("group", metavar="GROUP")
        p.add_argument("aliases", nargs="+", metavar="ALIAS")
    edit = group.add("edit", "rename GROUP or set its description", run_edit)
    edit.add_argument("group", metavar="GROUP")
    edit.add_argument("--rename", metavar="NEW", help="a new name")
    edit.add_argument("--description", metavar="TEXT", help="one line; empty clears it")


def run_add(args, folder: Path) -> int:
    return run_bulk(
        folder,
        lambda session: certificate_groups.add_to_groups(session, args.aliases, [args.group]),
    )


def run_remove(args, folder: Path) -> int:
    return run_bulk(
        folder,
        lambda session: certificate_groups.remove_from_groups(session, args.aliases, [args.group]),
    )


def run_edit(args, folder: Path) -> int:
    if args.rename is None and args.description is None:
        problem("group edit: nothing to change (see certdesk group edit --help)")
        return 2
    with signed_in(folder) as session, fields_as_flags(FLAGS):
        row = certificate_groups.edit_group(session, args.group, args.rename, args.description)
    print(f"Saved the certificate group {row.name!r}.")
    return 0
