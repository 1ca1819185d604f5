"""What the options hold, checked as the CLI alone must: text that is UTF-8, secrets named
by an environment variable, the --out file, and refusals said with the option's flag."""

import argparse
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from app.errors import CertdeskError, ValidationError
from app.files import FileRefusedError, check_new_file, display_path

# Arguments that name files: any bytes a file name may hold. Every other argument is text
# the store keeps (aliases, names, descriptions, reasons), which must be UTF-8.
PATH_ARGUMENTS = {"files", "file", "out", "store", "archive", "certfile", "password_env", "pin_env"}


def not_text(args: argparse.Namespace) -> str | None:
    """The first text argument that is not UTF-8 (the shell passed other bytes), said as
    one line, or None."""
    for dest, value in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not is_utf8(item):
                return f"{dest.replace('_', '-')}: “{display_path(item)}” is not UTF-8 text"
    return None


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def secret_from_env(flag: str, variable: str | None) -> str | None:
    """The secret held by the environment variable an option (--password-env) names, so
    that it never shows in the process list; None when no variable was named."""
    if not variable:
        return None
    if variable not in os.environ:
        raise CertdeskError(f"{flag}: the variable {variable} is not set")
    return os.environ[variable]


@contextmanager
def fields_as_flags(flags: Mapping[str, str]) -> Iterator[None]:
    """A ValidationError of a service, which names its own field, said with the flag the
    user typed for it (`flags` maps a field to its flag; a field not in it keeps its
    name)."""
    try:
        yield
    except ValidationError as exc:
        raise CertdeskError(f"{flags.get(exc.field, exc.field)}: {exc.reason}") from None


@contextmanager
def out_option(out: str | os.PathLike, flag: str = "--out") -> Iterator[None]:
    """The file named by --out (or `flag`) is always new (app.files); a refusal of it
    names the option (a refusal of another file, met on the way, goes on as it is)."""
    try:
        yield
    except FileRefusedError as exc:
        if exc.path != display_path(out):
            raise
        raise CertdeskError(f"{flag}: {exc}") from None


def check_out(out: str) -> Path:
    """Refuse an unusable --out before slow work is done for nothing (a key generated)."""
    with out_option(out):
        return check_new_file(out)
