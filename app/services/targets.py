"""The certificates a bulk operation acts on, and what happened to each of them.

The GUI names certificates by id (it has the rows), the CLI by alias (the user typed
them); both resolve here in a few queries, whatever the count.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import peewee

from models import statements

Ref = int | str


# Target and Outcome are NamedTuples, not frozen dataclasses: a bulk operation makes
# 10,000 of each, and a tuple of plain values is cheaper to make and drops out of the
# garbage collector's sight, where dataclass instances (and their dicts) are survivors
# that set off its full collections, dear in a GUI process holding 100,000 rows.
class Target(NamedTuple):
    id: int
    alias: str
    enabled: bool  # read with the alias, so that enabling or disabling reads the rows once


class Outcome(NamedTuple):
    target: str  # the alias, or the reference as given when it names nothing
    ok: bool
    message: str


@dataclass
class BulkResult:
    outcomes: list[Outcome] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # side effects worth a line, e.g. a new group

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def succeeded(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    def add(self, target: str, ok: bool, message: str) -> None:
        self.outcomes.append(Outcome(target, ok, message))


def split_refs(refs: Sequence[Ref]) -> tuple[list[int], list[str]]:
    """The ids and the aliases among `refs`, each once, in the order given."""
    ids = [r for r in refs if isinstance(r, int)]
    aliases = [r for r in refs if isinstance(r, str)]
    return list(dict.fromkeys(ids)), list(dict.fromkeys(aliases))


def resolve(
    db: peewee.Database, refs: Sequence[Ref], result: BulkResult, known: Sequence[Target] = ()
) -> list[Target]:
    """The certificates `refs` name, in the order given, each once; every reference that
    names nothing becomes a failed outcome in `result`. One SELECT per chunk of ids and
    of aliases, whatever the count, for the references `known` (targets found already,
    by the write itself) does not name."""
    by_id = {t.id: t for t in known}
    by_alias = {t.alias: t for t in known}
    ids, aliases = split_refs(refs)
    unknown = (
        ("id", [i for i in ids if i not in by_id]),
        ("alias", [a for a in aliases if a not in by_alias]),
    )
    for column, wanted in unknown:
        for cid, alias, enabled in statements.targets_by_column(db, column, wanted):
            by_id[cid] = by_alias[alias] = Target(cid, alias, bool(enabled))
    found: dict[int, Target] = {}
    for ref in refs:
        target = by_id.get(ref) if isinstance(ref, int) else by_alias.get(ref)
        if target is None:
            result.add(str(ref), False, "no such certificate")
        else:
            found.setdefault(target.id, target)
    return list(found.values())
