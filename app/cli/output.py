"""What the commands print: results on stdout, one line per problem on stderr, and text
from the store or a certificate escaped so that it cannot drive the terminal."""

import json
import sys

from app.services.certificate_import import FileResult
from app.services.targets import BulkResult


class Failed(Exception):
    """The command ran but some of its work failed: exit 1 after finishing the rest."""


def problem(message: str) -> None:
    print(f"certdesk: {printable(message)}", file=sys.stderr)


def printable(text: str) -> str:
    """Text from the store or a certificate as the terminal may show it: control, format
    (bidi) and separator characters escaped (\\x1b, \\u202e), so that nothing a certificate
    holds moves the cursor, recolours or reorders the output, or adds a line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def print_json(doc) -> None:
    """A document of schemas.py, as every --json prints it: indented, text unescaped."""
    print(json.dumps(doc, indent=2, ensure_ascii=False))


def print_bulk(result: BulkResult) -> None:
    """One line per certificate of a bulk operation; Failed if any failed."""
    for note in result.notes:
        print(note[:1].upper() + note[1:] + ".")
    for outcome in result.outcomes:
        if outcome.ok:
            print(f"{outcome.target}: {outcome.message}")
        else:
            problem(f"{outcome.target}: {outcome.message}")
    if result.failures:
        raise Failed


def print_file_result(result: FileResult) -> None:
    """What one imported file gave: `import` and `request import` print it alike."""
    name = printable(result.name)
    if result.error:
        hint = " (give it with --password-env VAR)" if result.needs_password else ""
        problem(f"{name}: {result.error}{hint}")
        return
    for alias in result.imported:
        print(f"{name}: imported {alias!r} [{result.kind}]")
    for alias in result.duplicates:
        print(f"{name}: already in the store as {alias!r}; skipped")
    for alias in result.keys_linked:
        print(f"{name}: private key added to {alias!r}")
    for alias in result.keys_known:
        print(f"{name}: {alias!r} already holds this private key; skipped")
    for alias in result.requests_completed:
        print(f"{name}: completed the request {alias!r}")
    for alias in result.superseded:
        print(f"{name}: the certificate it renews is now {alias!r}, disabled")
