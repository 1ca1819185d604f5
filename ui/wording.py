"""How the windows word counts and names: real plurals, and names in curly quotes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotation only: the login dialog shows before the services load
    from app.services.targets import BulkResult

# The group actions, worded alike in the selection bar, the row menu and the certificate
# window.
NO_KEY = "The store holds no private key for this certificate: nothing can sign with it."
ADD_TO_GROUPS = "Add to Groups…"
REMOVE_FROM_GROUPS = "Remove from Groups…"
MAX_LISTED_FAILURES = 12  # in a bulk action's failure box, then "…and N more."

# A name the services quote with repr() ('production', or "O'Brien" when it holds an
# apostrophe), not an apostrophe inside or after a word ("the store's").
_STRAIGHT_QUOTED = re.compile(r"""(?<![\w'"])(?:'([^'\n]*)'|"([^"\n]*)")(?![\w'"])""")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 certificate", "2 certificates", "1,024 private keys"."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def curly_quotes(text: str) -> str:
    """A service's message (shared with the CLI, which keeps its straight quotes) with
    the names in the windows' own quotes: 'production' → “production”."""
    return _STRAIGHT_QUOTED.sub(lambda m: f"“{m.group(1) or m.group(2) or ''}”", text)


def capped(lines: list[str], limit: int, more: str = "…and {n:,} more") -> list[str]:
    """The first `limit` lines, then one saying how many more (`more`, with `n`), so that
    a box of many names stays smaller than the screen."""
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], more.format(n=len(lines) - limit)]


def failures_text(result: BulkResult) -> str:
    """A bulk action's failures, one line each: the certificate, then the service's
    reason in the windows' quotes."""
    lines = [f"{o.target}: {curly_quotes(o.message)}" for o in result.failures]
    return "\n".join(capped(lines, MAX_LISTED_FAILURES, "…and {n:,} more."))
