"""Certificate groups: `group add`, `group remove`."""

from pathlib import Path

from app.cli.commands import Commands
from app.cli.signin import run_bulk
from app.services import certificate_groups


def register(commands: Commands) -> None:
    group = commands.group("group", "put certificates in groups or take out")
    for name, help, run in (
        ("add", "put certificates in GROUP", run_add),
        ("remove", "take them out", run_remove),
    ):
        p = group.add(name, help, run)
        p.add_argument("group", metavar="GROUP")
        p.add_argument("aliases", nargs="+", metavar="ALIAS")


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
