"""The certificates a bulk operation acts on, and what happened to each of them.

The GUI names certificates by id (it has the rows), the CLI by alias (the user typed
them); both resolve here in a few queries, whatever the count.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from models import Certificate, database

# Well under SQLite's limit on bound variables per statement.
CHUNK = 5000

Ref = int | str


@dataclass(frozen=True)
class Target:
    id: int
    alias: str


@dataclass(frozen=True)
class Outcome:
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


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def where_in(sql: str, values: Sequence) -> list[tuple]:
    """Run `sql`, whose `{}` is the placeholder list of an IN (...), over `values` in
    chunks. Raw SQL: for thousands of values peewee's statement building costs more
    than SQLite's work."""
    rows: list[tuple] = []
    for part in chunks(values):
        marks = ",".join("?" * len(part))
        rows.extend(database.execute_sql(sql.format(marks), list(part)).fetchall())
    return rows


def resolve(refs: Sequence[Ref], result: BulkResult) -> list[Target]:
    """The certificates `refs` name, in the order given, each once; every reference that
    names nothing becomes a failed outcome in `result`."""
    ids = [r for r in refs if isinstance(r, int)]
    aliases = [r for r in refs if isinstance(r, str)]
    by_id: dict[int, Target] = {}
    by_alias: dict[str, Target] = {}
    table = Certificate._meta.table_name
    for column, wanted in (("id", ids), ("alias", aliases)):
        sql = f"SELECT id, alias FROM {table} WHERE {column} IN ({{}})"
        for cid, alias in where_in(sql, list(dict.fromkeys(wanted))):
            by_id[cid] = by_alias[alias] = Target(cid, alias)
    found: dict[int, Target] = {}
    for ref in refs:
        target = by_id.get(ref) if isinstance(ref, int) else by_alias.get(ref)
        if target is None:
            result.add(str(ref), False, "no such certificate")
        else:
            found.setdefault(target.id, target)
    return list(found.values())
