"""The `certdesk` command line: parses, calls app.services, prints, exits.

One module per command group registers its commands (`commands.py` gives each the
common options) with the handler to run; a handler signs in with `signin.signed_in`, calls
services and prints, JSON through `schemas.py`. Exit codes: 0 done; 1 the operation
failed or was refused (one line per problem on stderr); 2 bad usage. Qt is never
imported here, so that the CLI starts fast.
"""

import argparse
import os
import sys
import traceback

from app import __version__
from app.cli.commands import Commands, add_common_options, common_options
from app.cli.options import not_text
from app.errors import CertdeskError
from app.files import display_path
from app.services.store_folders import resolve_store_dir
from app.sqlite_errors import store_problem


class _CommandsFormatter(argparse.HelpFormatter):
    """argparse leaves the commands' indent out of the width it gives their names, so a
    long one (user-group) would push its words onto the next line."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        for sub in getattr(action, "_get_subactions", list)():
            width = len(self._format_action_invocation(sub)) + 2 * self._indent_increment
            self._action_max_length = max(self._action_max_length, width + self._current_indent)


def build_parser() -> argparse.ArgumentParser:
    # Here, not at the top: `certdesk` alone opens the console without the command
    # modules and the services they import (see `parse`).
    from app.cli import (
        audit,
        certificates,
        dashboard,
        groups,
        policies,
        requests,
        roles,
        signing,
        store,
        user_groups,
        users,
    )

    # In the order `certdesk --help` lists their commands.
    groups_in_order = (
        store,
        certificates,
        groups,
        requests,
        signing,
        policies,
        users,
        user_groups,
        roles,
        audit,
        dashboard,
    )
    parser = argparse.ArgumentParser(
        prog="certdesk",
        formatter_class=_CommandsFormatter,
        description="Signing certificates and their private keys in an encrypted store. "
        "Without a command, opens the console.",
    )
    add_common_options(parser, default=None)
    parser.set_defaults(run=None)  # a command's parser sets its handler
    parser.add_argument("--version", action="version", version=f"certdesk {__version__}")
    commands = Commands(parser.add_subparsers(metavar="COMMAND"), common_options())
    for group in groups_in_order:
        group.register(commands)
    return parser


def main(argv: list[str]) -> int:
    return run(parse(argv))


def parse(argv: list[str]) -> argparse.Namespace:
    """The arguments; SystemExit for --help, --version and bad usage (2), as argparse
    does. `run` is None when no command was given (`app/__main__.py` opens the GUI)."""
    return _without_command(argv) or build_parser().parse_args(argv)


def _without_command(argv: list[str]) -> argparse.Namespace | None:
    """The arguments when they are only the common options (`certdesk`, `certdesk
    --store DIR`), read without building every command's parser; None for anything
    else (a command, --help, --version, a mistake), which the whole parser reads."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    add_common_options(parser, default=None)
    try:
        args, rest = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if rest:
        return None
    args.run = None
    return args


def run(args: argparse.Namespace) -> int:
    # Here, not at the top, for the same reason as build_parser's imports: it brings
    # the import service.
    from app.cli.output import Failed, problem

    if args.run is None:
        build_parser().print_help()
        return 2
    if (refused := not_text(args)) is not None:
        problem(refused)
        return 2
    for stream in (sys.stdout, sys.stderr):
        # A file name or certificate text that is not UTF-8 prints escaped, never fails.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    folder = None
    try:
        folder = resolve_store_dir(args.store)
        return args.run(args, folder)
    except Failed:
        return 1
    except CertdeskError as exc:
        problem(str(exc))
        return 1
    except KeyboardInterrupt:
        problem("interrupted")
        return 130
    except BrokenPipeError:  # `certdesk list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the file system refused something no check foresaw
        where = display_path(exc.filename) if exc.filename else "certdesk"
        problem(f"{where}: {exc.strerror or exc}")
        return 1
    except Exception as exc:  # a bug: still one line, unless asked for the traceback
        found = store_problem(exc, folder)  # met outside a transaction: a damaged page
        if found is not None:
            problem(str(found))
            return 1
        if os.environ.get("CERTDESK_DEBUG"):
            traceback.print_exc()
        problem(f"internal error: {type(exc).__name__}: {exc}")
        return 1
