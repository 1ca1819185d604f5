"""Certificate signing requests: a new key generated and sealed in the store with its CSR,
the pending requests, renewals, and completing a request when the certificate issued
for it is imported (`request_completion`, which the import calls).

The private key never leaves the store: it is sealed the moment it exists, and the
issued certificate is linked to that sealed key when it is imported.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import peewee
from cryptography import x509

from app.crypto import csr, keygen
from app.crypto.certinfo import key_algorithm_text, name_text
from app.crypto.csr import RequestSpec
from app.crypto.keygen import DEFAULT_KEY_SPEC, KeySpec
from app.crypto.parse import quietly
from app.errors import CertdeskError, NotFoundError, ValidationError
from app.services import (
    attestations,
    certificate_import,
    certificates,
    journal,
    key_grants,
    private_keys,
)
from app.services.aliases import available_alias, validate_alias
from app.services.certificate_groups import find_group, validate_group_name
from app.services.certificate_import import FileResult
from app.services.operations import operation
from app.services.session import Session, write_transaction
from models import (
    Certificate,
    CertificateDer,
    CertificateGroup,
    CertificateGroupMember,
    PrivateKey,
    Request,
    RequestGroup,
    User,
)
from models.permissions import (
    CERTIFICATES_IMPORT,
    CERTIFICATES_REQUEST,
    CERTIFICATES_VIEW,
    GROUPS_ADD_CERTIFICATES,
    GROUPS_MANAGE,
    POLICIES_MANAGE,
)

PENDING = Request.STATUS_PENDING
COMPLETED = Request.STATUS_COMPLETED
CANCELLED = Request.STATUS_CANCELLED


@dataclass(frozen=True)
class RequestInfo:
    id: int
    alias: str
    subject: str
    key_algorithm: str  # as certificates show it: "RSA 3072", "EC P-256", "Ed25519"
    created_at: datetime
    renews: str | None  # alias of the certificate it renews (its current alias)
    status: str  # "pending" | "completed" | "cancelled"
    groups: tuple[str, ...]
    owner: str | None
    csr_pem: str
    certificate: str | None  # alias of the issued certificate once completed


@dataclass(frozen=True)
class _Plan:
    alias: str
    groups: tuple[str, ...]  # names as stored, or as they will be created
    owner_id: int | None
    renews_id: int | None


@operation("request.create", CERTIFICATES_REQUEST, target="alias")
def create_request(
    session: Session,
    alias: str,
    key: KeySpec,
    spec: RequestSpec,
    groups: Sequence[str] = (),
    owner: str | None = None,
    renews: str | None = None,
) -> RequestInfo:
    """Generate a key of type `key` in the store, seal it, and keep a pending request for
    a CSR built from `spec`. Everything is checked before the (slow) key generation; a
    refused value raises ValidationError naming its field. Call off the GUI thread."""
    if groups:
        session.authorize(GROUPS_ADD_CERTIFICATES, "request.create", alias)
    if owner is not None:
        session.authorize(POLICIES_MANAGE, "request.create", alias)
    return _create(session, alias, key, spec, groups, owner, renews)


def _create(
    session: Session,
    alias: str,
    key: KeySpec,
    spec: RequestSpec,
    groups: Sequence[str],
    owner: str | None,
    renews: str | None,
) -> RequestInfo:
    _plan(session, alias, key, spec, groups, owner, renews)  # fail before the slow part
    private_key = keygen.generate_key(key)
    request_csr = csr.build_csr(private_key, spec)
    with write_transaction(session):
        # Again: another window or process may have taken the alias meanwhile.
        plan = _plan(session, alias, key, spec, groups, owner, renews)
        group_rows = [_group(session, name) for name in plan.groups]
        fresh: dict[int, bytes] = {}
        renewed = Certificate.get_or_none(Certificate.id == plan.renews_id)
        pin_of = None if renewed is None else renewed.private_key
        sealed = private_keys.seal_key(session, private_key, fresh, pin_of)
        del private_key
        request = Request.create(
            alias=plan.alias,
            subject=name_text(lambda: request_csr.subject),
            csr_pem=csr.csr_pem(request_csr),
            private_key=sealed,
            renews=plan.renews_id,
            owner=plan.owner_id,
        )
        attestations.attest_rows(session, "request_owner", [request.id])
        attestations.attest_rows(session, "request_renews", [request.id])
        groups = [RequestGroup.create(request=request, group=group) for group in group_rows]
        attestations.attest_rows(session, "rg", [row.id for row in groups])
        key_grants.sync(session, key_grants.keys(*fresh), fresh)
        details = {"request": request.id, "key": key.label, "subject": request.subject}
        if renews is not None:
            details["renews"] = renews
        journal.record(session.user_name, "request.create", plan.alias, **details)
    return _info(request.id)


def _plan(
    session: Session,
    alias: str,
    key: KeySpec,
    spec: RequestSpec,
    groups: Sequence[str],
    owner: str | None,
    renews: str | None,
) -> _Plan:
    if not isinstance(key, KeySpec):
        raise ValidationError("key", "choose a key type")
    renews_id = None
    if renews is not None:
        renewed = Certificate.get_or_none(Certificate.alias == renews)
        if renewed is None:
            raise ValidationError("renews", f"no certificate with alias {renews!r}")
        if alias.strip() and validate_alias(alias) != renewed.alias:
            raise ValidationError(
                "alias", f"a renewal keeps the alias of the certificate it renews ({renews!r})"
            )
        alias, renews_id = renewed.alias, renewed.id
    else:
        alias = available_alias(session.store.db, alias)
    same = Request.alias == alias
    if renews_id is not None:  # a renamed certificate keeps its pending renewal
        same = same | (Request.renews == renews_id)
    pending = Request.select(Request.id).where(same, Request.status == PENDING).first()
    if pending is not None:
        what = "renews" if renews is not None else "uses"
        raise ValidationError(
            "alias", f"the pending request {pending.id} already {what} {alias!r}; cancel it first"
        )
    csr.validate(spec, key)
    names = []
    for raw in dict.fromkeys(groups):
        try:
            name = validate_group_name(raw)
        except ValidationError as exc:
            raise ValidationError("groups", f"{raw!r} {exc.reason}") from None
        group = find_group(name)
        if group is None and not session.can(GROUPS_MANAGE):
            raise ValidationError(
                "groups",
                f"no certificate group named {name!r} (creating one needs {GROUPS_MANAGE})",
            )
        names.append(group.name if group else name)
    owner_id = None
    if owner is not None and owner.strip():
        user = User.get_or_none((User.name == owner.strip()) & ~User.deleted)
        if user is None:
            raise ValidationError("owner", f"no user named {owner.strip()!r}")
        owner_id = user.id
    return _Plan(alias, tuple(dict.fromkeys(names)), owner_id, renews_id)


def _group(session: Session, name: str) -> CertificateGroup:
    group = find_group(name)
    if group is None:  # _plan allowed it: the user may manage groups
        group = CertificateGroup.create(name=name)
        journal.record(session.user_name, "group.create", name)
    return group


@operation("request.list", CERTIFICATES_VIEW, reads=True)
def list_requests(session: Session, include_closed: bool = False) -> list[RequestInfo]:
    """Pending requests (and, with include_closed, completed and cancelled ones), newest
    first."""
    return _infos(None if include_closed else Request.status == PENDING)


@operation("request.show", CERTIFICATES_VIEW, reads=True)
def get_request(session: Session, request_id: int) -> RequestInfo:
    return _info(request_id)


@operation("request.cancel", CERTIFICATES_REQUEST, target=lambda a: f"request {a['request_id']}")
def cancel_request(session: Session, request_id: int) -> None:
    """Cancel a pending request and destroy its unused private key."""
    with write_transaction(session):
        request = _get(request_id)
        if request.status != PENDING:
            raise CertdeskError(
                f"The request {request_id} ({request.alias!r}) is {request.status}; "
                "only a pending request can be cancelled."
            )
        key_id = request.private_key_id
        request.private_key = None
        request.status = CANCELLED
        request.save()
        destroyed = False
        if key_id is not None and not (
            Certificate.select().where(Certificate.private_key == key_id).exists()
        ):
            PrivateKey.delete_by_id(key_id)
            destroyed = True
        journal.record(
            session.user_name,
            "request.cancel",
            request.alias,
            request=request_id,
            key_destroyed=destroyed,
        )
    # secure_delete wiped the row; the checkpoint moves its page images out of the WAL.
    session.store.checkpoint()


@operation("request.renewal_prefill", CERTIFICATES_VIEW, reads=True)
def renewal_prefill(session: Session, ref: int | str) -> tuple[KeySpec | None, RequestSpec]:
    """The key type and request the certificate `alias` was issued with, to start a
    renewal from; the key type is None when the certificate's key is not one the wizard
    offers (RSA 1024, DSA, other curves)."""
    cert = certificates.find(ref)
    parsed = quietly(x509.load_der_x509_certificate, CertificateDer.get_by_id(cert.id).der)
    try:
        key_spec = keygen.spec_of_public_key(quietly(parsed.public_key))
    except Exception:  # a key cryptography cannot load: no type to propose
        key_spec = None
    return key_spec, csr.prefill_from_certificate(parsed)


@operation("request.renew", CERTIFICATES_REQUEST, target="ref", audit_as="request.create")
def renew(
    session: Session, ref: int | str, key: KeySpec | None = None, spec: RequestSpec | None = None
) -> RequestInfo:
    """A new key and CSR for the certificate `ref` (id or alias), which stays usable until
    the issued certificate is imported; then that takes over its alias, owner, groups,
    policies and settings. Without `key` or `spec` they come from the certificate."""
    prefilled_key, prefilled_spec = renewal_prefill(session, ref)
    key = key or prefilled_key or DEFAULT_KEY_SPEC
    if spec is None:
        spec = _usages_for(prefilled_spec, key)
    cert = certificates.find(ref)
    alias = cert.alias
    owner = cert.owner.name if cert.owner_id is not None else None
    groups = [
        name
        for (name,) in CertificateGroup.select(CertificateGroup.name)
        .join(CertificateGroupMember)
        .where(CertificateGroupMember.certificate == cert.id)
        .tuples()
    ]
    return _create(session, alias, key, spec, groups, owner, renews=alias)


def _usages_for(spec: RequestSpec, key: KeySpec) -> RequestSpec:
    """The prefilled request without the key usages the new key type cannot perform
    (an RSA certificate's Key Encipherment when renewing with an ECDSA key)."""
    kept = []
    for usage in spec.key_usages:
        probe = (usage, "key_agreement") if usage.endswith("_only") else (usage,)
        try:
            csr.validate(RequestSpec(common_name="probe", key_usages=probe), key)
        except ValidationError:
            continue
        kept.append(usage)
    if "key_agreement" not in kept:
        kept = [u for u in kept if not u.endswith("_only")]
    if spec.key_usages and not kept:
        kept = ["digital_signature"]
    return replace(spec, key_usages=tuple(kept))


@operation("request.complete", CERTIFICATES_REQUEST, target="path")
def import_issued(session: Session, path: str | Path, password: str | None = None) -> FileResult:
    """Import the certificate issued for a pending request (`certdesk request import`).
    A file holding no certificate for a pending request is refused and nothing is kept."""
    # It imports a file too. A role that may request but not import is refused here,
    # before the transaction: inside it, the refusal's audit event would roll back.
    session.authorize(CERTIFICATES_IMPORT, "request.complete", str(path))
    with write_transaction(session):
        report = certificate_import.import_files(session, [path], password=password)
        if report.stopped:
            raise CertdeskError(report.stopped)
        result = report.files[0]
        if result.error:
            raise CertdeskError(f"{path}: {result.error}")
        if not result.requests_completed:
            if result.duplicates:
                raise CertdeskError(
                    f"{path}: already in the store as {result.duplicates[0]!r}; "
                    "no pending request waits for it"
                )
            raise CertdeskError(
                f"{path}: matches no pending request (its key is not the key of any); "
                "nothing imported. Use `certdesk import` for other certificates."
            )
    return result


def _get(request_id: int) -> Request:
    request = Request.get_or_none(Request.id == request_id)
    if request is None:
        raise NotFoundError(f"No request with id {request_id}.")
    return request


def _info(request_id: int) -> RequestInfo:
    found = _infos(Request.id == request_id)
    if not found:
        raise NotFoundError(f"No request with id {request_id}.")
    return found[0]


def _infos(where) -> list[RequestInfo]:
    # The model's `alias` field hides Model.alias() and ModelAlias.alias: spelled out.
    renewed = peewee.ModelAlias(Certificate, "renewed")
    issued = peewee.ModelAlias(Certificate, "issued")
    renewed_alias = peewee.FieldAlias.create(renewed, Certificate.alias)
    issued_alias = peewee.FieldAlias.create(issued, Certificate.alias)
    query = (
        Request.select(
            Request.id,
            Request.alias,
            Request.subject,
            PrivateKey.algorithm,
            Request.created_at,
            renewed_alias,
            Request.status,
            User.name,
            Request.csr_pem,
            issued_alias,
        )
        .join_from(Request, PrivateKey, peewee.JOIN.LEFT_OUTER)
        .join_from(Request, renewed, peewee.JOIN.LEFT_OUTER, on=(Request.renews == renewed.id))
        .join_from(Request, User, peewee.JOIN.LEFT_OUTER, on=(Request.owner == User.id))
        .join_from(Request, issued, peewee.JOIN.LEFT_OUTER, on=(Request.certificate == issued.id))
        .order_by(Request.created_at.desc(), Request.id.desc())
        .tuples()
    )
    if where is not None:
        query = query.where(where)
    rows = list(query)
    groups: dict[int, list[str]] = {}
    group_query = (
        RequestGroup.select(RequestGroup.request, CertificateGroup.name)
        .join(CertificateGroup)
        .where(RequestGroup.request.in_([row[0] for row in rows]))
        .tuples()
    )
    for request_id, name in group_query:
        groups.setdefault(request_id, []).append(name)
    return [
        RequestInfo(
            id=rid,
            alias=alias,
            subject=subject,
            key_algorithm=algorithm or _csr_key_algorithm(pem),
            created_at=created_at,
            renews=renews,
            status=status,
            groups=tuple(sorted(groups.get(rid, []), key=str.casefold)),
            owner=owner,
            csr_pem=pem,
            certificate=certificate,
        )
        for (
            rid,
            alias,
            subject,
            algorithm,
            created_at,
            renews,
            status,
            owner,
            pem,
            certificate,
        ) in rows
    ]


def _csr_key_algorithm(pem: str) -> str:
    """A cancelled request's key is gone; its CSR still says which type it was."""
    try:
        request = quietly(x509.load_pem_x509_csr, pem.encode("ascii"))
        return key_algorithm_text(quietly(request.public_key))
    except Exception:
        return ""
