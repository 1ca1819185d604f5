"""Importing, listing, showing and exporting certificates."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
from app.services import journal
from app.services.operations import operation
from app.services.session import Session, write_transaction
from models import (
    Certificate,
    CertificateDer,
    CertificateGroup,
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
)
from models.base import from_micros
from models.permissions import CERTIFICATES_DOWNLOAD, CERTIFICATES_VIEW
from models.statements import chunks

EXPIRING_DAYS = 30  # the console and `list` mark certificates expiring this soon


@dataclass(frozen=True, slots=True)
class CertificateRow:
    """One certificate as the table and `list` show it: stored values only."""

    id: int
    alias: str
    enabled: bool
    owner: str | None
    has_pin: bool
    ask_reason: bool
    usage_count: int
    last_used: datetime | None
    groups: tuple[str, ...]
    policies: tuple[str, ...]
    valid_from: datetime
    valid_to: datetime
    subject: str
    issuer: str
    serial: str
    sha1: str
    sha256: str
    has_private_key: bool
    key_algorithm: str


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


@operation("certificate.list", CERTIFICATES_VIEW, reads=True)
def list_certificates(session: Session) -> list[CertificateRow]:
    return _rows(session.store.db, None)


@operation("certificate.rows", CERTIFICATES_VIEW, reads=True)
def certificate_rows(session: Session, ids: Sequence[int]) -> list[CertificateRow]:
    """The rows of just these certificates (those that still exist), for refreshing the
    rows an operation changed without listing the whole store again."""
    rows: list[CertificateRow] = []
    for part in chunks(list(ids)):
        rows.extend(_rows(session.store.db, list(part)))
    return rows


def _rows(db: peewee.Database, ids: list[int] | None) -> list[CertificateRow]:
    groups = _groups_by_certificate(ids)
    policies = _policies_by_certificate(ids)
    query = (
        Certificate.select(
            Certificate.id,
            Certificate.alias,
            Certificate.enabled,
            User.name,
            Certificate.pin_hash.is_null(False),
            Certificate.ask_reason,
            Certificate.usage_count,
            Certificate.last_used,
            Certificate.not_before,
            Certificate.not_after,
            Certificate.subject,
            Certificate.issuer,
            Certificate.serial,
            Certificate.sha1,
            Certificate.sha256,
            Certificate.private_key.is_null(False),
            Certificate.key_algorithm,
        )
        .join(User, on=(Certificate.owner == User.id), join_type=peewee.JOIN.LEFT_OUTER)
        .order_by(Certificate.id)
        .tuples()
    )
    if ids is not None:
        query = query.where(Certificate.id.in_(ids))
    # Raw rows: peewee's per-row conversion dominates the time at 100,000 certificates.
    sql, params = query.sql()
    rows = db.execute_sql(sql, params).fetchall()
    empty: tuple[str, ...] = ()
    return [
        CertificateRow(
            id=cid,
            alias=alias,
            enabled=bool(enabled),
            owner=owner,
            has_pin=bool(has_pin),
            ask_reason=bool(ask_reason),
            usage_count=usage_count,
            last_used=None if last_used is None else from_micros(last_used),
            groups=groups.get(cid, empty),
            policies=policies.get(cid, empty),
            valid_from=from_micros(not_before),
            valid_to=from_micros(not_after),
            subject=subject,
            issuer=issuer,
            serial=serial,
            sha1=sha1,
            sha256=sha256,
            has_private_key=bool(has_key),
            key_algorithm=key_algorithm,
        )
        for (
            cid,
            alias,
            enabled,
            owner,
            has_pin,
            ask_reason,
            usage_count,
            last_used,
            not_before,
            not_after,
            subject,
            issuer,
            serial,
            sha1,
            sha256,
            has_key,
            key_algorithm,
        ) in rows
    ]


def _names_by_certificate(pairs: Iterable[tuple[int, str]]) -> dict[int, tuple[str, ...]]:
    collected: dict[int, set[str]] = defaultdict(set)
    for cid, name in pairs:
        collected[cid].add(name)
    return {cid: tuple(sorted(names, key=str.casefold)) for cid, names in collected.items()}


def _groups_by_certificate(ids: list[int] | None) -> dict[int, tuple[str, ...]]:
    query = CertificateGroupMember.select(
        CertificateGroupMember.certificate, CertificateGroup.name
    ).join(CertificateGroup)
    if ids is not None:
        query = query.where(CertificateGroupMember.certificate.in_(ids))
    return _names_by_certificate(query.tuples())


def _policies_by_certificate(ids: list[int] | None) -> dict[int, tuple[str, ...]]:
    """Policies naming a certificate directly or through one of its groups."""
    direct = PolicyCertificate.select(PolicyCertificate.certificate, Policy.name).join(Policy)
    through_groups = (
        CertificateGroupMember.select(CertificateGroupMember.certificate, Policy.name)
        .join(
            PolicyCertificateGroup,
            on=(PolicyCertificateGroup.group == CertificateGroupMember.group),
        )
        .join(Policy)
    )
    if ids is not None:
        direct = direct.where(PolicyCertificate.certificate.in_(ids))
        through_groups = through_groups.where(CertificateGroupMember.certificate.in_(ids))
    return _names_by_certificate([*direct.tuples(), *through_groups.tuples()])


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
    return _rows(session.store.db, [cert_id])[0]


@operation("certificate.show", CERTIFICATES_VIEW, reads=True)
def get_certificate(session: Session, ref: int | str) -> CertificateDetail:
    cert = find(ref)
    der = CertificateDer.get_by_id(cert.id).der
    parsed = quietly(x509.load_der_x509_certificate, der)
    users, user_groups = _associates(cert.id)
    return CertificateDetail(
        row=_row(session, cert.id),
        description=cert.description,
        associated_users=users,
        associated_user_groups=user_groups,
        extensions=tuple(describe_extensions(parsed)),
        pem=encodings.certificate_bytes(der, "pem").decode("ascii"),
        details=certificate_details(parsed),
        chain=_chain(cert, parsed),
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
