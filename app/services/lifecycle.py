"""Enabling, disabling and deleting certificates, one or thousands in one transaction."""

from collections.abc import Sequence

from app.services import journal
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.services.targets import BulkResult, Outcome, Ref, Target, resolve, split_refs
from models import statements
from models.permissions import CERTIFICATES_DELETE, CERTIFICATES_ENABLE_DISABLE


@operation("certificate.enable", CERTIFICATES_ENABLE_DISABLE, target="refs")
def enable_certificates(session: Session, refs: Sequence[Ref]) -> BulkResult:
    """Enable every certificate named; those already enabled are reported, unchanged."""
    return _set_enabled(session, refs, True)


@operation("certificate.disable", CERTIFICATES_ENABLE_DISABLE, target="refs")
def disable_certificates(session: Session, refs: Sequence[Ref]) -> BulkResult:
    """Disable every certificate named; those already disabled are reported, unchanged."""
    return _set_enabled(session, refs, False)


def _set_enabled(session: Session, refs: Sequence[Ref], enabled: bool) -> BulkResult:
    action = "certificate.enable" if enabled else "certificate.disable"
    result = BulkResult()
    db = session.store.db
    state = "enabled" if enabled else "disabled"
    with write_transaction(session):
        # The write finds the certificates that change; only the others are read.
        changed = [
            Target(cid, alias, not enabled)  # as it was before the write
            for column, values in zip(("id", "alias"), split_refs(refs), strict=True)
            for cid, alias in statements.set_enabled(db, column, values, enabled)
        ]
        targets = resolve(db, refs, result, known=changed)
        changing = [t for t in targets if t.enabled != enabled]
        journal.record_many(session.user_name, action, [t.alias for t in changing])
        result.outcomes.extend(
            Outcome(t.alias, True, state if t.enabled != enabled else f"already {state}")
            for t in targets
        )
        result.changed_ids = [t.id for t in changing]
    return result


@operation("certificate.delete", CERTIFICATES_DELETE, target="refs")
def delete_certificates(session: Session, refs: Sequence[Ref]) -> BulkResult:
    """Delete the certificates and destroy their private keys.

    `secure_delete` overwrites the freed content, and the checkpoint afterwards moves it
    out of the write-ahead log, so the sealed key bytes leave the files on disk.
    """
    result = BulkResult()
    db = session.store.db
    with write_transaction(session):
        targets = resolve(db, refs, result)
        ids = [t.id for t in targets]
        keys = statements.private_keys_by_certificate(db, ids)
        statements.delete_certificates(db, ids)
        statements.delete_private_keys(db, list(keys.values()))
        journal.record_many(session.user_name, "certificate.delete", [t.alias for t in targets])
        for target in targets:
            note = "deleted with its private key" if target.id in keys else "deleted"
            result.add(target.alias, True, note)
        result.changed_ids = ids
    if ids:
        session.store.checkpoint()
    return result
