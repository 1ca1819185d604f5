"""Importing, listing, showing and exporting certificates."""

import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import peewee
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from app.crypto import encodings
from app.crypto.certinfo import (
    CertificateFacts,
    certificate_facts,
    key_algorithm_text,
    spki_sha256_of_public_key,
)
from app.crypto.details import CertificateDetails, certificate_details
from app.crypto.extensions import ExtensionInfo, describe_extensions
from app.crypto.parse import ParsedFile, parse, quietly
from app.crypto.secret_text import secret_bytes
from app.errors import (
    CertdeskError,
    ImportFormatError,
    NotFoundError,
    OrphanKeyError,
    PasswordRequiredError,
    StoreBusyError,
    StoreDamagedError,
    StoreFullError,
)
from app.files import FileRefusedError, display_path, read_regular, write_new_file
from app.services import audit
from app.services.aliases import available_alias, unique_alias
from app.services.session import Session, write_transaction
from app.services.targets import chunks
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
    database,
)
from models.base import from_micros
from models.permissions import CERTIFICATES_DOWNLOAD, CERTIFICATES_IMPORT, CERTIFICATES_VIEW

EXPIRING_DAYS = 30  # the console and `list` mark certificates expiring this soon
FILES_PER_TRANSACTION = 500
# Parsed files wait in memory for their batch: a batch of large bundles commits early.
BYTES_PER_TRANSACTION = 64 * 1024 * 1024
MAX_IMPORT_FILE_SIZE = 20 * 1024 * 1024


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


@dataclass
class FileResult:
    path: str  # as given: the key of `passwords`, and what a retry reads again
    kind: str = ""
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    keys_linked: list[str] = field(default_factory=list)
    # Certificates that already held the file's private key: nothing to add.
    keys_known: list[str] = field(default_factory=list)
    keys_sealed: int = 0  # private keys this file added to the store
    error: str | None = None
    needs_password: bool = False
    orphan_key: bool = False  # a key whose certificate may come later in the same import
    # Aliases of the pending requests the file's certificates completed, and the new
    # aliases of the certificates those renewed (now disabled).
    requests_completed: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def name(self) -> str:
        """The path as text that prints and stores, whatever bytes its name holds."""
        return display_path(self.path)


