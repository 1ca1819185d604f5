"""The alias rule, for every alias a certificate gets. An alias someone types (import
--alias, set --rename, request new --alias, the CSR wizard, the certificate window) is
checked by names.check_name and refused when it does not fit; an alias derived from a
certificate (its CN) is cleaned and cut to fit instead, so that the certificate still
imports."""

import peewee

from app.errors import ValidationError
from app.services.names import check_name, without_controls
from models import Certificate, statements

MAX_ALIAS_LENGTH = 200
# Kept free in a derived alias that is taken, for " (2)", " (3)"…
NUMBER_ROOM = len(" (1000000)")


def validate_alias(alias: str) -> str:
    """A typed alias as it will be stored; ValidationError("alias", …) when refused."""
    return check_name("alias", alias, MAX_ALIAS_LENGTH)


def available_alias(db: peewee.Database, alias: str, but: int | None = None) -> str:
    """A typed alias (validate_alias) that no certificate other than `but` (an id) has."""
    chosen = validate_alias(alias)
    if alias_taken(db, chosen, but):
        raise ValidationError("alias", f"{chosen!r} is already in use")
    return chosen


def alias_taken(db: peewee.Database, alias: str, but: int | None = None) -> bool:
    # A raw statement: this runs once per imported certificate, and peewee's query
    # building costs more than the look-up on the alias index.
    return statements.alias_taken(db, alias, but)


def unique_alias(db: peewee.Database, base: str, suffix: str = "") -> str:
    """An alias no certificate has, derived from `base` (a CN, a fingerprint, an alias
    given to a whole bundle) and `suffix`: control characters become spaces, and when it
    is taken " (2)", " (3)"… is added; `base` is cut so that all of it fits."""
    base = without_controls(base) or "certificate"
    alias = _cut(base, MAX_ALIAS_LENGTH - len(suffix)) + suffix
    if not alias_taken(db, alias):
        return alias
    head = _cut(base, MAX_ALIAS_LENGTH - len(suffix) - NUMBER_ROOM) + suffix + " ("
    # A range on the alias index finds "head N)" without scanning the table.
    taken = {
        a
        for (a,) in Certificate.select(Certificate.alias)
        .where((Certificate.alias >= head) & (Certificate.alias < head[:-1] + ")"))
        .tuples()
    }
    number = 2
    while f"{head}{number})" in taken:
        number += 1
    return f"{head}{number})"


def _cut(text: str, length: int) -> str:
    return text[:length].rstrip()
