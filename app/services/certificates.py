"""Importing, listing, showing and exporting certificates."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import pairwise, repeat
from pathlib import Path
from typing import NamedTuple

import peewee
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from app.crypto import encodings
from app.crypto.details import CertificateDetails, certificate_details
from app.crypto.extensions import ExtensionInfo, describe_extensions
from app.crypto.parse import quietly
from app.errors import (
    CertdeskError,
    NotFoundError,
)
from app.files import display_path, write_new_file
from app.services import journal, parallel_reads
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.sqlite_errors import database_errors
from models import (
    Certificate,
    CertificateDer,
    CertificateGroupMember,
    Policy,
    PolicyCertificate,
    PolicyCertificateGroup,
    PolicyUser,
    PolicyUserGroup,
    PrivateKey,
    User,
    UserGroup,
    UserGroupMember,
    statements,
)
from models.base import from_micros
from models.permissions import CERTIFICATES_DOWNLOAD, CERTIFICATES_VIEW
from models.statements import chunks

EXPIRING_DAYS = 30  # the console and `list` mark certificates expiring this soon


class _StoredRow(NamedTuple):
    """The stored values of a `CertificateRow`, in its order."""

    # In the order of statements.certificate_rows_of's columns (the three that repeat,
    # shared between rows, last but the search text), with the names read apart (groups,
    # policies) before the search text.
    id: int
    alias: str
    enabled: int
    has_pin: int
    ask_reason: int
    usage_count: int
    last_used_us: int | None
    valid_from_us: int
    valid_to_us: int
    subject: str
    serial: str
    has_private_key: int
    owner: str | None
    issuer: str
    key_algorithm: str
    groups: tuple[str, ...]
    policies: tuple[str, ...]
    # What a search matches: "alias\nsubject\nissuer\nserial\nsha1\nsha256", casefolded.
    search_text: str


class CertificateRow(_StoredRow):
    """One certificate as the table and `list` show it: stored values only.

    A NamedTuple rather than a frozen dataclass: a million of them are made by
    `tuple.__new__` from the store's rows at C speed. The flags are the store's 0/1 (use
    them as truths), the times its microseconds; `valid_from`, `valid_to` and
    `last_used` make the datetimes of one row when asked. The thumbprints are read from
    `search_text`, which holds them anyway: two strings fewer per row (200 MiB at a
    million). Made elsewhere than from the store by `certificate_row`."""

    __slots__ = ()

    @property
    def sha1(self) -> str:
        return self.search_text[SHA1_IN_SEARCH_TEXT]

    @property
    def sha256(self) -> str:
        return self.search_text[SHA256_IN_SEARCH_TEXT]

    def _replace(self, **changes) -> "CertificateRow":
        # The search text follows the values it is made of.
        return certificate_row(**row_values(self) | changes)

    @property
    def valid_from(self) -> datetime:
        return from_micros(self.valid_from_us)

    @property
    def valid_to(self) -> datetime:
        return from_micros(self.valid_to_us)

    @property
    def last_used(self) -> datetime | None:
        return None if self.last_used_us is None else from_micros(self.last_used_us)


# Where the thumbprints are in a search text: last, lower-case hex of fixed lengths,
# so that casefolding what comes before them does not move them.
SHA256_IN_SEARCH_TEXT = slice(-64, None)
SHA1_IN_SEARCH_TEXT = slice(-64 - 1 - 40, -64 - 1)


def search_text(alias: str, subject: str, issuer: str, serial: str, sha1: str, sha256: str) -> str:
    """As the store's listing makes it (statements.certificate_rows_of)."""
    return "\n".join((alias, subject, issuer, serial, sha1, sha256)).casefold()


def certificate_row(**values) -> CertificateRow:
    """A row from its values by name, `sha1` and `sha256` among them instead of
    `search_text` (a row made other than by the listing, or one of its values changed:
    `certificate_row(**row_values(row) | changes)`)."""
    texts = (values[k] for k in ("alias", "subject", "issuer", "serial"))
    text = search_text(*texts, values.pop("sha1"), values.pop("sha256"))
    return CertificateRow(**values, search_text=text)


