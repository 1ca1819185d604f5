"""Importing certificate and key files: read and parsed outside the write lock, stored
in batches, each file whole or not at all."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from app.crypto.certinfo import (
    CertificateFacts,
    certificate_facts,
    spki_sha256_of_public_key,
)
from app.crypto.parse import ParsedFile, parse, quiet
from app.crypto.secret_text import secret_bytes
from app.errors import (
    CertdeskError,
    ImportFormatError,
    OrphanKeyError,
    PasswordRequiredError,
    StoreBusyError,
    StoreDamagedError,
    StoreFullError,
)
from app.files import FileRefusedError, display_path, read_regular
from app.services import journal, key_grants, request_completion
from app.services.aliases import AliasBook
from app.services.certificates import create_certificate
from app.services.operations import operation
from app.services.private_keys import seal_key
from app.services.request_completion import Completion
from app.services.session import Session, write_transaction
from models import Certificate, statements
from models.base import utcnow
from models.permissions import CERTIFICATES_IMPORT

FILES_PER_TRANSACTION = 500


# Parsed files wait in memory for their batch: a batch of large bundles commits early.
BYTES_PER_TRANSACTION = 64 * 1024 * 1024


MAX_IMPORT_FILE_SIZE = 20 * 1024 * 1024


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
    # The pending requests the file's certificates completed (and what they renewed).
    completions: list[Completion] = field(default_factory=list)

    @property
    def requests_completed(self) -> list[str]:
        """The aliases of the pending requests the file's certificates completed."""
        return [c.request for c in self.completions]

    @property
    def superseded(self) -> list[str]:
        """The new aliases of the certificates those renewed (now disabled)."""
        return [c.superseded for c in self.completions if c.superseded]

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

PROGRESS_INTERVAL_S = 0.1  # the bar moves smoothly without a signal per certificate


class _Progress:
    """Steps of an import, for `progress(done, total, path)`: one per file read, and two
    per certificate, once read (its facts) and once stored. A file not read yet counts
    as one certificate, so the total grows (or shrinks) as bundles are read; `done` only
    grows. Calls are PROGRESS_INTERVAL_S apart at least: a signal per certificate would
    cost the GUI more than the import."""

    def __init__(self, callback: ProgressCallback | None, files: int):
        self._callback = callback
        self.done = 0
        self.total = 3 * files
        self._last = -PROGRESS_INTERVAL_S

    def file_read(self, path: str, certificates: int) -> None:
        self.total += 2 * certificates - 2
        self.step(path)

    def step(self, path: str) -> None:
        self.done += 1
        if self._callback is None:
            return
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._callback(self.done, max(self.total, self.done), path)


@dataclass
class _ReadFile:
    """A file read and parsed outside the write lock, waiting to be stored."""

    path: str
    alias: str | None
    parsed: ParsedFile | None = None
    facts: list[CertificateFacts] = field(default_factory=list)
    failed: FileResult | None = None
    size: int = 0


@operation("certificate.import", CERTIFICATES_IMPORT, target="paths")
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
    report = ImportReport()
    total = len(paths)
    steps = _Progress(progress, total)
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
            item = _read_file(path, alias if index == 0 else None, file_password, steps)
            batch.append(item)
            batch_bytes += item.size
            index += 1
        if not _store_batch(session, batch, report, steps):
            report.not_imported = total - len(report.files)
            return report
    if not report.cancelled:
        _retry_orphan_keys(session, report, password, passwords or {})
    return report


def retry_with_password(
    session: Session, report: ImportReport, path: str, password: str
) -> ImportReport:
    """`report` with the file `path` imported again with `password` (the one it asked
    for): its result replaced where it stood, and why the retry stopped, if it did."""
    return merged(report, import_files(session, [path], password=password))


