"""Each private key's data key wrapped to exactly the users who may sign with it.

Who may is computed by one query (models.statements `_grantees`), scoped to the keys or
users a change is about: the owner, and everyone an enabled Allow policy names, directly
or through a user group, for the certificate, directly or through a certificate group.
Every change of owner, policy, membership or user calls `sync` in its own transaction:
wraps of users who may no longer sign are removed, and wraps are made for those who now
may. Making one needs the data
key: the one just sealed, or the custodian's wrap of it, which only a key custodian (an
Administrator) opens; anyone else is refused, and the change with it. Keys are wrapped
only to public keys the custodian certified (app.services.custody): a user whose keys
in the database are not the certified ones gets none, whoever changed them.

And wraps are made only through rows whose attestation (app.services.attestations)
holds: its signer's keys are the ones the custodian certified, their role is the one an
Administrator signed, that role is a built-in one that may write rows of the item's
kind, and the signature covers the item as the row reads now. So a row someone put in
or changed in the database, even signed with their own key, hands nothing on unless
their role could have written it through Certdesk (a custom role's permissions are the
custodian's, signed in the roster).
"""

import hashlib
from collections.abc import Mapping, Sequence

from app.crypto.key_wraps import attestation, data_key_purpose, pin_purpose
from app.crypto.pin_keys import PinKey, new_salt, pin_wrap
from app.crypto.sealing import Sealer, SealError
from app.crypto.user_keys import UserKeys, WrapError
from app.errors import (
    CustodianRequired,
    PermissionDenied,
    StoreDamagedError,
    TamperedError,
    ValidationError,
)
from app.services import custody, journal
from app.services.session import Session
from models import Attestation, AuditEvent, KeyGrant, PrivateKey, Role, User, statements
from models import attestations as A
from models.base import blob


def sync(
    session: Session,
    scope: statements.GrantScope,
    fresh: Mapping[int, bytes] | None = None,
) -> None:
    """Inside the caller's write transaction: the wraps of the keys or users in `scope`
    (those the caller's change touched, never the whole store: grantees come from rows
    anyone with the store key can edit, so a change hands on only what it is about) made
    to be exactly their grantees'. `fresh` holds the data keys sealed in this
    transaction, by key id. Each wrap made or removed is an audit event (`key.grant`,
    `key.revoke`), so that a key handed on is always in the log."""
    db = session.store.db
    removed = statements.grants_to_remove(db, scope)
    statements.remove_grants(db, removed)
    _record(session, "key.revoke", removed)
    missing = statements.grants_to_make(db, scope)
    if missing:
        # Again, through attested rows only: anyone can put rows in the database.
        scope = statements.GrantScope(
            keys=sorted({g.key_id for g in missing}), users=sorted({g.user_id for g in missing})
        )
        missing = statements.grants_to_make(db, scope, Checker(session))
    if not missing:
        return
    store_id = session.store.store_id
    opened: dict[int, bytes] = dict(fresh or {})
    checked: set[int] = set()
    revoked = custody.revoked_names(session)
    rows = []
    for grant in missing:
        if grant.user_name in revoked:
            continue  # disabled or deleted whatever their row says: `check` names it
        public = custody.verified_keys(session, grant.user_name, grant.public_keys, grant.certified)
        if public is None:
            continue  # keys put in the database by someone else: `check` names them
        data_key = opened.get(grant.key_id)
        if data_key is None:
            data_key = opened[grant.key_id] = _custodian_opens(session, grant)
        if grant.key_id not in checked:
            _check_public_key(grant, data_key)
            checked.add(grant.key_id)
        purpose = data_key_purpose(store_id, grant.key_uid, grant.user_name)
        wrapped = public.wrap(data_key, purpose)
        if grant.pin_public is not None:
            purpose = pin_purpose(store_id, grant.key_uid, grant.user_name)
            wrapped = pin_wrap(blob(grant.pin_public), wrapped, purpose)
        rows.append((grant.key_id, grant.user_id, wrapped, grant.pin_public is not None))
    statements.add_grants(db, rows)
    _record(session, "key.grant", [(row[0], row[1]) for row in rows])


def remove_all(session: Session, user_ids: Sequence[int]) -> None:
    """In the caller's transaction: every wrap these users hold removed, each a
    `key.revoke` event."""
    held = KeyGrant.select(KeyGrant.private_key, KeyGrant.user).where(KeyGrant.user.in_(user_ids))
    pairs = list(held.tuples())
    statements.remove_grants(session.store.db, pairs)
    _record(session, "key.revoke", pairs)


