"""How a command group's module adds its commands: `Commands` gives every command the
options all of them take and the handler it runs."""

import argparse
from collections.abc import Callable
from pathlib import Path

# A command's handler: the parsed arguments and the store folder in, the exit code out.
Handler = Callable[[argparse.Namespace, Path], int]


def add_common_options(parser: argparse.ArgumentParser, default=argparse.SUPPRESS) -> None:
    """The options every command takes, before or after its name. A command's parser
    sets nothing by default (SUPPRESS), so that it never overwrites a --store given
    before the command (`certdesk --store DIR list`); the top parser's default is None."""
    parser.add_argument(
        "--store",
        metavar="DIR",
        default=default,
        help="store folder (default: $CERTDESK_STORE, else the user data folder)",
    )


def common_options() -> argparse.ArgumentParser:
    """The parent of every command's parser."""
    common = argparse.ArgumentParser(add_help=False)
    add_common_options(common)
    return common


class Commands:
    """The sub-commands of one level (`certdesk COMMAND`, `certdesk user ACTION`)."""

    def __init__(self, subparsers, common: argparse.ArgumentParser):
        self._subparsers = subparsers
        self._common = common

    def add(
        self, name: str, help: str, run: Handler | None = None, json: str | None = None
    ) -> argparse.ArgumentParser:
        """A command running `run`; `json` is the help of its --json option, if it has one."""
        parser = self._subparsers.add_parser(name, parents=[self._common], help=help)
        if run is not None:
            parser.set_defaults(run=run)
        if json is not None:
            parser.add_argument("--json", action="store_true", help=json)
        return parser

    def group(self, name: str, help: str) -> "Commands":
        """A command whose actions are commands of their own (`certdesk user add`)."""
        parser = self.add(name, help)
        return Commands(parser.add_subparsers(metavar="ACTION", required=True), self._common)