def merged(report: ImportReport, retry: ImportReport) -> ImportReport:
    """`report` with the results of `retry`, an import of some of its files again, in
    place of their first results; a retry that stopped says so for the whole."""
    again = {f.path: f for f in retry.files}
    return ImportReport(
        files=[again.get(f.path, f) for f in report.files],
        cancelled=report.cancelled or retry.cancelled,
        stopped=retry.stopped or report.stopped,
        not_imported=retry.not_imported or report.not_imported,
    )


def _store_batch(
    session: Session, batch: list[_ReadFile], report: ImportReport, steps: _Progress
) -> bool:
    """Store one batch in one transaction; False (and `report.stopped`) when it could not
    be committed, in which case none of it was."""
    try:
        with write_transaction(session):
            results = _store_files(session, batch, steps)
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
    steps = _Progress(None, 0)
    retried = [
        _read_file(report.files[i].path, None, passwords.get(report.files[i].path, password), steps)
        for i in waiting
    ]
    try:
        with write_transaction(session):
            results = _store_files(session, retried, steps)
    except (StoreBusyError, StoreFullError, StoreDamagedError) as exc:
        report.stopped = str(exc)  # the keys' first results stand: "matches no certificate"
        return
    for i, result in zip(waiting, results, strict=True):
        report.files[i] = result


@operation("certificate.import_data", CERTIFICATES_IMPORT, target="name")
def import_bytes(
    session: Session,
    name: str,
    data: bytes,
    alias: str | None = None,
    password: str | None = None,
) -> FileResult:
    steps = _Progress(None, 0)
    item = _parse_data(name, data, alias, password, steps)
    with write_transaction(session):
        return _store_files(session, [item], steps)[0]


def _read_file(path: str, alias: str | None, password: str | None, steps: _Progress) -> _ReadFile:
    try:
        data = read_regular(path, MAX_IMPORT_FILE_SIZE)
    except FileRefusedError as exc:
        steps.file_read(path, 0)
        return _ReadFile(path, alias, failed=FileResult(path, error=exc.reason))
    return _parse_data(path, data, alias, password, steps)


def _parse_data(
    name: str, data: bytes, alias: str | None, password: str | None, steps: _Progress
) -> _ReadFile:
    item = _ReadFile(name, alias, size=len(data))
    try:
        secret = secret_bytes(password) if password is not None else None
        with quiet():
            item.parsed = parse(data, secret)
            steps.file_read(name, len(item.parsed.certificates))
            for cert in item.parsed.certificates:
                item.facts.append(_facts(cert))
                steps.step(name)
    except PasswordRequiredError as exc:
        item.failed = FileResult(name, error=str(exc), needs_password=True)
    except CertdeskError as exc:
        item.failed = FileResult(name, error=str(exc))
    return item


def _store_files(session: Session, items: list[_ReadFile], steps: _Progress) -> list[FileResult]:
    """Store the files read, inside the caller's transaction: one result per file."""
    batch = _Batch(session, [item for item in items if item.failed is None])
    results = [_store_file(batch, item, steps) for item in items]
    batch.flush()
    touched = statements.keys_reached(session.store.db, batch.completed)
    key_grants.sync(session, key_grants.keys(*batch.fresh, *touched), batch.fresh)
    return results


def _store_file(batch: "_Batch", item: _ReadFile, steps: _Progress) -> FileResult:
    if item.failed is not None:
        return item.failed
    result = FileResult(item.path, kind=item.parsed.kind)
    mark = batch.mark()
    try:
        if batch.plain(item):
            # Nothing written yet, and nothing in it can fail once a certificate is kept.
            _store_parsed(batch, item, result, steps, at_once=False)
        else:
            batch.flush()
            with batch.session.store.db.atomic():  # a savepoint: lands whole or not at all
                _store_parsed(batch, item, result, steps, at_once=True)
            batch.written_at_once()
    except OrphanKeyError as exc:
        batch.undo(mark)
        return FileResult(item.path, kind=result.kind, error=str(exc), orphan_key=True)
    except CertdeskError as exc:
        batch.undo(mark)
        return FileResult(item.path, kind=result.kind, error=str(exc))
    return result


