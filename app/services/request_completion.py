"""Completing a pending request when the certificate issued for it is imported."""

from dataclasses import dataclass

from app.crypto.certinfo import CertificateFacts
from app.services import attestations, certificates, journal
from app.services.aliases import alias_taken, unique_alias
from app.services.session import Session
from models import (
    Certificate,
    CertificateGroupMember,
    PolicyCertificate,
    Request,
    RequestGroup,
    statements,
)
from models.base import utcnow


@dataclass(frozen=True)
class Completion:
    """What importing a certificate against a pending request did."""

    request: str  # the request's alias
    alias: str  # the alias the new certificate got
    superseded: str | None  # the renewed certificate's new alias, when it renewed one


def complete_with(session: Session, facts: CertificateFacts, file: str) -> Completion | None:
    """Called by the import for each new certificate, inside its transaction: when a
    pending request holds the certificate's key, create the certificate with that key,
    the request's alias, owner and groups, complete the request, and, for a renewal,
    hand the renewed certificate's alias, owner, groups, policies and settings over to
    it and disable the renewed one under a derived alias. None when no request matches
    (the caller imports the certificate as usual)."""
    request_id = (
        statements.pending_request_for_key(session.store.db, facts.spki_sha256)
        if facts.spki_sha256
        else None
    )
    if request_id is None:
        return None
    request = Request.get_by_id(request_id)
    old = Certificate.get_or_none(Certificate.id == request.renews_id)
    superseded = None
    was_enabled = True
    if old is not None:
        alias, was_enabled = old.alias, old.enabled
        superseded = _superseded_alias(session, alias)
        old.alias, old.enabled = superseded, False
        old.save()
    elif alias_taken(session.store.db, request.alias):  # taken since by a plain import
        alias = unique_alias(session.store.db, request.alias)
    else:
        alias = request.alias
    cert = certificates.create_certificate(session, facts, alias, request.private_key)
    group_ids = {
        gid
        for (gid,) in RequestGroup.select(RequestGroup.group)
        .where(RequestGroup.request == request.id)
        .tuples()
    }
    members: list[int] = []
    if old is not None:
        cert.owner = old.owner_id if old.owner_id is not None else request.owner_id
        # A disabled certificate's successor starts disabled too: renewing must not
        # re-open what an administrator closed.
        cert.enabled = was_enabled
        cert.description = old.description
        cert.ask_reason = old.ask_reason
        cert.pin_hash = old.pin_hash
        cert.save()
        # Groups and policies grant use: they move. Owner, reason and PIN stay on the old
        # certificate too, so that re-enabling it never makes it easier to use.
        members = _move(CertificateGroupMember, old.id, cert.id)
        attestations.attest_rows(session, "pc", _move(PolicyCertificate, old.id, cert.id))
        group_ids -= {
            gid
            for (gid,) in CertificateGroupMember.select(CertificateGroupMember.group)
            .where(CertificateGroupMember.certificate == cert.id)
            .tuples()
        }
    elif request.owner_id is not None:
        cert.owner = request.owner_id
        cert.save()
    for gid in sorted(group_ids):
        members.append(CertificateGroupMember.create(group=gid, certificate=cert.id).id)
    attestations.attest_rows(session, "members", members)
    attestations.attest_rows(session, "owned", [cert.id])
    request.status, request.completed_at, request.certificate = (
        Request.STATUS_COMPLETED,
        utcnow(),
        cert.id,
    )
    request.save()
    user = session.user_name
    journal.record(
        user, "certificate.import", alias, file=file, sha256=facts.sha256, request=request.id
    )
    journal.record(user, "request.complete", request.alias, request=request.id, certificate=alias)
    if old is not None:
        journal.record(
            user,
            "certificate.renewed",
            alias,
            superseded=superseded,
            previous_sha256=old.sha256,
            enabled=was_enabled,
            sha256=facts.sha256,
            request=request.id,
        )
        journal.record(
            user, "certificate.superseded", superseded, renamed_from=alias, renewed_by=facts.sha256
        )
    return Completion(request.alias, alias, superseded)


def _move(model, old_id: int, new_id: int) -> list[int]:
    """The ids of the group memberships or policy links of certificate `old_id`, moved to
    `new_id`."""
    ids = [row.id for row in model.select(model.id).where(model.certificate == old_id)]
    model.update(certificate=new_id).where(model.id.in_(ids)).execute()
    return ids


def _superseded_alias(session: Session, alias: str) -> str:
    return unique_alias(session.store.db, alias, suffix=f" (superseded {utcnow():%Y-%m-%d})")