def row_values(row: CertificateRow) -> dict:
    """A row's values by name, as `certificate_row` takes them."""
    values = row._asdict()
    del values["search_text"]
    return values | {"sha1": row.sha1, "sha256": row.sha256}


@dataclass(frozen=True)
class CertificateDetail:
    row: CertificateRow
    description: str
    associated_users: tuple[str, ...]
    associated_user_groups: tuple[str, ...]
    extensions: tuple[ExtensionInfo, ...]
    pem: str
    details: CertificateDetails
    # Aliases of the issuers found in the store, nearest first; ends early when an
    # issuer is missing. A self-signed certificate has none.
    chain: tuple[str, ...]
    # Of the policies naming it (row.policies), those that deny rather than allow, and
    # those disabled (they decide nothing until enabled).
    denying_policies: tuple[str, ...] = ()
    disabled_policies: tuple[str, ...] = ()


def create_certificate(session: Session, facts, alias: str, key: PrivateKey | None) -> Certificate:
    cert = Certificate.create(
        alias=alias,
        sha1=facts.sha1,
        sha256=facts.sha256,
        subject=facts.subject,
        issuer=facts.issuer,
        serial=facts.serial,
        not_before=facts.not_before,
        not_after=facts.not_after,
        spki_sha256=facts.spki_sha256,
        key_algorithm=facts.key_algorithm,
        private_key=key,
    )
    CertificateDer.create(certificate=cert, der=facts.der)
    return cert


# The first chunk of a listing is small, so that the table's first screen comes at once;
# the later ones are read LATER_CHUNK ids at a time.
FIRST_CHUNK = 200
LATER_CHUNK = 20_000
# Ids per statement of a refresh: scattered ids touch most pages of the table, each page
# decrypted once per statement, so nearly as many as SQLite binds (32,766).
REFRESH_CHUNK = 32_000


@operation("certificate.list", CERTIFICATES_VIEW, reads=True)
def list_certificates(session: Session, order: str = "id") -> list[CertificateRow]:
    """Every certificate, by id or (`order="name"`, as the table lists) by name with
    ties by id: one statement per table."""
    return _rows(session.store.db, None, order)


@operation("certificate.stream", CERTIFICATES_VIEW, reads=True)
def stream_certificates(
    session: Session, order: str, chunk: Callable[[list[CertificateRow], bool], None]
) -> list[int]:
    """Every certificate given to `chunk` as it is read, for a table that shows its first
    rows long before its last: first the FIRST_CHUNK that come first in `order` with
    `in_order` true, then the others a range of LATER_CHUNK ids at a time, as the table's
    pages hold them (`in_order` false). Returns every id in `order`. One scan of the
    pages however the order runs: read in the order by name, scattered rows would decrypt
    a page per row. The ranges are read on helper threads (parallel_reads) while this
    one reads the order and the names and makes the rows; all as of one read
    transaction, so that the parts and the order agree."""
    db = session.store.db
    with db.atomic():
        first_ids = statements.certificate_ids(db, order, limit=FIRST_CHUNK)
        chunk(_rows(db, first_ids, order), True)
        if len(first_ids) < FIRST_CHUNK:
            return first_ids
        spans = list(pairwise(statements.certificate_id_bounds(db, LATER_CHUNK)))
        read = partial(_columns_as_of, statements.last_audit_event_id(db))
        with parallel_reads.alongside(db, read, spans) as read_spans:
            ordered = statements.certificate_ids(db, order)
            shown, names = set(first_ids), _Names(db, None)
            for span, texts in zip(spans, read_spans, strict=True):
                # Decoded here: on the helpers, the GIL they held made the window wait.
                columns = None if texts is None else statements.listed_columns(texts)
                if columns is None:  # written meanwhile, or a text holds the separator
                    rows = _made(statements.certificate_rows_between(db, *span), names)
                else:
                    rows = _made_of_columns(columns, names)
                rows = [row for row in rows if row[0] not in shown]
                if rows:
                    chunk(rows, False)
        return ordered