def _facts(cert: x509.Certificate) -> CertificateFacts:
    try:
        return certificate_facts(cert)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ImportFormatError(f"damaged certificate ({exc})") from None


def _store_parsed(
    batch: "_Batch", item: _ReadFile, result: FileResult, steps: _Progress, at_once: bool
) -> None:
    """Store a file's certificates and keys: `at_once` writes each as it comes (a file
    with keys or for a pending request), else they wait in the batch."""
    session = batch.session
    name, alias = result.name, item.alias
    keys = {spki_sha256_of_public_key(k.public_key()): k for k in item.parsed.keys}
    used_keys: set[str] = set()
    for facts in item.facts:
        steps.step(item.path)
        key = keys.get(facts.spki_sha256) if facts.spki_sha256 else None
        if key is not None:
            used_keys.add(facts.spki_sha256)
        existing = batch.stored.get(facts.sha256)
        if existing is not None:
            result.duplicates.append(existing)
            if key is not None:
                _add_key(batch, _by_sha256(session, facts.sha256), key, name, result)
            continue
        # Issued for a pending request: it gets the request's key, alias and settings.
        if facts.spki_sha256 in batch.requested:
            completion = request_completion.complete_with(session, facts, name)
            if completion is not None:
                named = [a for a in (completion.alias, completion.superseded) if a]
                found = statements.id_and_alias_by_column(session.store.db, "alias", named)
                batch.completed += [cid for cid, _ in found]
                result.imported.append(completion.alias)
                result.completions.append(completion)
                batch.keep(facts.sha256, completion.alias)
                if completion.superseded:
                    batch.renamed(completion.superseded)
                continue
        explicit = alias is not None and not result.imported
        chosen = batch.aliases.available(alias) if explicit else None
        chosen = chosen or batch.aliases.unique(alias or facts.common_name or facts.sha256[:16])
        if at_once:
            sealed = seal_key(session, key, batch.fresh) if key else None
            create_certificate(session, facts, chosen, sealed)
            journal.record(
                session.user_name, "certificate.import", chosen, file=name, sha256=facts.sha256
            )
            batch.keep(facts.sha256, chosen)
        else:
            batch.add(facts, chosen, name)
        result.imported.append(chosen)
        result.keys_sealed += key is not None
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
            _add_key(batch, holder, key, name, result)


