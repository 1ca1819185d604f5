"""Attestations (models.attestations): each change of an owner, a policy, a group
membership or a request signs the rows it writes with its user's key; a key is handed
on only through rows whose attestation holds (app.services.key_grants `Checker`)."""

import hashlib
from collections.abc import Iterable, Sequence

from app.crypto.key_wraps import attestation
from app.crypto.user_keys import PublicKeys
from app.services import journal
from app.services.session import Session
from models import Attestation, statements
from models import attestations as A
from models.base import blob

ATTESTED_ITEMS = 10_000


def _attest(session: Session, items: Iterable[str], revokes: bool = False) -> int | None:
    """The id of an attestation of `items` by the signed-in user, for the rows that read
    them to name (or, `revokes`, of the rows just removed); None for a user of a store
    made before key pairs who has none yet."""
    if session.keys is None:
        return None
    text = "\n".join(sorted(set(items)))
    statement = attestation(session.store.store_id, session.user_name, text, revokes)
    signature = session.keys.sign(statement)
    row = Attestation.create(
        signer=session.user_id, items=text, signature=signature, revokes=revokes
    )
    return row.id


def take_over(
    session: Session, signer_id: int, signer: str, keys: PublicKeys, could_write: frozenset[str]
) -> None:
    """In the caller's transaction, before `signer`'s role changes: what they attested
    that still verifies with their `keys`, and that their role as it was (its
    permissions `could_write`) may write, signed again by the signed-in Administrator,
    so that the rows they wrote in their former role go on handing keys on (the
    `Checker` reads a signer's role as it is now). An item their role could not write
    (a row they signed with their own code) is left out: never laundered."""
    store_id = session.store.store_id
    for row in Attestation.select().where(Attestation.signer == signer_id):
        if not isinstance(row.items, str):
            continue
        statement = attestation(store_id, signer, row.items, row.revokes)
        if not keys.verify(blob(row.signature), statement):
            continue
        items = [i for i in row.items.split("\n") if row.revokes or _writable(i, could_write)]
        if not items:
            continue
        text = "\n".join(items)
        ours = attestation(store_id, session.user_name, text, row.revokes)
        Attestation.update(
            signer=session.user_id, items=text, signature=session.keys.sign(ours)
        ).where(Attestation.id == row.id).execute()


def _writable(item: str, permissions: frozenset[str]) -> bool:
    kind = item.partition(A.SEP)[0]
    return bool(A.ATTESTED_BY.get(kind, frozenset()) & permissions)


def attest_rows(session: Session, what: str, ids: Sequence[int]) -> None:
    """In the caller's transaction: the rows of `what` (models.statements ATTESTED) with
    these ids, just written by the signed-in user, attested as they read now."""
    db = session.store.db
    # An attestation per ATTESTED_ITEMS rows: each is read whole when checked.
    for part in statements.chunks(statements.attestation_items(db, what, ids), ATTESTED_ITEMS):
        attestation_id = _attest(session, (item for _, item in part))
        if attestation_id is not None:
            statements.set_attestation(db, what, [row_id for row_id, _ in part], attestation_id)


def revoke_rows(session: Session, what: str, ids: Sequence[int]) -> None:
    """In the caller's transaction, before the rows of `what` with these ids are removed
    or changed: their items, as they read now, revoked, so that the rows put back with
    their old attestation hand nothing on. Each revocation is an audit event
    (`rows.revoke`, naming it and the hash of its items), which `key_grants.Checker`
    finds again: a revocation removed from the database is tampering."""
    db = session.store.db
    for part in statements.chunks(statements.attestation_items(db, what, ids), ATTESTED_ITEMS):
        items = [item for _, item in part]
        revocation = _attest(session, items, revokes=True)
        if revocation is not None:
            text = "\n".join(sorted(set(items)))
            journal.record(
                session.user_name,
                "rows.revoke",
                f"attestation {revocation}",
                items=len(set(items)),
                sha256=hashlib.sha256(text.encode()).hexdigest(),
            )


def attest_all(session: Session) -> None:
    """In the caller's transaction, as an older store's custodian is made: every row that
    decides who may sign attested as it is, taken on trust once like the users' keys."""
    db = session.store.db
    for what in statements.ATTESTED:
        attest_rows(session, what, statements.unattested(db, what))