def set_pin(session: Session, key: PrivateKey, pin: str | None) -> None:
    """In the caller's transaction: `key` sealed to the PIN `pin` (None: to none). Its
    custodian's wrap names the PIN's public key, and every grantee's wrap is made again,
    sealed to it: this needs the data key, which only a key custodian opens. A key of a
    store made before data keys has no wraps: its PIN stays Certdesk's check alone."""
    if key.custodian_wrap is None:
        return
    if session.custodian is None:
        raise CustodianRequired(
            "a PIN seals every wrap of its certificate's key, which only a key custodian (an "
            f"Administrator) can make again; {session.user_name!r} is not one. Nothing was "
            "changed."
        )
    data_key = _custodian_unwraps(session, key)
    salt = None if pin is None else new_salt()
    public = None if pin is None else PinKey(pin, salt).public()
    purpose = data_key_purpose(session.store.store_id, key.uid, None, public)
    wrap = session.custodian_public.wrap(data_key, purpose)
    PrivateKey.update(custodian_wrap=wrap, pin_public=public, pin_salt=salt).where(
        PrivateKey.id == key.id
    ).execute()
    KeyGrant.delete().where(KeyGrant.private_key == key.id).execute()
    sync(session, keys(key.id), {key.id: data_key})


def _check_public_key(grant: statements.MissingGrant, data_key: bytes) -> None:
    """The rows that hand the key on name it by its public key's hash, which the seal
    binds to it: a key row given another's hash does not open."""
    try:
        Sealer(data_key).open(grant.sealed, grant.key_uid, grant.spki_sha256)
    except SealError:
        raise TamperedError(
            f"private key {grant.key_uid} is not the key of its public key: {custody.TAMPERED}"
        ) from None


def keys(*key_ids: int) -> statements.GrantScope:
    return statements.GrantScope(keys=key_ids)


def reached(
    session: Session, certificate_ids: Sequence[int], group_ids: Sequence[int] = ()
) -> statements.GrantScope:
    """The keys a change of these certificates or certificate groups may hand on."""
    return keys(*statements.keys_reached(session.store.db, certificate_ids, group_ids))


def _record(session: Session, action: str, pairs: Sequence[tuple[int, int]]) -> None:
    if not pairs:
        return
    users = dict(User.select(User.id, User.name).tuples())
    events = [(f"private key {key_id}", {"user": users.get(user_id)}) for key_id, user_id in pairs]
    journal.record_each(session.user_name, action, events)


def _custodian_opens(session: Session, grant: statements.MissingGrant) -> bytes:
    if session.custodian is None:
        raise CustodianRequired(
            f"this would let {grant.user_name!r} sign with {grant.alias!r}, whose key only a "
            f"key custodian (an Administrator) can hand on; {session.user_name!r} is not one. "
            "Nothing was changed."
        )
    return _unwrapped(
        session.custodian,
        session,
        grant.key_uid,
        None,
        grant.custodian_wrap,
        None if grant.pin_public is None else blob(grant.pin_public),
    )


def _custodian_unwraps(session: Session, key: PrivateKey) -> bytes:
    pin_public = None if key.pin_public is None else blob(key.pin_public)
    return _unwrapped(session.custodian, session, key.uid, None, key.custodian_wrap, pin_public)


def can_open(session: Session, key: PrivateKey) -> bool:
    """Whether the session holds what opens `key` without its PIN (`open_key`)."""
    if key.custodian_wrap is None or session.custodian is not None:
        return True
    mine = (
        (KeyGrant.private_key == key.id)
        & (KeyGrant.user == session.user_id)
        & ~(KeyGrant.pin_sealed)
    )
    return session.keys is not None and KeyGrant.select().where(mine).exists()


def open_key(session: Session, key: PrivateKey, alias: str, pin: str | None = None) -> bytes:
    """The PKCS#8 bytes of `key`, opened with the signed-in user's wrap of its data key
    (and `pin`, when the wrap is sealed to its PIN too), or a custodian's with the
    custodian's wrap; keys of a store made before data keys with the master key's
    sub-key, as they were sealed."""
    try:
        if key.custodian_wrap is None:
            return session.store.sealer.open(key.sealed, key.uid, key.spki_sha256)
        data_key = _data_key(session, key, alias, pin)
        return Sealer(data_key).open(key.sealed, key.uid, key.spki_sha256)
    except SealError:
        raise StoreDamagedError(
            f"{alias!r}: its sealed private key does not open; run `certdesk check`"
        ) from None


def _data_key(session: Session, key: PrivateKey, alias: str, pin: str | None) -> bytes:
    grant = KeyGrant.get_or_none(
        (KeyGrant.private_key == key.id) & (KeyGrant.user == session.user_id)
    )
    usable = grant is not None and session.keys is not None
    if usable and grant.pin_sealed and pin is None and session.custodian is None:
        raise ValidationError("pin", "this certificate asks for its PIN")
    if usable and (pin is not None or not grant.pin_sealed):
        wrapped = blob(grant.wrapped)
        if grant.pin_sealed:
            wrapped = _pin_opened(session, key, pin, wrapped, alias)
        return _unwrapped(session.keys, session, key.uid, session.user_name, wrapped)
    if session.custodian is not None:
        return _custodian_unwraps(session, key)
    raise PermissionDenied(
        f"{session.user_name} holds no wrap of the key of {alias!r}: it has not been handed "
        "to them. If a policy allows it, an Administrator's next change of its owner, "
        "groups or policies hands it on."
    )