def _columns_as_of(
    mark: int, db: peewee.Database, span: tuple[int, int]
) -> statements.ColumnTexts | None:
    """The listed columns of a range of ids as read, on a helper's connection; None if the
    journal moved past `mark` (the caller's read transaction's last event), since every
    write journals (the store watch counts on it too): that range is then read on the
    caller's connection, as of its transaction."""
    try:
        with db.atomic():
            if statements.last_audit_event_id(db) != mark:
                return None
            return statements.certificate_column_texts(db, *span)
    except database_errors():
        return None  # busy, say: the caller's connection reads it, or says why not


@operation("certificate.rows", CERTIFICATES_VIEW, reads=True)
def certificate_rows(session: Session, ids: Sequence[int]) -> list[CertificateRow]:
    """The rows of just these certificates (those that still exist), for refreshing the
    rows an operation changed without listing the whole store again; by id."""
    rows: list[CertificateRow] = []
    for part in chunks(list(ids), REFRESH_CHUNK):
        rows.extend(_rows(session.store.db, part, "id"))
    return rows


_make_row = partial(tuple.__new__, CertificateRow)  # _make is a Python call per row
_EMPTY: tuple[str, ...] = ()


def _rows(db: peewee.Database, ids: Sequence[int] | None, order: str) -> list[CertificateRow]:
    """One chunk of ids (None: all): four statements however many rows."""
    return _made(statements.certificate_rows_of(db, ids, order), _Names(db, ids))


class _Names:
    """The group and policy names of these certificates (None: all; three statements),
    and one string for each owner, issuer and key algorithm that repeat (a million rows
    hold ~150 MiB less), for making their rows. A certificate's policies are those naming
    it and those naming one of its groups: the latter are found per distinct set of
    groups, since a store has few (a join per certificate took a second at a million)."""

    def __init__(self, db: peewee.Database, ids: Sequence[int] | None):
        distinct: dict[tuple[str, ...], tuple[str, ...]] = {_EMPTY: _EMPTY}
        groups = _names_by_certificate(statements.group_names_of(db, ids), distinct)
        self.policies_of_groups = _policies_of_groups(
            statements.policy_names_by_group(db), distinct.values()
        )
        direct = _names_by_certificate(statements.direct_policy_names_of(db, ids), {})
        self.direct_policy_of = _united(direct, groups, self.policies_of_groups).get
        self.group_of = groups.get
        self.one = {}.setdefault


def _made(raw: Iterable[tuple], names: _Names) -> list[CertificateRow]:
    group_of, one = names.group_of, names.one
    direct_policy_of, policies_of_groups = names.direct_policy_of, names.policies_of_groups
    return [
        _make_row(
            (
                *r[:12],
                one(r[12], r[12]),
                one(r[13], r[13]),
                one(r[14], r[14]),
                groups := group_of(r[0], _EMPTY),
                direct_policy_of(r[0]) or policies_of_groups[groups],
                r[15] if r[15].isascii() else r[15].casefold(),  # SQLite folded ASCII only
            )
        )
        for r in raw
    ]


def _made_of_columns(columns: statements.ListedColumns, names: _Names) -> list[CertificateRow]:
    """The rows `_made` makes of raw rows, made of listed columns by map() and zip():
    no Python call per row."""
    ids, one = columns.ids, names.one
    groups = list(map(names.group_of, ids, repeat(_EMPTY)))
    policies = map(names.direct_policy_of, ids, map(names.policies_of_groups.__getitem__, groups))
    shared = (map(one, values, values) for values in columns[12:15])
    values = zip(*columns[:12], *shared, groups, policies, columns[15], strict=True)
    return list(map(_make_row, values))