@dataclass
class ImportReport:
    files: list[FileResult] = field(default_factory=list)
    cancelled: bool = False
    # Why the import stopped before the end (the store busy, the disk full), and how
    # many files were then left out; `files` holds only results that were committed.
    stopped: str | None = None
    not_imported: int = 0

    @property
    def imported(self) -> int:
        return sum(len(f.imported) for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(len(f.duplicates) for f in self.files)

    @property
    def keys_sealed(self) -> int:
        return sum(f.keys_sealed for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if not f.ok]


ProgressCallback = Callable[[int, int, str], None]


@dataclass
class _ReadFile:
    """A file read and parsed outside the write lock, waiting to be stored."""

    path: str
    alias: str | None
    parsed: ParsedFile | None = None
    facts: list[CertificateFacts] = field(default_factory=list)
    failed: FileResult | None = None
    size: int = 0


def import_files(
    session: Session,
    paths: Sequence[str | Path],
    alias: str | None = None,
    password: str | None = None,
    passwords: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ImportReport:
    """Import every file that can be; each file lands whole or not at all (a savepoint).

    Files are read and parsed outside the write lock, then stored in batches of one
    transaction each: 20,000 files do not mean 20,000 fsyncs, and a short writer (a
    `disable`, a `set`) gets the lock between two batches. A batch that cannot be
    committed (the store busy, the disk full) stops the import: `report.stopped` says
    why and `report.files` holds exactly the files that were committed."""
    session.require(CERTIFICATES_IMPORT)
    report = ImportReport()
    total = len(paths)
    index = 0
    while index < total and not report.cancelled:
        batch: list[_ReadFile] = []
        batch_bytes = 0
        while index < total and len(batch) < FILES_PER_TRANSACTION:
            if batch_bytes > BYTES_PER_TRANSACTION:
                break
            if should_cancel and should_cancel():
                report.cancelled = True
                break
            path = str(paths[index])
            file_password = (passwords or {}).get(path, password)
            item = _read_file(path, alias if index == 0 else None, file_password)
            batch.append(item)
            batch_bytes += item.size
            index += 1
            if progress:
                progress(index, total, path)
        if not _store_batch(session, batch, report):
            report.not_imported = total - len(report.files)
            return report
    if not report.cancelled:
        _retry_orphan_keys(session, report, password, passwords or {})
    return report


def _store_batch(session: Session, batch: list[_ReadFile], report: ImportReport) -> bool:
    """Store one batch in one transaction; False (and `report.stopped`) when it could not
    be committed, in which case none of it was."""
    try:
        with write_transaction(session):
            results = [_store_file(session, item) for item in batch]
    except (StoreBusyError, StoreFullError, StoreDamagedError) as exc:
        report.stopped = str(exc)
        return False
    report.files.extend(results)
    return True


def _retry_orphan_keys(session, report: ImportReport, password, passwords) -> None:
    """`certdesk import signing.key signing.crt`: a key file read before its certificate
    gets one more try once every other file is in."""
    waiting = [i for i, f in enumerate(report.files) if f.orphan_key]
    if not waiting:
        return
    retried = [
        _read_file(report.files[i].path, None, passwords.get(report.files[i].path, password))
        for i in waiting
    ]
    try:
        with write_transaction(session):
            results = [_store_file(session, item) for item in retried]
    except (StoreBusyError, StoreFullError, StoreDamagedError) as exc:
        report.stopped = str(exc)  # the keys' first results stand: "matches no certificate"
        return
    for i, result in zip(waiting, results, strict=True):
        report.files[i] = result


def import_bytes(
    session: Session,
    name: str,
    data: bytes,
    alias: str | None = None,
    password: str | None = None,
) -> FileResult:
    session.require(CERTIFICATES_IMPORT)
    item = _parse_data(name, data, alias, password)
    with write_transaction(session):
        return _store_file(session, item)


def _read_file(path: str, alias: str | None, password: str | None) -> _ReadFile:
    try:
        data = read_regular(path, MAX_IMPORT_FILE_SIZE)
    except FileRefusedError as exc:
        return _ReadFile(path, alias, failed=FileResult(path, error=exc.reason))
    return _parse_data(path, data, alias, password)


def _parse_data(name: str, data: bytes, alias: str | None, password: str | None) -> _ReadFile:
    item = _ReadFile(name, alias, size=len(data))
    try:
        secret = secret_bytes(password) if password is not None else None
        item.parsed = parse(data, secret)
        item.facts = [_facts(cert) for cert in item.parsed.certificates]
    except PasswordRequiredError as exc:
        item.failed = FileResult(name, error=str(exc), needs_password=True)
    except CertdeskError as exc:
        item.failed = FileResult(name, error=str(exc))
    return item


def _store_file(session: Session, item: _ReadFile) -> FileResult:
    if item.failed is not None:
        return item.failed
    result = FileResult(item.path, kind=item.parsed.kind)
    try:
        with database.atomic():  # a savepoint: this file lands whole or not at all
            _store_parsed(session, result.name, item.facts, item.parsed.keys, item.alias, result)
    except OrphanKeyError as exc:
        return FileResult(item.path, kind=result.kind, error=str(exc), orphan_key=True)
    except CertdeskError as exc:
        return FileResult(item.path, kind=result.kind, error=str(exc))
    return result


def _facts(cert: x509.Certificate) -> CertificateFacts:
    try:
        return certificate_facts(cert)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ImportFormatError(f"damaged certificate ({exc})") from None


def _store_parsed(
    session: Session,
    name: str,
    all_facts: list[CertificateFacts],
    private_keys: list,
    alias: str | None,
    result: FileResult,
) -> None:
    from app.services import requests  # here: requests imports this module

    keys = {spki_sha256_of_public_key(k.public_key()): k for k in private_keys}
    used_keys: set[str] = set()
    for facts in all_facts:
        key = keys.get(facts.spki_sha256) if facts.spki_sha256 else None
        if key is not None:
            used_keys.add(facts.spki_sha256)
        existing = _by_sha256(facts.sha256)
        if existing is not None:
            result.duplicates.append(existing.alias)
            if key is not None:
                _add_key(session, existing, key, name, result)
            continue
        # Issued for a pending request: it gets the request's key, alias and settings.
        completion = requests.complete_with(session, facts, name)
        if completion is not None:
            result.imported.append(completion.alias)
            result.requests_completed.append(completion.request)
            if completion.superseded:
                result.superseded.append(completion.superseded)
            continue
        explicit = alias is not None and not result.imported
        chosen = available_alias(alias) if explicit else None
        chosen = chosen or unique_alias(alias or facts.common_name or facts.sha256[:16])
        create_certificate(session, facts, chosen, seal_key(session, key) if key else None)
        result.imported.append(chosen)
        result.keys_sealed += key is not None
        audit.record(
            session.user_name, "certificate.import", chosen, file=name, sha256=facts.sha256
        )
    for spki, key in keys.items():
        if spki in used_keys:
            continue
        holders = Certificate.select().where(Certificate.spki_sha256 == spki)
        if not holders.exists():
            raise OrphanKeyError(
                "holds a private key that matches no certificate in it or in the store: "
                "import its certificate first, or in the same command"
            )
        for holder in holders:
            _add_key(session, holder, key, name, result)


def _add_key(session: Session, cert: Certificate, key, name: str, result: FileResult) -> None:
    """Give a stored certificate the private key of its public key, unless it has one:
    the same public key means the same private key, so there is nothing to add then."""
    if cert.private_key_id is not None:
        result.keys_known.append(cert.alias)
        return
    cert.private_key = seal_key(session, key)
    cert.save()
    result.keys_linked.append(cert.alias)
    result.keys_sealed += 1
    audit.record(session.user_name, "certificate.key_linked", cert.alias, file=name)


def _by_sha256(sha256: str) -> Certificate | None:
    # Raw SQL: peewee building a 22-column SELECT costs more than the look-up itself,
    # and this runs once per imported certificate.
    found = database.execute_sql(
        "SELECT id FROM certificate WHERE sha256 = ?", (sha256,)
    ).fetchone()
    return Certificate.get_by_id(found[0]) if found else None


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


def seal_key(session: Session, key) -> PrivateKey:
    """Seal at once: the PKCS#8 bytes exist only for the length of this call. The seal
    binds the key's public key hash, the one certificates and requests are matched by."""
    public_key = key.public_key()
    uid = secrets.token_hex(16)
    spki_sha256 = spki_sha256_of_public_key(public_key)
    sealed = session.store.sealer.seal(encodings.private_key_pkcs8(key), uid, spki_sha256)
    return PrivateKey.create(
        uid=uid,
        algorithm=key_algorithm_text(public_key),
        spki_sha256=spki_sha256,
        sealed=sealed,
    )


def list_certificates(session: Session) -> list[CertificateRow]:
    session.require(CERTIFICATES_VIEW)
    return _rows(None)


def certificate_rows(session: Session, ids: Sequence[int]) -> list[CertificateRow]:
    """The rows of just these certificates (those that still exist), for refreshing the
    rows an operation changed without listing the whole store again."""
    session.require(CERTIFICATES_VIEW)
    rows: list[CertificateRow] = []
    for part in chunks(list(ids)):
        rows.extend(_rows(list(part)))
    return rows


def _rows(ids: list[int] | None) -> list[CertificateRow]:
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
    rows = Certificate._meta.database.execute_sql(sql, params).fetchall()
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


def _row(cert_id: int) -> CertificateRow:
    return _rows([cert_id])[0]


def get_certificate(session: Session, ref: int | str) -> CertificateDetail:
    session.require(CERTIFICATES_VIEW)
    cert = find(ref)
    der = CertificateDer.get_by_id(cert.id).der
    parsed = quietly(x509.load_der_x509_certificate, der)
    users, user_groups = _associates(cert.id)
    return CertificateDetail(
        row=_row(cert.id),
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


def export_certificate(session: Session, ref: int | str, out: Path, fmt: str = "der") -> Path:
    """Write the certificate to `out`, a new file, as DER (the usual .cer) or PEM;
    FileRefusedError when `out` exists or cannot be written (then nothing is left)."""
    session.require(CERTIFICATES_DOWNLOAD)
    if fmt not in encodings.FORMATS:
        raise CertdeskError(f"format: {fmt!r} is not one of {', '.join(encodings.FORMATS)}")
    cert = find(ref)
    data = encodings.certificate_bytes(CertificateDer.get_by_id(cert.id).der, fmt)
    written = write_new_file(out, data)  # never over a file, never through a link
    with write_transaction(session):
        audit.record(
            session.user_name, "certificate.export", cert.alias, format=fmt, file=display_path(out)
        )
    return written