def _pin_opened(session: Session, key: PrivateKey, pin: str, wrapped: bytes, alias: str) -> bytes:
    """The user's wrap, opened with the key of `pin` (which Certdesk checked already)."""
    try:
        pin_key = PinKey(pin, blob(key.pin_salt))
        return pin_key.unwrap(
            wrapped, pin_purpose(session.store.store_id, key.uid, session.user_name)
        )
    except (WrapError, ValueError, TypeError):
        raise StoreDamagedError(
            f"{alias!r}: the wrap of its key to {session.user_name} does not open with its "
            "PIN: the store was changed outside Certdesk or is damaged; run `certdesk check`"
        ) from None


def _unwrapped(
    keys: UserKeys,
    session: Session,
    key_uid: str,
    holder: str | None,
    wrapped: bytes,
    pin_public: bytes | None = None,
) -> bytes:
    purpose = data_key_purpose(session.store.store_id, key_uid, holder, pin_public)
    try:
        return keys.unwrap(blob(wrapped), purpose)
    except WrapError:
        raise StoreDamagedError(
            f"the wrap of private key {key_uid} to {holder or 'the custodian'} does not open: "
            "the store was changed outside Certdesk or is damaged; run `certdesk check`"
        ) from None


class Checker:
    """Whether an attestation holds for an item (models.attestations `checking`): it
    lists the item, its signer may write rows of that kind, and no revocation made after
    it lists the item (attestations.revoke_rows). Each attestation is read and verified
    once; the revocations, all at once first, each against its audit event: one removed
    from the database is tampering (TamperedError, before any query runs)."""

    def __init__(self, session: Session):
        self._session = session
        self._read: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self._custom_roles: dict[str, frozenset[str]] = {}  # read from the roster once
        self._revoked = self._revocations()

    def __call__(self, attestation_id: int, item: str) -> bool:
        if attestation_id not in self._read:
            self._read[attestation_id] = self._verified(attestation_id)
        items, permissions = self._read[attestation_id]
        kind = item.partition(A.SEP)[0]
        permitted = bool(A.ATTESTED_BY.get(kind, frozenset()) & permissions)
        return item in items and permitted and self._revoked.get(item, 0) < attestation_id

    def _revocations(self) -> dict[str, int]:
        """Each item revoked, and the newest revocation of it."""
        revoked: dict[str, int] = {}
        found = {}
        for row in Attestation.select().where(Attestation.revokes):
            text = self._signed_text(row, revokes=True)
            if text is not None:
                found[row.id] = hashlib.sha256(text.encode()).hexdigest()
                for item in text.split("\n"):
                    revoked[item] = max(revoked.get(item, 0), row.id)
        events = AuditEvent.select(AuditEvent.target, AuditEvent.details).where(
            AuditEvent.action == "rows.revoke"
        )
        for target, details in events.tuples():
            number = str(target).removeprefix("attestation ")
            revocation = int(number) if number.isdigit() else 0
            if found.get(revocation) != journal.details_of(details).get("sha256"):
                raise TamperedError(
                    f"the {target} the audit log names, which takes rows back, is gone or "
                    f"changed: {custody.TAMPERED}"
                )
        return revoked

    def _signed_text(self, row: Attestation, revokes: bool) -> str | None:
        """The items of `row` if its signer's keys and record hold and signed them."""
        signer = User.get_or_none(User.id == row.signer_id)
        if signer is None or not isinstance(row.items, str):
            return None
        session = self._session
        keys = custody.verified_keys(session, signer.name, signer.public_keys, signer.certified)
        if keys is None or not custody.record_holds(session, signer):
            return None
        statement = attestation(session.store.store_id, signer.name, row.items, revokes)
        return row.items if keys.verify(blob(row.signature), statement) else None

    def _verified(self, attestation_id: int) -> tuple[frozenset[str], frozenset[str]]:
        """The items of the attestation and what its signer's role may write; nothing
        when the attestation or its signer does not hold."""
        nothing: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        row = Attestation.get_or_none(Attestation.id == attestation_id)
        text = None if row is None or row.revokes else self._signed_text(row, revokes=False)
        if text is None:
            return nothing
        signer = User.get_by_id(row.signer_id)
        return frozenset(text.split("\n")), self._permissions(signer.role)

    def _permissions(self, role: Role) -> frozenset[str]:
        """What a signer's role may write: a built-in role's permissions are Certdesk's,
        a custom role's the custodian's (its line in the roster)."""
        if role.name not in self._custom_roles:
            self._custom_roles[role.name] = custody.granted_by(self._session, role)
        return self._custom_roles[role.name]
