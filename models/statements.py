"""Every raw SQL statement of the services, in one place, each run on the database it is
given (the session's). Raw because at 10,000 rows peewee's statement building costs more
than the database's work. Written for more than SQLite: placeholders in the database's
own style (`db.param`), every name quoted, `ON CONFLICT DO NOTHING` rather than SQLite's
`INSERT OR IGNORE`. The SQLCipher checks at the end are SQLite's by nature."""

import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

import peewee

from models import attestations as A
from models.audit import AuditEvent
from models.base import BaseModel
from models.certificates import (
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    PrivateKey,
    Request,
    RequestGroup,
)
from models.custody import Custodian, KeyGrant
from models.policies import (
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    PolicyUser,
    PolicyUserGroup,
)
from models.users import User, UserGroupMember

# Well under SQLite's limit on bound variables per statement.
CHUNK = 5000


def _name(model) -> str:
    return f'"{model._meta.table_name}"'


CERTIFICATES = _name(Certificate)
DERS = _name(CertificateDer)
KEYS = _name(PrivateKey)
MEMBERS = _name(CertificateGroupMember)
REQUESTS = _name(Request)
AUDIT_COLUMNS = (
    "time",
    "user",
    "action",
    "target",
    "outcome",
    "details",
    "prev_hash",
    "hash",
    "signature",
)


def chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parts(cursor, size: int = CHUNK) -> Iterator[list[tuple]]:
    """A cursor's rows, `size` at a time."""
    while part := cursor.fetchmany(size):
        yield part


def _marks(db: peewee.Database, count: int) -> str:
    return ", ".join([db.param] * count)


def _where_in(db: peewee.Database, sql: str, values: Sequence) -> list[tuple]:
    """Run `sql`, whose `{}` is the placeholder list of an IN (...), over `values` in
    chunks."""
    rows: list[tuple] = []
    for part in chunks(values):
        cursor = db.execute_sql(sql.format(_marks(db, len(part))), list(part))
        if cursor.description is not None:
            rows.extend(cursor.fetchall())
    return rows


def _many(db: peewee.Database, sql: str, rows: Sequence[tuple]) -> None:
    if rows:
        db.cursor().executemany(sql, rows)


# -- certificates -------------------------------------------------------------------


def id_and_alias_by_column(
    db: peewee.Database, column: str, values: Sequence
) -> list[tuple[int, str]]:
    """(id, alias) of the certificates whose `column` (id or alias) is among `values`."""
    if column not in ("id", "alias"):
        raise ValueError(column)
    sql = f'SELECT "id", "alias" FROM {CERTIFICATES} WHERE "{column}" IN ({{}})'
    return _where_in(db, sql, values)


def certificate_id_by_sha256(db: peewee.Database, sha256: str) -> int | None:
    p = db.param
    row = db.execute_sql(
        f'SELECT "id" FROM {CERTIFICATES} WHERE "sha256" = {p}', (sha256,)
    ).fetchone()
    return row[0] if row else None


def aliases_by_sha256(db: peewee.Database, sha256s: Sequence[str]) -> dict[str, str]:
    """The alias of each stored certificate whose SHA-256 is among `sha256s`."""
    sql = f'SELECT "sha256", "alias" FROM {CERTIFICATES} WHERE "sha256" IN ({{}})'
    return dict(_where_in(db, sql, sha256s))


def aliases_among(db: peewee.Database, aliases: Sequence[str]) -> list[str]:
    """Those of `aliases` that a certificate has."""
    sql = f'SELECT "alias" FROM {CERTIFICATES} WHERE "alias" IN ({{}})'
    return [alias for (alias,) in _where_in(db, sql, aliases)]


# Two bound values per range: well under the limit too.
RANGES_PER_STATEMENT = 500


def aliases_in_ranges(db: peewee.Database, ranges: Sequence[tuple[str, str]]) -> list[str]:
    """The aliases from `low` (included) to `high` (excluded) of each (low, high): each a
    range on the alias index, many in one statement."""
    p = db.param
    found: list[str] = []
    for part in chunks(ranges, RANGES_PER_STATEMENT):
        where = " OR ".join([f'("alias" >= {p} AND "alias" < {p})'] * len(part))
        sql = f'SELECT "alias" FROM {CERTIFICATES} WHERE {where}'
        found.extend(alias for (alias,) in db.execute_sql(sql, [v for r in part for v in r]))
    return found


def last_certificate_id(db: peewee.Database) -> int:
    row = db.execute_sql(f'SELECT max("id") FROM {CERTIFICATES}').fetchone()
    return row[0] or 0


