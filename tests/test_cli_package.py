"""The CLI is a package of thin commands: each group's module short, every command with
its handler, the common options declared once, and a session opened and closed only by
the sign-in context."""

import argparse
import ast
from pathlib import Path

import pytest

from app import cli
from app.cli import policies as policy_commands
from app.cli.options import fields_as_flags
from app.errors import CertdeskError, ValidationError
from app.services import policies
from app.services.policies import PolicySpec

CLI = Path(cli.__file__).parent
MAX_LINES = 300


def leaf_parsers(parser: argparse.ArgumentParser, path=()):
    """Every command that runs something, as (its words, its parser)."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield path, parser
    for action in subcommands:
        for name, sub in action.choices.items():
            yield from leaf_parsers(sub, (*path, name))


@pytest.mark.parametrize("module", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_each_module_of_the_cli_is_short(module):
    assert len(module.read_text().splitlines()) <= MAX_LINES


def test_every_command_runs_a_handler_and_takes_the_common_options():
    commands = list(leaf_parsers(cli.build_parser()))
    assert len(commands) >= 25
    for words, parser in commands:
        assert callable(parser.get_default("run")), words
        assert any("--store" in a.option_strings for a in parser._actions), words


@pytest.mark.parametrize(
    ("argv", "store"),
    [
        (["--store", "/s", "list"], "/s"),
        (["list", "--store", "/s"], "/s"),
        (["user", "list", "--store=/s"], "/s"),
        (["list"], None),
    ],
)
def test_store_is_read_before_or_after_the_command(argv, store):
    args = cli.parse(argv)
    assert args.store == store and args.run is not None


@pytest.mark.parametrize("argv", [[], ["--store", "/s"]])
def test_no_command_leaves_the_choice_of_the_gui_to_the_caller(argv):
    args = cli.parse(argv)
    assert args.run is None and args.store == (argv[1] if argv else None)


def test_without_a_command_main_prints_the_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def calls_in(path: Path) -> set[str]:
    """The names of the functions and methods a module calls."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_only_the_sign_in_context_opens_or_closes_a_session():
    opening = {"sign_in", "sign_in_remembered", "initialise_store", "open_session", "close"}
    for module in sorted(CLI.glob("*.py")):
        if module.name != "signin.py":
            assert not opening & calls_in(module), module.name


def test_no_command_module_names_a_permission():
    for module in sorted(CLI.glob("*.py")):
        assert "models.permissions" not in module.read_text(), module.name


def test_a_policy_refusal_names_the_service_field_and_the_cli_its_flag(session):
    refused = PolicySpec("X", certificate_groups=("Nope",), users=("admin",))
    with pytest.raises(ValidationError) as found:
        policies.add_policy(session, refused)
    assert (found.value.field, found.value.reason) == (
        "certificate groups",
        "no certificate group named 'Nope'",
    )
    with (
        pytest.raises(CertdeskError, match=r"^--cert-group: no certificate group named 'Nope'$"),
        fields_as_flags(policy_commands.FLAGS),
    ):
        policies.add_policy(session, refused)


def test_a_field_without_a_flag_keeps_its_name():
    with pytest.raises(CertdeskError, match=r"^owner: no user named 'x'$"), fields_as_flags({}):
        raise ValidationError("owner", "no user named 'x'")