class _Batch:
    """What one transaction's files need to know of the store, read once for all of them
    (the certificates already stored, the keys of pending requests, the aliases taken),
    and the plain files' new certificates, inserted together with their audit events."""

    def __init__(self, session: Session, items: list[_ReadFile]):
        self.session = session
        # The data keys of the keys sealed in this transaction, and the certificates that
        # completed a request (their keys' grantees change), for key_grants.sync.
        self.fresh: dict[int, bytes] = {}
        self.completed: list[int] = []
        db = session.store.db
        facts = [f for item in items for f in item.facts]
        # SHA-256 -> alias of the certificates stored, or stored by this batch.
        self.stored: dict[str, str] = statements.aliases_by_sha256(
            db, sorted({f.sha256 for f in facts})
        )
        self.requested = statements.keys_of_pending_requests(
            db, sorted({f.spki_sha256 for f in facts if f.spki_sha256})
        )
        bases = [
            item.alias or f.common_name or f.sha256[:16]
            for item in items
            for f in item.facts
            if f.sha256 not in self.stored
        ]
        self.aliases = AliasBook(db, bases)
        self._rows: list[tuple] = []
        self._ders: list[tuple[int, bytes]] = []
        self._events: list[tuple[str, dict]] = []
        self._kept: list[str] = []  # the SHA-256s of the batch's new certificates
        self._renames = 0
        self._next_id: int | None = None

    def plain(self, item: _ReadFile) -> bool:
        """A file of certificates only, none for a pending request: stored in the batch."""
        return not item.parsed.keys and not any(f.spki_sha256 in self.requested for f in item.facts)

    def add(self, facts: CertificateFacts, alias: str, file: str) -> None:
        if self._next_id is None:
            self._next_id = statements.last_certificate_id(self.session.store.db) + 1
        # The id SQLite would give (the largest plus one): the DER rows need it.
        cid, self._next_id = self._next_id, self._next_id + 1
        self._rows.append(
            (
                cid,
                alias,
                facts.sha1,
                facts.sha256,
                facts.subject,
                facts.issuer,
                facts.serial,
                facts.not_before,
                facts.not_after,
                facts.spki_sha256,
                facts.key_algorithm,
                utcnow(),
            )
        )
        self._ders.append((cid, facts.der))
        self._events.append((alias, {"file": file, "sha256": facts.sha256}))
        self.keep(facts.sha256, alias)

    def keep(self, sha256: str, alias: str) -> None:
        """A new certificate of the batch: the next copy is a duplicate."""
        self.stored[sha256] = alias
        self._kept.append(sha256)
        self.aliases.take(alias)

    def flush(self) -> None:
        """Insert the certificates waiting, with their DER and audit events."""
        if not self._rows:
            return
        db = self.session.store.db
        statements.insert_certificates(db, NEW_CERTIFICATE_COLUMNS, self._rows)
        statements.insert_certificate_ders(db, self._ders)
        journal.record_each(self.session.user_name, "certificate.import", self._events)
        for waiting in (self._rows, self._ders, self._events):
            waiting.clear()

    def renamed(self, alias: str) -> None:
        """A renewal gave the certificate it renewed `alias`: a copy of that one is a
        duplicate of this name now."""
        self.aliases.take(alias)
        self._renames += 1
        self._read_stored_aliases()

    def mark(self) -> tuple[int, int, int, int]:
        return len(self._rows), len(self._kept), self.aliases.mark(), self._renames

    def undo(self, mark: tuple[int, int, int, int]) -> None:
        """Forget what a file that failed added since `mark` (its savepoint rolled back
        what it wrote at once, renames too)."""
        rows, kept, aliases, renames = mark
        if len(self._rows) > rows:
            self._next_id = self._rows[rows][0]
        for waiting in (self._rows, self._ders, self._events):
            del waiting[rows:]
        for sha256 in self._kept[kept:]:
            del self.stored[sha256]
        del self._kept[kept:]
        self.aliases.undo(aliases)
        if self._renames > renames:
            self._read_stored_aliases()

    def written_at_once(self) -> None:
        """A file was written as it came: SQLite gave its certificates' ids."""
        self._next_id = None

    def _read_stored_aliases(self) -> None:
        db = self.session.store.db
        self.stored.update(statements.aliases_by_sha256(db, sorted(self.stored)))


# The columns of `_Batch.add`'s rows, in order.
NEW_CERTIFICATE_COLUMNS = (
    "id",
    "alias",
    "sha1",
    "sha256",
    "subject",
    "issuer",
    "serial",
    "not_before",
    "not_after",
    "spki_sha256",
    "key_algorithm",
    "imported_at",
)


def _add_key(batch: "_Batch", cert: Certificate, key, name: str, result: FileResult) -> None:
    """Give a stored certificate the private key of its public key, unless it has one:
    the same public key means the same private key, so there is nothing to add then."""
    if cert.private_key_id is not None:
        result.keys_known.append(cert.alias)
        return
    session = batch.session
    cert.private_key = seal_key(session, key, batch.fresh)
    cert.save()
    result.keys_linked.append(cert.alias)
    result.keys_sealed += 1
    journal.record(session.user_name, "certificate.key_linked", cert.alias, file=name)


def _by_sha256(session: Session, sha256: str) -> Certificate:
    """A stored certificate (one a file gives a key to)."""
    return Certificate.get_by_id(statements.certificate_id_by_sha256(session.store.db, sha256))
