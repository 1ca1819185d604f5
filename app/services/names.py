"""The rule for the names people give things in the store: user names, certificate
group, user group and policy names, and certificate aliases (see aliases.py). Names are
read in tables, terminals and audit lines, so none holds a control character."""

import re

from app.errors import ValidationError

# Category Cc (C0, DEL, C1: cursor moves, colours, bells), the bidirectional marks,
# embeddings, overrides and isolates (they reorder the text shown around them), and the
# line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def check_name(field: str, text: str, max_length: int) -> str:
    """A name as someone typed it, with its runs of whitespace made one space; refused
    (ValidationError naming `field`) when it holds a control character, is empty, or is
    longer than `max_length`: never cut, the name stored is the name typed."""
    found = CONTROL.search(text)
    if found:
        raise ValidationError(
            field, f"must not contain control characters (U+{ord(found.group()):04X})"
        )
    name = " ".join(text.split())
    if not name:
        raise ValidationError(field, "must not be empty")
    if len(name) > max_length:
        raise ValidationError(field, f"at most {max_length} characters (not {len(name):,})")
    return name


def without_controls(text: str) -> str:
    """Text from elsewhere (a certificate's CN) made fit for a name: each control
    character becomes a space, and runs of whitespace one space."""
    return " ".join(CONTROL.sub(" ", text).split())
