"""Enabling, disabling and deleting certificates, one or thousands in one transaction."""

from collections.abc import Sequence

from app.services import journal
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.services.targets import BulkResult, Ref, resolve, where_in
from models import Certificate, PrivateKey
from models.permissions import CERTIFICATES_DELETE, CERTIFICATES_ENABLE_DISABLE

TABLE = Certificate._meta.table_name
KEYS = PrivateKey._meta.table_name


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
    state = "enabled" if enabled else "disabled"
    with write_transaction(session):
        targets = resolve(refs, result)
        current = _enabled_by_id([t.id for t in targets])
        changing = [t for t in targets if current[t.id] != enabled]
        where_in(
            f"UPDATE {TABLE} SET enabled = {int(enabled)} WHERE id IN ({{}})",
            [t.id for t in changing],
        )
        journal.record_many(session.user_name, action, [t.alias for t in changing])
        changing_ids = {t.id for t in changing}
        for target in targets:
            done = target.id in changing_ids
            result.add(target.alias, True, state if done else f"already {state}")
        result.changed_ids = [t.id for t in changing]
    return result


@operation("certificate.delete", CERTIFICATES_DELETE, target="refs")
def delete_certificates(session: Session, refs: Sequence[Ref]) -> BulkResult:
    """Delete the certificates and destroy their private keys.

    `secure_delete` overwrites the freed content, and the checkpoint afterwards moves it
    out of the write-ahead log, so the sealed key bytes leave the files on disk.
    """
    result = BulkResult()
    with write_transaction(session):
        targets = resolve(refs, result)
        ids = [t.id for t in targets]
        keys = _private_keys_by_certificate(ids)
        where_in(f"DELETE FROM {TABLE} WHERE id IN ({{}})", ids)
        where_in(f"DELETE FROM {KEYS} WHERE id IN ({{}})", list(keys.values()))
        journal.record_many(session.user_name, "certificate.delete", [t.alias for t in targets])
        for target in targets:
            note = "deleted with its private key" if target.id in keys else "deleted"
            result.add(target.alias, True, note)
        result.changed_ids = ids
    if ids:
        session.store.checkpoint()
    return result


def _enabled_by_id(ids: list[int]) -> dict[int, bool]:
    rows = where_in(f"SELECT id, enabled FROM {TABLE} WHERE id IN ({{}})", ids)
    return {cid: bool(enabled) for cid, enabled in rows}


def _private_keys_by_certificate(ids: list[int]) -> dict[int, int]:
    sql = (
        f"SELECT id, private_key_id FROM {TABLE} WHERE private_key_id IS NOT NULL AND id IN ({{}})"
    )
    return dict(where_in(sql, ids))
