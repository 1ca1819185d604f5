"""The alias rule, for every alias a certificate gets. An alias someone types (import
--alias, set --rename, request new --alias, the CSR wizard, the certificate window) is
checked by names.check_name and refused when it does not fit; an alias derived from a
certificate (its CN) is cleaned and cut to fit instead, so that the certificate still
imports."""

from collections import Counter
from collections.abc import Container, Sequence

import peewee

from app.errors import ValidationError
from app.services.names import check_name, without_controls
from models import statements

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
    alias, head = _choices(base, suffix)
    if not alias_taken(db, alias):
        return alias
    # A range on the alias index finds "head N)" without scanning the table.
    return _numbered(head, set(statements.aliases_in_ranges(db, [_numbers_of(head)])))


class AliasBook:
    """`available_alias` and `unique_alias` for a batch of thousands of certificates:
    the aliases the batch's could collide with are read in a few statements at the
    start, and the book keeps the aliases it gives out. Same rules, same results, as
    long as nothing else gives aliases meanwhile (`take` tells it of those)."""

    def __init__(self, db: peewee.Database, bases: Sequence[str]):
        self._db = db
        self._taken: set[str] = set()
        self._asked: set[str] = set()  # aliases whose state `_taken` knows
        self._heads: set[str] = set()  # heads whose numbered aliases it knows
        self._given: list[str] = []
        choices = [_choices(base) for base in bases]
        self._ask([alias for alias, _ in choices])
        # The first choices taken or wanted twice: their numbered aliases are needed.
        wanted = Counter(alias for alias, _ in choices)
        self._read_heads(
            [head for alias, head in choices if alias in self._taken or wanted[alias] > 1]
        )

    def available(self, alias: str) -> str:
        """As `available_alias`."""
        chosen = validate_alias(alias)
        if self._is_taken(chosen):
            raise ValidationError("alias", f"{chosen!r} is already in use")
        return chosen

    def unique(self, base: str) -> str:
        """As `unique_alias`."""
        alias, head = _choices(base)
        if self._is_taken(alias):
            self._read_heads([head])
            alias = _numbered(head, self._taken)
        return alias

    def take(self, alias: str) -> None:
        """`alias` is given now (to a certificate the book stores, or by someone else)."""
        self._asked.add(alias)
        self._taken.add(alias)
        self._given.append(alias)

    def mark(self) -> int:
        return len(self._given)

    def undo(self, mark: int) -> None:
        """Forget the aliases given since `mark`: their certificates were not stored."""
        for alias in self._given[mark:]:
            self._taken.discard(alias)
        del self._given[mark:]

    def _is_taken(self, alias: str) -> bool:
        if alias not in self._asked and not any(alias.startswith(h) for h in self._heads):
            self._ask([alias])
        return alias in self._taken

    def _ask(self, aliases: Sequence[str]) -> None:
        new = sorted(set(aliases) - self._asked)
        self._taken.update(statements.aliases_among(self._db, new))
        self._asked.update(new)

    def _read_heads(self, heads: Sequence[str]) -> None:
        new = sorted(set(heads) - self._heads)
        if new:
            ranges = [_numbers_of(head) for head in new]
            self._taken.update(statements.aliases_in_ranges(self._db, ranges))
            self._heads.update(new)


def _choices(base: str, suffix: str = "") -> tuple[str, str]:
    """The alias derived from `base` and `suffix`, and the head of its numbered ones."""
    base = without_controls(base) or "certificate"
    alias = _cut(base, MAX_ALIAS_LENGTH - len(suffix)) + suffix
    head = _cut(base, MAX_ALIAS_LENGTH - len(suffix) - NUMBER_ROOM) + suffix + " ("
    return alias, head


def _numbers_of(head: str) -> tuple[str, str]:
    """The range of aliases "head N)" falls in."""
    return head, head[:-1] + ")"


def _numbered(head: str, taken: Container[str]) -> str:
    number = 2
    while f"{head}{number})" in taken:
        number += 1
    return f"{head}{number})"


def _cut(text: str, length: int) -> str:
    return text[:length].rstrip()