def insert_certificates(db: peewee.Database, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """New certificates, their `columns` given in this order (an id among them), the
    model's defaults for the others."""
    _insert(db, Certificate, columns, rows)


def insert_certificate_ders(db: peewee.Database, rows: Sequence[tuple[int, bytes]]) -> None:
    """(certificate id, DER) pairs."""
    _insert(db, CertificateDer, ("certificate", "der"), rows)


def _insert(
    db: peewee.Database, model: type[BaseModel], columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """One prepared INSERT for all `rows`: the given columns converted as the model's
    fields store them, every other column its field's constant default (peewee applies
    defaults in Python, so the table has none)."""
    fields = [model._meta.fields[c] for c in columns]
    convert = [i for i, f in enumerate(fields) if isinstance(f, CONVERTED_FIELDS)]
    others = [
        f
        for f in model._meta.sorted_fields
        if f.name not in columns and f.default is not None and not callable(f.default)
    ]
    defaults = tuple(f.db_value(f.default) for f in others)
    names = ", ".join(f'"{f.column_name}"' for f in [*fields, *others])
    marks = _marks(db, len(fields) + len(others))
    sql = f"INSERT INTO {_name(model)} ({names}) VALUES ({marks})"

    def stored(row: tuple) -> tuple:
        if convert:
            row = list(row)
            for i in convert:
                row[i] = fields[i].db_value(row[i])
        return (*row, *defaults)

    _many(db, sql, [stored(row) for row in rows])


# Fields whose stored value is not the Python value itself (datetimes, booleans).
CONVERTED_FIELDS = (peewee.BigIntegerField, peewee.BooleanField)


def alias_taken(db: peewee.Database, alias: str, but: int | None) -> bool:
    p = db.param
    sql = f'SELECT 1 FROM {CERTIFICATES} WHERE "alias" = {p}'
    params: tuple = (alias,)
    if but is not None:
        sql += f' AND "id" <> {p}'
        params += (but,)
    return db.execute_sql(sql, params).fetchone() is not None


def targets_by_column(
    db: peewee.Database, column: str, values: Sequence
) -> list[tuple[int, str, int]]:
    """(id, alias, enabled) of the certificates whose `column` (id or alias) is among
    `values`: what a bulk operation needs of each, in one read of their rows."""
    if column not in ("id", "alias"):
        raise ValueError(column)
    sql = f'SELECT "id", "alias", "enabled" FROM {CERTIFICATES} WHERE "{column}" IN ({{}})'
    return _where_in(db, sql, values)


def set_enabled(
    db: peewee.Database, column: str, values: Sequence, enabled: bool
) -> list[tuple[int, str]]:
    """Set the flag of the certificates whose `column` (id or alias) is among `values`
    and whose flag is not that already: (id, alias) of each one changed. One statement
    per chunk, without a read of the rows before it: 10,000 scattered rows are found
    once, not once to read and once to write."""
    if column not in ("id", "alias"):
        raise ValueError(column)
    p = db.param
    sql = (
        f'UPDATE {CERTIFICATES} SET "enabled" = {p} WHERE "enabled" <> {p} '
        f'AND "{column}" IN ({{}}) RETURNING "id", "alias"'
    )
    changed: list[tuple[int, str]] = []
    for part in chunks(values, CHUNK - 2):
        cursor = db.execute_sql(sql.format(_marks(db, len(part))), [enabled, enabled, *part])
        changed.extend(cursor.fetchall())
    return changed


def private_keys_by_certificate(db: peewee.Database, ids: Sequence[int]) -> dict[int, int]:
    sql = (
        f'SELECT "id", "private_key_id" FROM {CERTIFICATES} '
        f'WHERE "private_key_id" IS NOT NULL AND "id" IN ({{}})'
    )
    return dict(_where_in(db, sql, ids))


def delete_certificates(db: peewee.Database, ids: Sequence[int]) -> None:
    _where_in(db, f'DELETE FROM {CERTIFICATES} WHERE "id" IN ({{}})', ids)


def delete_private_keys(db: peewee.Database, ids: Sequence[int]) -> None:
    _where_in(db, f'DELETE FROM {KEYS} WHERE "id" IN ({{}})', ids)


# -- listing -----------------------------------------------------------------------

# The columns of a listed row, in the order of services.certificates.CertificateRow
# (its groups and policies are read apart).
_ROW_COLUMNS = (  # CertificateRow's fields in its order, but the names read apart
    'c."id", c."alias", c."enabled" != 0, c."pin_hash" IS NOT NULL, c."ask_reason" != 0, '
    'c."usage_count", c."last_used", c."not_before", c."not_after", c."subject", '
    'c."serial", c."private_key_id" IS NOT NULL, o."name", c."issuer", c."key_algorithm", '
    # Its search text, lower-cased here (ASCII only: the service casefolds the rest);
    # the thumbprints last, at fixed places from its end.
    'lower(c."alias" || char(10) || c."subject" || char(10) || c."issuer" || char(10) || '
    'c."serial" || char(10) || c."sha1" || char(10) || c."sha256")'
)
# The orders of a listing: by id (`list`), or as the table lists, by name with ties by
# id (the first screen's rows are read in it, the rest by id).
ORDERS = {
    "id": 'ORDER BY c."id"',
    "name": 'ORDER BY c."alias" COLLATE NOCASE, c."id"',
}


class ListedColumns(NamedTuple):
    """The listed values of certificates, a list per column, in the order of
    _ROW_COLUMNS (and of services.certificates' rows, without the names read apart)."""

    ids: list[int]
    aliases: list[str]
    enabled: list[int]
    has_pin: list[int]
    ask_reason: list[int]
    usage_counts: list[int]
    last_used: list[int | None]
    not_before: list[int]
    not_after: list[int]
    subjects: list[str]
    serials: list[str]
    has_private_key: list[int]
    owners: list[str | None]
    issuers: list[str]
    key_algorithms: list[str]
    # "alias\nsubject\nissuer\nserial\nsha1\nsha256", casefolded.
    search_texts: list[str]


# How certificate_column_texts reads the columns: 64-bit integers as 16 hex digits
# each, the four flags as one hex digit, texts between separators. A column of a range
# of ids is then one string, which SQLite concatenates without the GIL (threads reading
# beside it run meanwhile) and Python splits or decodes in C: a million rows fetched one
# by one hold the GIL for seconds, a Python object per value.
_SEPARATOR = "\x1e"


# Values decoded per call into C: the ids of a million certificates split or decoded in
# one call held the GIL for 40-70 ms, and the window waited.
_DECODED_AT_ONCE = 50_000


def _integers(text: str) -> list[int]:
    width = 16 * _DECODED_AT_ONCE
    decoded: list[int] = []
    for start in range(0, len(text), width):
        numbers = array("q", bytes.fromhex(text[start : start + width]))
        if sys.byteorder == "little":
            numbers.byteswap()  # printf wrote them big-endian
        decoded += numbers.tolist()
    return decoded


def _texts(text: str) -> list[str]:
    """`text.split(_SEPARATOR)`, a run of about _DECODED_AT_ONCE texts at a time (cut at
    a separator some way past the run's start)."""
    step = 40 * _DECODED_AT_ONCE  # characters, for texts of a few dozen
    texts: list[str] = []
    start = 0
    while (cut := text.find(_SEPARATOR, start + step)) >= 0:
        texts += text[start:cut].split(_SEPARATOR)
        start = cut + 1
    texts += text[start:].split(_SEPARATOR)
    return texts


def _optional_integers(text: str) -> list[int | None]:
    return [int(t) if t else None for t in text.split(_SEPARATOR)]


# The flags' digit: enabled 8, PIN 4, reason asked 2, private key 1.
_FLAG_BITS = (8, 4, 2, 1)
_FLAGS = (
    'printf(\'%x\', (c."enabled" != 0) * 8 + (c."pin_hash" IS NOT NULL) * 4 '
    '+ (c."ask_reason" != 0) * 2 + (c."private_key_id" IS NOT NULL))'
)
_HEX_DIGITS = b"0123456789abcdef"
# Per flag, the table that turns a digit into that flag's 0 or 1.
_FLAG_OF_DIGIT = tuple(
    bytes.maketrans(_HEX_DIGITS, bytes(int(d, 16) & bit and 1 for d in "0123456789abcdef"))
    for bit in _FLAG_BITS
)


def _flags(text: str) -> list[list[int]]:
    digits = text.encode("ascii")
    return [list(digits.translate(table)) for table in _FLAG_OF_DIGIT]


# What one listing statement selects: (the SQL, the columns of ListedColumns it holds,
# how Python decodes it into those). The owner is read as an id and named in Python:
# joined, the user table cost a tenth of the statement.
_SELECTED = (
    ("group_concat(printf('%016x', c.\"id\"), '')", ("ids",), _integers),
    ('group_concat(c."alias", char(30))', ("aliases",), _texts),
    (
        f"group_concat({_FLAGS}, '')",
        ("enabled", "has_pin", "ask_reason", "has_private_key"),
        _flags,
    ),
    ("group_concat(printf('%016x', c.\"usage_count\"), '')", ("usage_counts",), _integers),
    # group_concat skips NULLs: an empty text stands for one.
    ("group_concat(ifnull(c.\"last_used\", ''), char(30))", ("last_used",), _optional_integers),
    ("group_concat(printf('%016x', c.\"not_before\"), '')", ("not_before",), _integers),
    ("group_concat(printf('%016x', c.\"not_after\"), '')", ("not_after",), _integers),
    ('group_concat(c."subject", char(30))', ("subjects",), _texts),
    ('group_concat(c."serial", char(30))', ("serials",), _texts),
    # printf writes a NULL as 0, which no row id is.
    ("group_concat(printf('%016x', c.\"owner_id\"), '')", ("owners",), _integers),
    ('group_concat(c."issuer", char(30))', ("issuers",), _texts),
    ('group_concat(c."key_algorithm", char(30))', ("key_algorithms",), _texts),
    # For the search text, made in Python of the texts read: concatenated by SQLite, it
    # took a third of the statement's time.
    ('group_concat(c."sha1", char(30))', ("sha1s",), _texts),
    ('group_concat(c."sha256", char(30))', ("sha256s",), _texts),
)


def certificate_id_bounds(db: peewee.Database, run: int) -> list[int]:
    """The first id of each run of `run` ids in id order, then one past the highest
    (none: []): ranges as full as the ids are, however sparse (from the id index)."""
    sql = (
        f'SELECT "id" FROM (SELECT "id", row_number() OVER (ORDER BY "id") - 1 AS "n" '
        f'FROM {CERTIFICATES}) WHERE "n" % {int(run)} = 0'
    )
    firsts = [cid for (cid,) in db.execute_sql(sql).fetchall()]
    if not firsts:
        return []
    (highest,) = db.execute_sql(f'SELECT max("id") FROM {CERTIFICATES}').fetchone()
    return [*firsts, highest + 1]


class ColumnTexts(NamedTuple):
    """Listed columns of a range of ids as SQLite concatenated them (`listed_columns`
    decodes them)."""

    count: int
    texts: list[str]
    user_names: dict[int, str]


def certificate_column_texts(db: peewee.Database, low: int, high: int) -> ColumnTexts:
    """The listed columns of the certificates with ids from `low` up to but not including
    `high`, by id, in two statements, as read: a few strings, which a thread reading
    beside the caller hands it to decode (`listed_columns`)."""
    selected = ", ".join(sql for sql, _, _ in _SELECTED)
    sql = (
        f"SELECT count(*), {selected} FROM {CERTIFICATES} c "
        f'WHERE c."id" >= {db.param} AND c."id" < {db.param}'
    )
    count, *texts = db.execute_sql(sql, [low, high]).fetchone()
    names = dict(db.execute_sql(f'SELECT "id", "name" FROM {_name(User)}').fetchall())
    return ColumnTexts(count, texts, names)


def listed_columns(read: ColumnTexts) -> ListedColumns | None:
    """The columns `certificate_column_texts` read; None if a text holds the separator (a
    subject may hold any character): read those as rows (`certificate_rows_between`)."""
    if read.count == 0:
        return ListedColumns(*([] for _ in ListedColumns._fields))
    columns: dict[str, list] = {}
    for text, (_, fields, decode) in zip(read.texts, _SELECTED, strict=True):
        decoded = decode(text)
        columns.update(
            zip(fields, decoded, strict=True) if len(fields) > 1 else {fields[0]: decoded}
        )
    if any(len(column) != read.count for column in columns.values()):
        return None
    columns["owners"] = list(map(read.user_names.get, columns["owners"]))
    texts = zip(
        *(columns[name] for name in ("aliases", "subjects", "issuers", "serials")),
        columns.pop("sha1s"),
        columns.pop("sha256s"),
        strict=True,
    )
    return ListedColumns(**columns, search_texts=list(map(str.casefold, map("\n".join, texts))))


def certificate_rows_between(db: peewee.Database, low: int, high: int) -> list[tuple]:
    """What `certificate_rows_of` gives, of the certificates with ids from `low` up to but
    not including `high`, by id."""
    sql = (
        f"SELECT {_ROW_COLUMNS} FROM {CERTIFICATES} c "
        f'LEFT JOIN {_name(User)} o ON o."id" = c."owner_id" '
        f'WHERE c."id" >= {db.param} AND c."id" < {db.param} {ORDERS["id"]}'
    )
    return db.execute_sql(sql, [low, high]).fetchall()


def certificate_ids(db: peewee.Database, order: str, limit: int | None = None) -> list[int]:
    """Every certificate's id (or the first `limit`) in that order: one sort of short
    keys, so that the rows themselves are then read in that order. Every id is read as
    one string (see _LISTED_COLUMNS), while a thread reading beside this one runs."""
    if limit is not None:
        sql = f'SELECT c."id" FROM {CERTIFICATES} c {ORDERS[order]} LIMIT {int(limit)}'
        return [cid for (cid,) in db.execute_sql(sql).fetchall()]
    every = f"group_concat(printf('%016x', c.\"id\"), '' {ORDERS[order]})"
    sql = f"SELECT {every} FROM {CERTIFICATES} c"
    (text,) = db.execute_sql(sql).fetchone()
    return _integers(text or "")


def _among(db: peewee.Database, column: str, ids: Sequence[int] | None) -> str:
    """The WHERE of a listing statement: these ids (one chunk), or every row (None)."""
    return "" if ids is None else f"WHERE {column} IN ({_marks(db, len(ids))})"


def certificate_rows_of(
    db: peewee.Database, ids: Sequence[int] | None, order: str
) -> Iterable[tuple]:
    """The listed columns of these certificates (one chunk of ids; None: all), in that
    order: the cursor, so that each raw row is dropped once read rather than a million
    of them held at once."""
    among = _among(db, 'c."id"', ids)
    sql = (
        f"SELECT {_ROW_COLUMNS} FROM {CERTIFICATES} c "
        f'LEFT JOIN {_name(User)} o ON o."id" = c."owner_id" {among} {ORDERS[order]}'
    )
    return db.execute_sql(sql, list(ids or ()))


# Between the names group_concat joins: names hold no control character (app.services
# .names), so none holds this one.
NAMES_SEPARATOR = "\x1f"


class NamesJoined(NamedTuple):
    """Certificates' ids, and for each its names joined by NAMES_SEPARATOR."""

    ids: list[int]
    names: list[str]


def group_names_of(db: peewee.Database, ids: Sequence[int] | None) -> NamesJoined:
    """The group names of these certificates (one chunk of ids; None: all) that are in a
    group, joined by SQLite: a row per certificate, not a row per membership for Python
    to gather."""
    among = _among(db, 'm."certificate_id"', ids)
    sql = (
        f'SELECT m."certificate_id" AS "id", group_concat(g."name", char(31)) AS "joined" '
        f"FROM {MEMBERS} m "
        f'JOIN {_name(CertificateGroup)} g ON g."id" = m."group_id" {among} '
        'GROUP BY m."certificate_id"'
    )
    return _names_joined(db, sql, list(ids or ()))


def direct_policy_names_of(db: peewee.Database, ids: Sequence[int] | None) -> NamesJoined:
    """The names of the policies naming these certificates directly (one chunk of ids;
    None: all), of those that any policy names directly, joined as group_names_of."""
    among = _among(db, 'pc."certificate_id"', ids)
    sql = (
        f'SELECT pc."certificate_id" AS "id", group_concat(p."name", char(31)) AS "joined" '
        f'FROM {_name(PolicyCertificate)} pc JOIN {_name(Policy)} p ON p."id" = pc."policy_id" '
        f'{among} GROUP BY pc."certificate_id"'
    )
    return _names_joined(db, sql, list(ids or ()))


def _names_joined(db: peewee.Database, sql: str, params: list) -> NamesJoined:
    """The (id, joined names) rows of `sql`, read as two strings (see _LISTED_COLUMNS);
    as rows if a name holds the separator (names never do: services.names)."""
    columns = (
        f"SELECT count(*), group_concat(printf('%016x', \"id\"), ''), "
        f'group_concat("joined", char(30)) FROM ({sql})'
    )
    count, ids, names = db.execute_sql(columns, params).fetchone()
    if count == 0:
        return NamesJoined([], [])
    joined = NamesJoined(_integers(ids), _texts(names))
    if len(joined.names) == count:
        return joined
    rows = db.execute_sql(sql, params).fetchall()
    return NamesJoined([cid for cid, _ in rows], [names for _, names in rows])


def policy_names_by_group(db: peewee.Database) -> list[tuple[str, str]]:
    """(certificate group name, the names of the policies naming the group, joined by
    NAMES_SEPARATOR) of every group a policy names: a row per group, however many
    certificates are in it."""
    sql = (
        f'SELECT g."name", group_concat(p."name", char(31)) '
        f"FROM {_name(PolicyCertificateGroup)} pg "
        f'JOIN {_name(CertificateGroup)} g ON g."id" = pg."group_id" '
        f'JOIN {_name(Policy)} p ON p."id" = pg."policy_id" GROUP BY g."id"'
    )
    return db.execute_sql(sql).fetchall()


# -- certificate groups -------------------------------------------------------------


def memberships(db: peewee.Database, certificate_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(group id, certificate id) of every membership of these certificates."""
    sql = f'SELECT "group_id", "certificate_id" FROM {MEMBERS} WHERE "certificate_id" IN ({{}})'
    return _where_in(db, sql, certificate_ids)


def add_memberships(db: peewee.Database, rows: Sequence[tuple[int, int]]) -> list[int]:
    """(group id, certificate id) pairs, one multi-row INSERT per chunk; a pair already
    there is left as it is. The ids of the rows added."""
    row = f"({db.param}, {db.param})"
    added = []
    for part in chunks(rows, CHUNK // 2):
        cursor = db.execute_sql(
            f'INSERT INTO {MEMBERS} ("group_id", "certificate_id") VALUES '
            f'{", ".join([row] * len(part))} ON CONFLICT DO NOTHING RETURNING "id"',
            [value for pair in part for value in pair],
        )
        added.extend(row_id for (row_id,) in cursor)
    return added


def membership_ids(db: peewee.Database, group_id: int, certificate_ids: Sequence[int]) -> list[int]:
    """The ids of the memberships of these certificates in one group."""
    sql = f'SELECT "id" FROM {MEMBERS} WHERE "group_id" = {db.param} AND "certificate_id" IN ({{}})'
    found = []
    for part in chunks(certificate_ids, CHUNK - 1):
        cursor = db.execute_sql(sql.format(_marks(db, len(part))), [group_id, *part])
        found.extend(row_id for (row_id,) in cursor)
    return found


def remove_memberships(db: peewee.Database, group_id: int, certificate_ids: Sequence[int]) -> None:
    """Take these certificates out of one group, one DELETE per chunk."""
    sql = f'DELETE FROM {MEMBERS} WHERE "group_id" = {db.param} AND "certificate_id" IN ({{}})'
    for part in chunks(certificate_ids, CHUNK - 1):
        db.execute_sql(sql.format(_marks(db, len(part))), [group_id, *part])


def aliases_only_in_group(db: peewee.Database, group_id: int) -> list[str]:
    """Aliases of the certificates for which this group is their only one."""
    rows = db.execute_sql(
        f'SELECT c."alias" FROM {MEMBERS} m JOIN {CERTIFICATES} c '
        f'ON c."id" = m."certificate_id" WHERE m."group_id" = {db.param} AND NOT EXISTS '
        f'(SELECT 1 FROM {MEMBERS} o WHERE o."certificate_id" = m."certificate_id" '
        'AND o."group_id" <> m."group_id") ORDER BY c."alias"',
        (group_id,),
    ).fetchall()
    return [alias for (alias,) in rows]


# -- requests -------------------------------------------------------------------------


def keys_of_pending_requests(db: peewee.Database, spki_sha256s: Sequence[str]) -> set[str]:
    """Those of `spki_sha256s` that a pending request's key has."""
    sql = (
        f'SELECT k."spki_sha256" FROM {REQUESTS} r JOIN {KEYS} k ON k."id" = r."private_key_id" '
        f'WHERE r."status" = {db.param} AND k."spki_sha256" IN ({{}})'
    )
    found: set[str] = set()
    for part in chunks(spki_sha256s):
        cursor = db.execute_sql(sql.format(_marks(db, len(part))), [Request.STATUS_PENDING, *part])
        found.update(spki for (spki,) in cursor)
    return found


def pending_request_for_key(db: peewee.Database, spki_sha256: str) -> int | None:
    p = db.param
    row = db.execute_sql(
        f'SELECT r."id" FROM {REQUESTS} r JOIN {KEYS} k ON k."id" = r."private_key_id" '
        f'WHERE k."spki_sha256" = {p} AND r."status" = {p} ORDER BY r."id" LIMIT 1',
        (spki_sha256, Request.STATUS_PENDING),
    ).fetchone()
    return row[0] if row else None


# -- who holds which key (models.custody) ----------------------------------------------


class GrantScope(NamedTuple):
    """The keys or the users a grant change may touch; None: any."""

    keys: Sequence[int] | None = None
    users: Sequence[int] | None = None

    def where(self, key: str, user: str) -> str:
        """SQL conditions on the key and user columns named (integers only: inlined)."""
        parts = ["1 = 1"]
        for column, ids in ((key, self.keys), (user, self.users)):
            if ids is not None:
                listed = ", ".join(str(int(i)) for i in ids) or "NULL"
                parts.append(f"{column} IN ({listed})")
        return " AND ".join(parts)


def keys_reached(
    db: peewee.Database, certificate_ids: Sequence[int], group_ids: Sequence[int] = ()
) -> list[int]:
    """The private keys whose grantees a change of these certificates (owner, groups,
    policies) or of these certificate groups (members, policies) may change: theirs, and
    those of pending requests that renew them or will join the groups."""
    certs = ", ".join(str(int(i)) for i in certificate_ids) or "NULL"
    groups = ", ".join(str(int(i)) for i in group_ids) or "NULL"
    p = db.param
    sql = f"""
        SELECT "private_key_id" FROM {CERTIFICATES} WHERE "id" IN ({certs})
        UNION SELECT c."private_key_id" FROM {MEMBERS} m
            JOIN {CERTIFICATES} c ON c."id" = m."certificate_id" WHERE m."group_id" IN ({groups})
        UNION SELECT "private_key_id" FROM {REQUESTS}
            WHERE "status" = {p} AND "renews_id" IN ({certs})
        UNION SELECT r."private_key_id" FROM {_name(RequestGroup)} rg
            JOIN {REQUESTS} r ON r."id" = rg."request_id"
            WHERE r."status" = {p} AND rg."group_id" IN ({groups})"""
    rows = db.execute_sql(sql, [Request.STATUS_PENDING, Request.STATUS_PENDING])
    return sorted(key for (key,) in rows if key is not None)


EVERY_GRANT = GrantScope()


def _attested_rows() -> dict[str, tuple[str, str, str]]:
    """The rows that decide who may sign, by the names the grant query reads them under:
    their table, the column naming their attestation, and their item (models.attestations)
    as SQL reads it from the row, `x`; NULL where the row decides nothing (no owner)."""
    user = f'(SELECT "name" FROM {_name(User)} WHERE "id" = x."{{}}")'
    spki = f'(SELECT "spki_sha256" FROM {CERTIFICATES} WHERE "id" = x."{{}}")'
    key_spki = f'(SELECT "spki_sha256" FROM {KEYS} WHERE "id" = x."private_key_id")'
    request_spki = (
        f'(SELECT k."spki_sha256" FROM {REQUESTS} r JOIN {KEYS} k ON k."id" = r."private_key_id" '
        'WHERE r."id" = x."request_id")'
    )
    rows = {
        "policies": (Policy, "attestation", A.POLICY, 'x."id"', 'x."effect"', 'x."enabled"'),
        "pc": (
            PolicyCertificate,
            "attestation",
            A.POLICY_CERTIFICATE,
            'x."policy_id"',
            spki.format("certificate_id"),
        ),
        "pcg": (
            PolicyCertificateGroup,
            "attestation",
            A.POLICY_GROUP,
            'x."policy_id"',
            'x."group_id"',
        ),
        "pu": (PolicyUser, "attestation", A.POLICY_USER, 'x."policy_id"', user.format("user_id")),
        "pug": (
            PolicyUserGroup,
            "attestation",
            A.POLICY_USER_GROUP,
            'x."policy_id"',
            'x."user_group_id"',
        ),
        "ugm": (
            UserGroupMember,
            "attestation",
            A.USER_MEMBER,
            'x."user_group_id"',
            user.format("user_id"),
        ),
        "members": (
            CertificateGroupMember,
            "attestation",
            A.MEMBER,
            'x."group_id"',
            spki.format("certificate_id"),
        ),
        "rg": (RequestGroup, "attestation", A.REQUEST_GROUP, request_spki, 'x."group_id"'),
        "owned": (
            Certificate,
            "owner_attestation",
            A.OWNER,
            'x."spki_sha256"',
            user.format("owner_id"),
        ),
        "request_owner": (
            Request,
            "owner_attestation",
            A.REQUEST_OWNER,
            key_spki,
            user.format("owner_id"),
        ),
        "request_renews": (
            Request,
            "renews_attestation",
            A.REQUEST_RENEWS,
            key_spki,
            spki.format("renews_id"),
        ),
    }
    return {
        name: (_name(model), column, A.sql_item(kind, *parts))
        for name, (model, column, kind, *parts) in rows.items()
    }


ATTESTED = tuple(_attested_rows())


def _grant_tables(attested: bool) -> dict[str, str]:
    """What the grant query reads for each table: the table itself, or (`attested`) only
    its rows that an attestation covers as they read now (models.attestations), with a
    request's owner and renewed certificate left out where theirs is not, and a
    certificate's key only where the key is for its public key."""
    rows = _attested_rows()
    tables = {name: table for name, (table, _, _) in rows.items()}
    tables["keyed"], tables["requests"] = CERTIFICATES, REQUESTS
    if not attested:
        return tables

    def holds(name: str) -> str:
        _, column, item = rows[name]
        return f'certdesk_attested(x."{column}", {item})'

    for name in ("policies", "pc", "pcg", "pu", "pug", "ugm", "members", "rg"):
        tables[name] = f"(SELECT x.* FROM {tables[name]} x WHERE {holds(name)})"
    key_spki = f'(SELECT "spki_sha256" FROM {KEYS} WHERE "id" = x."private_key_id")'
    for_key = f'(x."private_key_id" IS NULL OR x."spki_sha256" = {key_spki})'
    tables["owned"] = (
        f'(SELECT x."id", x."private_key_id", x."owner_id" FROM {CERTIFICATES} x '
        f"WHERE {holds('owned')} AND {for_key})"
    )
    tables["keyed"] = f'(SELECT x."id", x."private_key_id" FROM {CERTIFICATES} x WHERE {for_key})'
    tables["requests"] = (
        f'(SELECT x."id", x."private_key_id", x."status", '
        f'CASE WHEN {holds("request_owner")} THEN x."owner_id" END AS "owner_id", '
        f'CASE WHEN {holds("request_renews")} THEN x."renews_id" END AS "renews_id" '
        f"FROM {REQUESTS} x)"
    )
    return tables


def attested_renewal_keys(
    db: peewee.Database, certificate_id: int, attested: Callable[[int, str], bool]
) -> list[int]:
    """The keys of the pending requests that renew the certificate, by attested rows."""
    requests = _grant_tables(True)["requests"]
    token = A.checking.set(attested)
    try:
        cursor = db.execute_sql(
            f'SELECT "private_key_id" FROM {requests} WHERE "renews_id" = {db.param} '
            f'AND "status" = {db.param} AND "private_key_id" IS NOT NULL',
            (certificate_id, Request.STATUS_PENDING),
        )
        return [key_id for (key_id,) in cursor]
    finally:
        A.checking.reset(token)


def attestation_items(db: peewee.Database, what: str, ids: Sequence[int]) -> list[tuple[int, str]]:
    """(row id, item) of the rows of `what` (ATTESTED) with these ids that decide something."""
    table, _, item = _attested_rows()[what]
    found = []
    for part in chunks(ids):
        cursor = db.execute_sql(
            f'SELECT x."id", {item} FROM {table} x WHERE x."id" IN ({_marks(db, len(part))})',
            list(part),
        )
        found.extend(row for row in cursor if row[1] is not None)
    return found


def set_attestation(
    db: peewee.Database, what: str, ids: Sequence[int], attestation_id: int
) -> None:
    table, column, _ = _attested_rows()[what]
    for part in chunks(ids, CHUNK - 1):
        db.execute_sql(
            f'UPDATE {table} SET "{column}" = {db.param} WHERE "id" IN ({_marks(db, len(part))})',
            [attestation_id, *part],
        )


def not_attested(db: peewee.Database, what: str, attested: Callable[[int, str], bool]) -> list[int]:
    """The ids of the rows of `what` that decide something and that no attestation holds
    for (`attested`, as for grants_to_make)."""
    table, column, item = _attested_rows()[what]
    token = A.checking.set(attested)
    try:
        cursor = db.execute_sql(
            f'SELECT x."id" FROM {table} x WHERE {item} IS NOT NULL '
            f'AND NOT certdesk_attested(x."{column}", {item})'
        )
        return [row_id for (row_id,) in cursor]
    finally:
        A.checking.reset(token)


def unattested(db: peewee.Database, what: str) -> list[int]:
    """The ids of the rows of `what` that decide something and name no attestation."""
    table, column, item = _attested_rows()[what]
    cursor = db.execute_sql(
        f'SELECT x."id" FROM {table} x WHERE x."{column}" IS NULL AND {item} IS NOT NULL'
    )
    return [row_id for (row_id,) in cursor]


def _grantees(db: peewee.Database, scope: GrantScope, attested: bool = False) -> tuple[str, list]:
    """A query of (private key id, user id) for every key and every enabled user with
    certified keys who may ever sign with it: a certificate's owner
    and everyone an enabled Allow policy names (itself or through a user group) for the
    certificate (itself or through a certificate group); for a pending request's key,
    the owner it will have, the grantees of the certificate it renews (theirs move to the
    new one) and those of the groups it will be put in. Schedules and Deny policies are
    not looked at: time and precedence are Certdesk's own checks, not the keys'.
    `attested`: only through rows an attestation covers (`_grant_tables`). Keys not yet
    under data keys are among them (no wrap of theirs is held; grants_to_make leaves them
    out): asking each key's row would read a page per key, its seal and wrap fill one."""
    p = db.param
    t = _grant_tables(attested)
    users = _name(User)
    # CROSS JOIN keeps SQLite's join order as written: from the few allowing policies
    # out to the rows they reach, never a scan of every certificate or key. UNION ALL:
    # the callers see each pair once anyway, and a UNION would sort each part by key,
    # reading the owners through the key's index, a look-up of every keyed certificate.
    scoped = scope.where('w."private_key_id"', 'w."user_id"')
    sql = f"""
        WITH allowed("policy_id", "user_id") AS (
            SELECT p."id", n."user_id" FROM {t["policies"]} p CROSS JOIN {t["pu"]} n
                ON n."policy_id" = p."id" WHERE p."enabled" = {p} AND p."effect" = {p}
            UNION ALL SELECT p."id", m."user_id" FROM {t["policies"]} p CROSS JOIN {t["pug"]} g
                ON g."policy_id" = p."id"
                CROSS JOIN {t["ugm"]} m ON m."user_group_id" = g."user_group_id"
                WHERE p."enabled" = {p} AND p."effect" = {p}
        ), certificate_users("certificate_id", "user_id") AS (
            SELECT t."certificate_id", a."user_id" FROM allowed a CROSS JOIN {t["pc"]} t
                ON t."policy_id" = a."policy_id"
            UNION ALL SELECT m."certificate_id", a."user_id" FROM allowed a
                CROSS JOIN {t["pcg"]} t ON t."policy_id" = a."policy_id"
                CROSS JOIN {t["members"]} m ON m."group_id" = t."group_id"
        ), pending("id", "private_key_id", "owner_id", "renews_id") AS (
            SELECT "id", "private_key_id", "owner_id", "renews_id" FROM {t["requests"]}
            WHERE "status" = {p} AND "private_key_id" IS NOT NULL
        ), wanted("private_key_id", "user_id") AS (
            SELECT "private_key_id", "owner_id" FROM {t["owned"]}
                WHERE "owner_id" IS NOT NULL AND "private_key_id" IS NOT NULL
            UNION ALL SELECT c."private_key_id", cu."user_id" FROM certificate_users cu
                CROSS JOIN {t["keyed"]} c ON c."id" = cu."certificate_id"
                WHERE c."private_key_id" IS NOT NULL
            UNION ALL SELECT "private_key_id", "owner_id" FROM pending WHERE "owner_id" IS NOT NULL
            UNION ALL SELECT r."private_key_id", c."owner_id" FROM pending r
                CROSS JOIN {t["owned"]} c ON c."id" = r."renews_id"
                WHERE c."owner_id" IS NOT NULL
            UNION ALL SELECT r."private_key_id", cu."user_id" FROM pending r
                CROSS JOIN certificate_users cu ON cu."certificate_id" = r."renews_id"
            UNION ALL SELECT r."private_key_id", a."user_id" FROM pending r
                CROSS JOIN {t["rg"]} rg ON rg."request_id" = r."id"
                CROSS JOIN {t["pcg"]} t ON t."group_id" = rg."group_id"
                CROSS JOIN allowed a ON a."policy_id" = t."policy_id"
        ), grantees("private_key_id", "user_id") AS (
            SELECT w."private_key_id", w."user_id" FROM wanted w
                CROSS JOIN {users} u ON u."id" = w."user_id"
                WHERE u."certified" IS NOT NULL AND u."enabled" AND NOT u."deleted"
                AND {scoped}
        )"""
    allow = [True, Policy.EFFECT_ALLOW]
    return sql, [*allow, *allow, Request.STATUS_PENDING]


def grants_to_remove(db: peewee.Database, scope: GrantScope = EVERY_GRANT) -> list[tuple[int, int]]:
    """The (key id, user id) of the wraps held by users who may no longer sign with it."""
    sql, params = _grantees(db, scope)
    grants = _name(KeyGrant)
    held = scope.where('h."private_key_id"', 'h."user_id"')
    # NOT EXISTS, not EXCEPT: SQLite plans an EXCEPT's parts sorted, which read the
    # owners row by row (bench/grants_bench.py: 0.3 s against 20 ms at 100,000 keys).
    cursor = db.execute_sql(
        f'{sql} SELECT h."private_key_id", h."user_id" FROM {grants} h WHERE '
        f"{held} AND NOT EXISTS ("
        'SELECT 1 FROM grantees g WHERE g."private_key_id" = h."private_key_id" '
        'AND g."user_id" = h."user_id")',
        params,
    )
    return cursor.fetchall()


class MissingGrant(NamedTuple):
    key_id: int
    key_uid: str
    spki_sha256: str  # the seal's associated data with the uid
    sealed: bytes
    custodian_wrap: bytes
    pin_public: bytes | None  # of the key's PIN, which its wraps are sealed to too
    alias: str  # of its certificate or request, for a refusal
    user_id: int
    user_name: str
    public_keys: bytes
    certified: bytes


def grants_to_make(
    db: peewee.Database,
    scope: GrantScope = EVERY_GRANT,
    attested: Callable[[int, str], bool] | None = None,
) -> list[MissingGrant]:
    """The wraps that grantees lack for keys under data keys, with what making them needs;
    with `attested` (what checks an item against its attestation), only those that
    attested rows call for."""
    sql, params = _grantees(db, scope, attested is not None)
    users, grants = _name(User), _name(KeyGrant)
    token = A.checking.set(attested)
    try:
        cursor = db.execute_sql(
            f"""{sql}, missing("private_key_id", "user_id") AS (
                SELECT DISTINCT g."private_key_id", g."user_id" FROM grantees g
                WHERE NOT EXISTS (SELECT 1 FROM {grants} h
                    WHERE h."private_key_id" = g."private_key_id" AND h."user_id" = g."user_id")
            )
            SELECT k."id", k."uid", k."spki_sha256", k."sealed", k."custodian_wrap",
                k."pin_public",
                coalesce((SELECT "alias" FROM {CERTIFICATES} WHERE "private_key_id" = k."id"),
                         (SELECT "alias" FROM {REQUESTS} WHERE "private_key_id" = k."id"), ''),
                u."id", u."name", u."public_keys", u."certified"
            FROM missing m CROSS JOIN {KEYS} k ON k."id" = m."private_key_id"
                CROSS JOIN {users} u ON u."id" = m."user_id"
            WHERE k."custodian_wrap" IS NOT NULL
            ORDER BY k."id", u."id" """,
            params,
        )
        return [MissingGrant(*row) for row in cursor]
    finally:
        A.checking.reset(token)


def pins_not_sealing(db: peewee.Database) -> list[str]:
    """The aliases of the certificates with a PIN whose key (under a data key) is not
    sealed to one."""
    cursor = db.execute_sql(
        f'SELECT c."alias" FROM {CERTIFICATES} c JOIN {KEYS} k ON k."id" = c."private_key_id" '
        'WHERE c."pin_hash" IS NOT NULL AND k."pin_public" IS NULL '
        'AND k."custodian_wrap" IS NOT NULL ORDER BY c."alias"'
    )
    return [alias for (alias,) in cursor]


def grants_without_pin(db: peewee.Database) -> list[tuple[int, int]]:
    """(key id, user id) of the wraps not sealed to their key's PIN."""
    cursor = db.execute_sql(
        f'SELECT g."private_key_id", g."user_id" FROM {_name(KeyGrant)} g '
        f'JOIN {KEYS} k ON k."id" = g."private_key_id" '
        'WHERE k."pin_public" IS NOT NULL AND NOT g."pin_sealed"'
    )
    return cursor.fetchall()


def remove_grants(db: peewee.Database, pairs: Sequence[tuple[int, int]]) -> None:
    _many(
        db,
        f'DELETE FROM {_name(KeyGrant)} WHERE "private_key_id" = {db.param} '
        f'AND "user_id" = {db.param}',
        pairs,
    )


def add_grants(db: peewee.Database, rows: Sequence[tuple[int, int, bytes, bool]]) -> None:
    """(key id, user id, wrapped, sealed to the key's PIN too) rows."""
    p = db.param
    _many(
        db,
        f'INSERT INTO {_name(KeyGrant)} ("private_key_id", "user_id", "wrapped", "pin_sealed") '
        f"VALUES ({p}, {p}, {p}, {p})",
        rows,
    )


# -- the audit journal ----------------------------------------------------------------


def append_audit_events(db: peewee.Database, events: Sequence[tuple]) -> None:
    """Rows in the order of AUDIT_COLUMNS, with one prepared statement: peewee's
    insert_many spends longer building SQL for 10,000 rows than SQLite storing them."""
    columns = ", ".join(f'"{getattr(AuditEvent, c).column_name}"' for c in AUDIT_COLUMNS)
    marks = _marks(db, len(AUDIT_COLUMNS))
    _many(db, f"INSERT INTO {_name(AuditEvent)} ({columns}) VALUES ({marks})", events)


def audit_events_after(
    db: peewee.Database, after_id: int, before_id: int | None = None
) -> list[tuple]:
    """(id, action, target, outcome, details, hash) of the events after `after_id` (and
    before `before_id`), in order: a range of the primary key, so asking when nothing
    was written reads one page."""
    names = ("id", "action", "target", "outcome", "details", "hash")
    columns = ", ".join(f'"{getattr(AuditEvent, c).column_name}"' for c in names)
    p = db.param
    sql = f'SELECT {columns} FROM {_name(AuditEvent)} WHERE "id" > {p}'
    params: tuple = (after_id,)
    if before_id is not None:
        sql += f' AND "id" < {p}'
        params += (before_id,)
    return db.execute_sql(sql + ' ORDER BY "id"', params).fetchall()


def last_audit_event(db: peewee.Database) -> tuple[int, str] | None:
    """(id, hash) of the last event, None in an empty log."""
    sql = f'SELECT "id", "hash" FROM {_name(AuditEvent)} ORDER BY "id" DESC LIMIT 1'
    return db.execute_sql(sql).fetchone()


def roster_serial(db: peewee.Database) -> int | None:
    """The serial of the custodian's roster (models.custody), None in a store without."""
    sql = f'SELECT "roster_serial" FROM {_name(Custodian)} ORDER BY "id" LIMIT 1'
    row = db.execute_sql(sql).fetchone()
    return row[0] if row else None


def signed_roster(db: peewee.Database) -> tuple[int, str, bytes] | None:
    """The custodian's roster (models.custody) as stored: serial, records, signature."""
    sql = (
        f'SELECT "roster_serial", "roster", "roster_signature" FROM {_name(Custodian)} '
        'ORDER BY "id" LIMIT 1'
    )
    row = db.execute_sql(sql).fetchone()
    if row is None or not isinstance(row[1], str) or row[2] is None:
        return None
    return row[0], row[1], bytes(row[2])


def audit_hashes(db: peewee.Database, ids: Sequence[int]) -> dict[int, str]:
    """The hash of each of these events that is in the log."""
    sql = f'SELECT "id", "hash" FROM {_name(AuditEvent)} WHERE "id" IN ({{}})'
    return dict(_where_in(db, sql, ids))


def last_audit_event_id(db: peewee.Database) -> int:
    row = db.execute_sql(f'SELECT max("id") FROM {_name(AuditEvent)}').fetchone()
    return row[0] or 0


# -- SQLCipher's checks (SQLite only) -------------------------------------------------


def cipher_page_failures(db: peewee.Database) -> list[str]:
    """SQLCipher's check of every page's HMAC: one line per damaged page."""
    return [line for (line,) in db.execute_sql("PRAGMA cipher_integrity_check")]


def structure_problems(db: peewee.Database) -> list[str]:
    """SQLite's own structural check, without its "ok"."""
    return [line for (line,) in db.execute_sql("PRAGMA integrity_check") if line != "ok"]


def tables_and_indexes(db: peewee.Database) -> list[tuple[str, str, str]]:
    """(type, name, table) of every table and index."""
    return db.execute_sql(
        "SELECT type, name, tbl_name FROM sqlite_master "
        "WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_stat%' ORDER BY name"
    ).fetchall()


def read_whole(db: peewee.Database, kind: str, name: str, table: str) -> bool:
    """Read a table, or an index through itself, to its end; False for an index on
    expressions, which this cannot read alone."""
    if kind == "table":
        cursor = db.execute_sql(f'SELECT * FROM "{name}" NOT INDEXED')
    else:
        columns = [row[2] for row in db.execute_sql(f'PRAGMA index_info("{name}")')]
        if not columns or None in columns:
            return False
        listed = ", ".join(f'"{c}"' for c in columns)
        cursor = db.execute_sql(
            f'SELECT {listed} FROM "{table}" INDEXED BY "{name}" ORDER BY "{columns[0]}"'
        )
    while cursor.fetchmany(1000):
        pass
    return True