def _policies_of_groups(
    joined: Iterable[tuple[str, str]], sets: Iterable[tuple[str, ...]]
) -> dict[tuple[str, ...], tuple[str, ...]]:
    """The policies naming one of the groups of each set, from the policy names SQLite
    joined per group."""
    by_group = {group: text.split(statements.NAMES_SEPARATOR) for group, text in joined}
    return {
        names: _names_in_order(p for group in names for p in by_group.get(group, ()))
        for names in sets
    }


def _united(
    direct: dict[int, tuple[str, ...]],
    groups: dict[int, tuple[str, ...]],
    of_groups: dict[tuple[str, ...], tuple[str, ...]],
) -> dict[int, tuple[str, ...]]:
    """Of each certificate a policy names directly, those policies and its groups': one
    tuple per distinct pair, shared as the names tuples are."""
    made: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = {}
    united = {}
    for cid, names in direct.items():
        pair = names, groups.get(cid, _EMPTY)
        both = made.get(pair)
        if both is None:
            both = made[pair] = _names_in_order((*names, *of_groups[pair[1]]))
        united[cid] = both
    return united


def _names_in_order(names: Iterable[str]) -> tuple[str, ...]:
    """Unique, sorted as the table shows them."""
    return tuple(sorted(set(names), key=str.casefold))


def _names_by_certificate(
    joined: statements.NamesJoined, distinct: dict[tuple[str, ...], tuple[str, ...]]
) -> dict[int, tuple[str, ...]]:
    """Each certificate's names, unique and sorted, from the names SQLite joined;
    certificates with the same names share one tuple, kept in `distinct` (a store has
    few distinct sets of groups: the names are split once per set, and each certificate
    costs a look-up in C)."""
    made = {}
    for text in set(joined.names):
        unique = _names_in_order(text.split(statements.NAMES_SEPARATOR))
        made[text] = distinct.setdefault(unique, unique)
    found: dict[int, tuple[str, ...]] = {}
    for start in range(0, len(joined.ids), _NAMED_AT_ONCE):
        ids, names = (column[start : start + _NAMED_AT_ONCE] for column in joined)
        found.update(zip(ids, map(made.__getitem__, names), strict=True))
    return found


# Certificates named between two chances for another thread to take the GIL: one call
# naming a million held the window for 160 ms.
_NAMED_AT_ONCE = 50_000


def find(ref: int | str) -> Certificate:
    """By id (the GUI, which holds rows: a rename meanwhile cannot redirect it) or by
    alias (the CLI, whose user typed it)."""
    if isinstance(ref, int):
        cert = Certificate.get_or_none(Certificate.id == ref)
        if cert is None:
            raise NotFoundError("That certificate is no longer in the store.")
        return cert
    cert = Certificate.get_or_none(Certificate.alias == ref)
    if cert is None:
        raise NotFoundError(f"No certificate with alias {ref!r}.")
    return cert


def _row(session: Session, cert_id: int) -> CertificateRow:
    return _rows(session.store.db, [cert_id], "id")[0]


@operation("certificate.show", CERTIFICATES_VIEW, reads=True)
def get_certificate(session: Session, ref: int | str) -> CertificateDetail:
    cert = find(ref)
    der = CertificateDer.get_by_id(cert.id).der
    parsed = quietly(x509.load_der_x509_certificate, der)
    users, user_groups = _associates(cert.id)
    row = _row(session, cert.id)
    naming = Policy.select(Policy.name, Policy.effect, Policy.enabled).where(
        Policy.name.in_(list(row.policies))
    )
    effects = list(naming.tuples())
    return CertificateDetail(
        row=row,
        description=cert.description,
        associated_users=users,
        associated_user_groups=user_groups,
        extensions=tuple(describe_extensions(parsed)),
        pem=encodings.certificate_bytes(der, "pem").decode("ascii"),
        details=certificate_details(parsed),
        chain=_chain(cert, parsed),
        denying_policies=tuple(
            sorted(n for n, effect, _ in effects if effect == Policy.EFFECT_DENY)
        ),
        disabled_policies=tuple(sorted(n for n, _, enabled in effects if not enabled)),
    )


MAX_CHAIN = 10


def _chain(cert: Certificate, parsed: x509.Certificate) -> tuple[str, ...]:
    return tuple(issuer.alias for issuer, _ in _issuers(cert, parsed))


def issuer_certificates(cert: Certificate, parsed: x509.Certificate) -> list[x509.Certificate]:
    """The issuers of `cert` found in the store, nearest first, as `chain` names them."""
    return [issuer for _, issuer in _issuers(cert, parsed)]


def _issuers(
    cert: Certificate, parsed: x509.Certificate
) -> list[tuple[Certificate, x509.Certificate]]:
    """Follow issuer names through the store, keeping only issuers whose key verifies
    the signature (two CAs may share a name)."""
    found: list[tuple[Certificate, x509.Certificate]] = []
    seen = {cert.id}
    while len(found) < MAX_CHAIN and cert.issuer != cert.subject:
        issuer = _verified_issuer(cert, parsed, seen)
        if issuer is None:
            break
        found.append(issuer)
        cert, parsed = issuer
        seen.add(cert.id)
    return found


def _verified_issuer(
    cert: Certificate, parsed: x509.Certificate, seen: set[int]
) -> tuple[Certificate, x509.Certificate] | None:
    candidates = Certificate.select().where(
        Certificate.subject == cert.issuer, Certificate.id.not_in(list(seen))
    )
    for candidate in candidates:
        der = CertificateDer.get_by_id(candidate.id).der
        try:
            issuer = quietly(x509.load_der_x509_certificate, der)
            quietly(parsed.verify_directly_issued_by, issuer)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return candidate, issuer
    return None


def _associates(cert_id: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Users and user groups that reach the certificate through a policy."""
    group_ids = CertificateGroupMember.select(CertificateGroupMember.group).where(
        CertificateGroupMember.certificate == cert_id
    )
    policy_ids = (
        PolicyCertificate.select(PolicyCertificate.policy).where(
            PolicyCertificate.certificate == cert_id
        )
    ) | (
        PolicyCertificateGroup.select(PolicyCertificateGroup.policy).where(
            PolicyCertificateGroup.group.in_(group_ids)
        )
    )
    user_groups = {
        name
        for (name,) in UserGroup.select(UserGroup.name)
        .join(PolicyUserGroup)
        .where(PolicyUserGroup.policy.in_(policy_ids))
        .tuples()
    }
    direct_users = User.select(User.name).join(PolicyUser).where(PolicyUser.policy.in_(policy_ids))
    member_users = (
        User.select(User.name)
        .join(UserGroupMember)
        .join(UserGroup)
        .where(UserGroup.name.in_(list(user_groups)))
    )
    users = {name for (name,) in direct_users.tuples()} | {
        name for (name,) in member_users.tuples()
    }
    return tuple(sorted(users, key=str.casefold)), tuple(sorted(user_groups, key=str.casefold))


# Names whose readers expect PEM text; a .cer, a .der or any other name gets DER.
PEM_SUFFIXES = (".pem", ".crt")


def export_format(out: str | Path) -> str:
    """The format an export to `out` is written in when none is chosen: DER in a file
    named .pem is a trap for the next tool that reads it."""
    return "pem" if Path(out).suffix.lower() in PEM_SUFFIXES else "der"


@operation("certificate.export", CERTIFICATES_DOWNLOAD, target="ref")
def export_certificate(session: Session, ref: int | str, out: Path, fmt: str = "der") -> Path:
    """Write the certificate to `out`, a new file, as DER (the usual .cer) or PEM;
    FileRefusedError when `out` exists or cannot be written (then nothing is left)."""
    if fmt not in encodings.FORMATS:
        raise CertdeskError(f"format: {fmt!r} is not one of {', '.join(encodings.FORMATS)}")
    cert = find(ref)
    data = encodings.certificate_bytes(CertificateDer.get_by_id(cert.id).der, fmt)
    written = write_new_file(out, data)  # never over a file, never through a link
    with write_transaction(session):
        journal.record(
            session.user_name, "certificate.export", cert.alias, format=fmt, file=display_path(out)
        )
    return written
