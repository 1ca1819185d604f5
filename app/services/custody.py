"""The store's key custodian: a key pair (app.crypto.user_keys) whose private halves are
wrapped to each Administrator, to which every data key is wrapped, and which certifies
each user's public keys (app.crypto.key_wraps).

Someone who can write the database could put a custodian of their own in it, and
certify keys of their own with it. So each user's key slot keeps an anchor of the
custodian they trust, sealed under their password with their private halves, and a
sign-in refuses a store whose custodian is not the anchored one. The custodian is made
at `init`; in a store made before custodians, at the first sign-in of an Administrator,
and every other user then takes the custodian they first see on trust (the README says
what that leaves open).

An Administrator who holds the custodian's wrap is a custodian for the session
(`Session.custodian`). At a custodian's sign-in the custodian's duties are done
(`settle`): the awaited users who now have keys are certified (if their slot holds the
same keys), Administrators by a signed record without a wrap of the custodian get one,
and keys sealed as before data keys are moved to data keys.
"""

from dataclasses import replace

from app.crypto.key_wraps import (
    anchor_of,
    attestation,
    audit_from,
    awaiting,
    certification,
    custodian_purpose,
    data_key_purpose,
    new_data_key,
    roster,
    user_record,
)
from app.crypto.sealing import Sealer, SealError
from app.crypto.user_keys import PublicKeys, UserKeys, WrapError
from app.errors import CustodianRequired, StoreDamagedError, TamperedError
from app.keyslots import OpenedSlot
from app.services import attestations, journal
from app.services.session import Session, write_transaction
from models import (
    Attestation,
    AuditEvent,
    Custodian,
    CustodianWrap,
    PrivateKey,
    Role,
    RolePermission,
    User,
    statements,
)
from models import roster as rosters
from models.base import blob
from models.permissions import ADMINISTRATOR, ALL_PERMISSIONS, BUILTIN_ROLES
from models.roster import RosterRecord

TAMPERED = "the store was changed outside Certdesk; restore a backup, or ask its Administrator"


def install(
    session: Session, custodian: UserKeys, admin: User, waiting: tuple[str, ...] = ()
) -> None:
    """In the caller's write transaction: `custodian` as the store's, certifying `admin`'s
    keys and wrapped to them, and awaiting the keys of the users named `waiting`."""
    Custodian.create(public_keys=custodian.public().raw)
    session.custodian_public = custodian.public()
    session.custodian = custodian
    _sign_awaiting(session, set(waiting))
    last = statements.last_audit_event(session.store.db)
    first = (last[0] if last else 0) + 1
    signature = custodian.sign(audit_from(session.store.store_id, first))
    Custodian.update(audit_from=first, audit_from_signature=signature).execute()
    _certify(session, admin)
    _sign_record(session, admin, admin.role.name, admin.enabled, first=True)
    _wrap_custodian(session, admin)


def take_keys(session: Session, kek: bytes, opened: OpenedSlot) -> None:
    """At sign-in, the user's private halves in `session.keys`: the custodian checked
    against the slot's anchor (taken on trust by a slot without one), and the custodian
    opened for a user who holds its wrap (made now, if the store has none, for an
    Administrator). TamperedError when the custodian or the user's certificate is not
    what the slot trusts."""
    me = User.get_by_id(session.user_id)
    public = _custodian_public()
    if public is None and (opened.custodian is not None or _had_custody()):
        raise TamperedError(f"the store has lost its custodian: {TAMPERED}")
    if public is None and session.role == ADMINISTRATOR:
        public = _found(session, me)
    if public is None:
        return
    anchor = anchor_of(public)
    if opened.custodian is None:
        _anchor_slot(session, kek, anchor)
    elif opened.custodian != anchor:
        raise TamperedError(
            f"the store's custodian is not the one the key slot of {me.name!r} trusts: {TAMPERED}"
        )
    session.custodian_public = public
    if me.certified is not None or me.name not in _awaiting(session):
        certified_keys(session, me.name, me.public_keys, me.certified)
    # Read again: founding the custodian just signed it.
    if not record_holds(session, User.get_by_id(me.id)):
        raise TamperedError(
            f"the role or state of {me.name!r} is not one an Administrator set: {TAMPERED}"
        )

    if session.custodian is None:
        session.custodian = _opened_custodian(session, me, public)


def _custodian() -> Custodian | None:
    return Custodian.select().order_by(Custodian.id).first()


def _custodian_public() -> PublicKeys | None:
    if Custodian.select().count() > 1:  # which one the roster and wraps are read from
        raise TamperedError(f"the store has more than one custodian: {TAMPERED}")
    row = _custodian()
    if row is None:
        return None
    try:
        return PublicKeys(row.public_keys)
    except ValueError:
        raise TamperedError(f"the store's custodian is damaged: {TAMPERED}") from None


def _found(session: Session, me: User) -> PublicKeys:
    """The custodian, made now by the first Administrator of an older store to sign in;
    one another process made meanwhile is taken instead."""
    with write_transaction(session):
        public = _custodian_public()
        if public is None:
            keyless = User.select(User.name).where(User.public_keys.is_null())
            install(session, UserKeys.generate(), me, tuple(row.name for row in keyless))
            journal.record(me.name, "custodian.create", me.name)
            # The keys, roles, states and grants the store holds now are taken on trust,
            # once.
            for row in _matching_slots(session, User.certified.is_null()):
                _certify(session, row)
            for row in User.select().where(User.record_signature.is_null()):
                _sign_record(session, row, row.role.name, row.enabled)
            attestations.attest_all(session)
            public = session.custodian_public
    return public


def _anchor_slot(session: Session, kek: bytes, anchor: bytes) -> None:
    name = session.user_name
    with write_transaction(session):
        slots = session.store.slots()
        before = slots.slots[name]
        session.store.replace_slot(name, before, slots.anchored(name, kek, anchor))
        journal.record(name, "custodian.trust", name)


def _opened_custodian(session: Session, me: User, public: PublicKeys) -> UserKeys | None:
    """The custodian, for an Administrator (whose signed record the sign-in checked)
    holding its wrap; a wrap left to anyone else opens nothing (`check` names it)."""
    wrap = CustodianWrap.get_or_none(CustodianWrap.user == me.id)
    if wrap is None or session.keys is None or session.role != ADMINISTRATOR:
        return None
    purpose = custodian_purpose(session.store.store_id, me.name)
    try:
        custodian = UserKeys(session.keys.unwrap(blob(wrap.wrapped), purpose))
    except (WrapError, ValueError):
        why = f"the custodian's wrap to {me.name!r} does not open"
        raise TamperedError(f"{why}: {TAMPERED}") from None
    if custodian.public() != public:
        raise TamperedError(f"the custodian wrapped to {me.name!r} is another: {TAMPERED}")
    return custodian


def certified_keys(session: Session, name: str, public: bytes, certified: bytes) -> PublicKeys:
    """`name`'s public keys, once the custodian's certificate of them is checked;
    TamperedError if it is false."""
    keys = verified_keys(session, name, public, certified)
    if keys is None:
        raise TamperedError(f"the keys of {name!r} are not the ones the custodian certified: "
                            f"{TAMPERED}")  # fmt: skip
    return keys


def verified_keys(
    session: Session, name: str, public: bytes | None, certified: bytes | None
) -> PublicKeys | None:
    """`name`'s public keys if the custodian certified them, else None."""
    custodian = session.custodian_public
    statement = certification(session.store.store_id, name, blob(public))
    if custodian is None or not custodian.verify(blob(certified), statement):
        return None
    try:
        return PublicKeys(blob(public))
    except ValueError:
        return None


def audit_event_holds(session: Session, event_id: int) -> bool:
    """Whether event `event_id` is signed as an append of its own by its user, with keys
    the custodian certified."""
    event = AuditEvent.get_or_none(AuditEvent.id == event_id)
    if event is None or event.signature is None:
        return False
    user = User.get_or_none(User.name == event.user)
    keys = (
        None
        if user is None
        else verified_keys(session, user.name, user.public_keys, user.certified)
    )
    return keys is not None and journal.signs_alone(
        session.store.store_id, keys, blob(event.signature), event.hash
    )


def audit_breaks(session: Session) -> list[int]:
    """The audit events no signature of their user covers (journal.signature_breaks),
    from the first the custodian says is signed (all of them if that is forged)."""
    if session.custodian_public is None:
        return []
    row = _custodian()
    statement = audit_from(session.store.store_id, row.audit_from)
    first = row.audit_from
    if not session.custodian_public.verify(blob(row.audit_from_signature), statement):
        first = 1
    users = {u.name: u for u in User.select(User.name, User.public_keys, User.certified)}
    waiting = _awaiting(session)

    def keys_of(name: str) -> PublicKeys | bool | None:
        user = users.get(name)
        if user is None:
            return None
        if user.certified is None and (user.public_keys is None or name in waiting):
            return False
        return verified_keys(session, name, user.public_keys, user.certified)

    return journal.signature_breaks(session.store.store_id, first, keys_of)


def after_deletion(session: Session) -> list[int]:
    """The events of deleted users after the signed event of their deletion: added by
    their own code, or by a session of theirs still open when they were deleted. (Each
    `user.delete` event is an append of its own, which `audit_event_holds` checks.)"""
    deletions = (
        AuditEvent.select(AuditEvent.id, AuditEvent.target)
        .join(User, on=(User.name == AuditEvent.target))
        .where(
            (AuditEvent.action == "user.delete") & (AuditEvent.outcome == "allowed") & User.deleted
        )
        .order_by(AuditEvent.id)
    )
    deleted_at: dict[str, int] = {}
    for event in deletions:
        if event.target not in deleted_at and audit_event_holds(session, event.id):
            deleted_at[event.target] = event.id
    found = []
    for name, event_id in deleted_at.items():
        later = AuditEvent.select(AuditEvent.id).where(
            (AuditEvent.user == name) & (AuditEvent.id > event_id)
        )
        found += [event.id for event in later]
    return found


def _certify(session: Session, row: User) -> None:
    statement = certification(session.store.store_id, row.name, row.public_keys)
    row.certified = session.custodian.sign(statement)
    User.update(certified=row.certified).where(User.id == row.id).execute()


def _wrap_custodian(session: Session, row: User) -> None:
    public = certified_keys(session, row.name, row.public_keys, row.certified)
    purpose = custodian_purpose(session.store.store_id, row.name)
    wrapped = public.wrap(session.custodian.private_bytes(), purpose)
    CustodianWrap.insert(user=row.id, wrapped=wrapped).on_conflict_replace().execute()


def new_user(session: Session, row: User) -> None:
    """In the transaction adding `row`: their keys certified, their role signed, and the
    custodian wrapped to them if they are an Administrator."""
    if not _as_custodian(session, f"{row.name!r} cannot be added"):
        return
    _certify(session, row)
    _sign_record(session, row, row.role.name, row.enabled)
    if row.role.name == ADMINISTRATOR:
        _wrap_custodian(session, row)


def role_changed(session: Session, row: User, role: str) -> None:
    """In the transaction changing `row`'s role: the new role signed; an Administrator
    holds the custodian's wrap (once their keys are certified), and nobody else does."""
    if not _as_custodian(session, f"the role of {row.name!r} cannot be changed"):
        return
    keys = verified_keys(session, row.name, row.public_keys, row.certified)
    if keys is not None and record_holds(session, row):
        attestations.take_over(session, row.id, row.name, keys, granted_by(session, row.role))
    if role != ADMINISTRATOR:
        CustodianWrap.delete().where(CustodianWrap.user == row.id).execute()
    elif row.certified is not None:
        _wrap_custodian(session, row)
    _sign_record(session, row, role, row.enabled)


def enabled_changed(session: Session, row: User, enabled: bool) -> None:
    """In the transaction enabling or disabling `row`: the new state signed, and for an
    Administrator the custodian's wrap taken away or made again."""
    what = "enabled" if enabled else "disabled"
    if not _as_custodian(session, f"{row.name!r} cannot be {what}"):
        return
    if not enabled:
        CustodianWrap.delete().where(CustodianWrap.user == row.id).execute()
    elif row.role.name == ADMINISTRATOR and row.certified is not None:
        _wrap_custodian(session, row)
    _sign_record(session, row, row.role.name, enabled)


def keys_replaced(session: Session, row: User, new: UserKeys) -> None:
    """In the transaction giving `row` the new key pairs `new` (a password reset): the
    new public keys certified, the custodian wrapped to them for an Administrator, and
    what `row` signed with their old keys that still verifies (audit events, attested
    rows) signed again with the new key; what did not verify stays as it was."""
    store_id = session.store.store_id
    old = verified_keys(session, row.name, row.public_keys, row.certified)
    if old is not None:
        for event_id, statement in list(journal.signed_by_keys(store_id, row.name, old)):
            AuditEvent.update(signature=new.sign(statement)).where(
                AuditEvent.id == event_id
            ).execute()
        for signed in Attestation.select().where(Attestation.signer == row.id):
            statement = attestation(store_id, row.name, signed.items, signed.revokes)
            if isinstance(signed.items, str) and old.verify(blob(signed.signature), statement):
                Attestation.update(signature=new.sign(statement)).where(
                    Attestation.id == signed.id
                ).execute()
    row.public_keys = new.public().raw
    User.update(public_keys=row.public_keys).where(User.id == row.id).execute()
    _certify(session, row)
    CustodianWrap.delete().where(CustodianWrap.user == row.id).execute()
    if row.role.name == ADMINISTRATOR and record_holds(session, row):
        _wrap_custodian(session, row)


def _as_custodian(session: Session, refused: str) -> bool:
    """Whether the session signs as the custodian; CustodianRequired when the store has a
    custodian and the session is not one (False: a store that has none yet)."""
    if session.custodian is not None:
        return True
    if session.custodian_public is not None:
        raise CustodianRequired(
            "users' keys, roles and enabled states are signed by a key custodian (an "
            f"Administrator); {session.user_name!r} is not one, so {refused}"
        )
    return False


def user_deleted(session: Session, row: User) -> None:
    """In the transaction deleting `row`: their record signed as disabled, the roster
    saying they were deleted, and their wrap of the custodian gone."""
    if not _as_custodian(session, f"{row.name!r} cannot be deleted"):
        return
    CustodianWrap.delete().where(CustodianWrap.user == row.id).execute()
    _sign_record(session, row, row.role.name, False, deleted=True)


def revoked_names(session: Session) -> set[str]:
    """The users the custodian's roster says are disabled or deleted: no key is wrapped
    to them, whatever their rows or the rows naming them say."""
    custodian = _custodian()
    if custodian is None or session.custodian_public is None:
        return set()
    lines = _signed_roster(session, custodian)
    return {name for name, record in lines.items() if not record.enabled or record.deleted}


def _sign_record(
    session: Session,
    row: User,
    role: str,
    enabled: bool,
    first: bool = False,
    deleted: bool = False,
) -> None:
    """`row`'s record signed with `role` and `enabled` (about to be written), and the
    roster with it (`first`: the roster of a custodian just made; `deleted`: the line
    of a user deleted). A user's name never makes a role's line (models.roster): a row
    named so was put in the database behind Certdesk's back."""
    if rosters.is_role_line(row.name):
        raise TamperedError(f"a user's name holds a control character: {TAMPERED}")
    statement = user_record(session.store.store_id, row.name, role, enabled)
    signature = session.custodian.sign(statement)
    User.update(record_signature=signature).where(User.id == row.id).execute()
    custodian = _custodian()
    if first:  # the custodian just made: the store's users as they are, at `init` or upgrade
        users = User.select(User.name, Role.name, User.enabled, User.deleted).join(Role).tuples()
        lines = {name: RosterRecord(*state, version=1) for name, *state in users}
    else:
        lines = _signed_roster(session, custodian)
    before = lines.get(row.name)
    version = (0 if before is None else before.version) + 1
    lines[row.name] = RosterRecord(role, enabled, deleted, version)
    _keep_roster(session, lines, custodian.roster_serial + 1)


def _keep_roster(session: Session, lines: dict[str, RosterRecord], serial: int) -> None:
    """The roster of `lines`, signed by the session's custodian at `serial`."""
    records = rosters.text(lines)
    signature = session.custodian.sign(roster(session.store.store_id, serial, records))
    Custodian.update(roster=records, roster_serial=serial, roster_signature=signature).execute()


def _signed_roster(session: Session, custodian: Custodian) -> dict[str, str]:
    """The roster's lines by user name, as the custodian last signed them (never the
    users' rows as they read: one changed outside Certdesk would be signed then);
    TamperedError if the roster is not the one it signed."""
    records = custodian.roster if isinstance(custodian.roster, str) else ""
    statement = roster(session.store.store_id, custodian.roster_serial, records)
    if not session.custodian_public.verify(blob(custodian.roster_signature), statement):
        raise TamperedError(f"the roster of users is not the one the custodian signed: {TAMPERED}")
    return rosters.parse(records)


def newer_roster(session: Session, kept) -> dict[str, RosterRecord]:
    """The users whose record in `kept` (an app.audit_heads.Roster this workstation saw,
    that the custodian signed) is newer than the store's and says otherwise
    (models.roster.newer_in). By name, the record `kept` says."""
    custodian = _custodian()
    public = session.custodian_public
    if custodian is None or public is None:
        return {}
    if not public.verify(kept.signature, roster(session.store.store_id, kept.serial, kept.records)):
        return {}
    now = rosters.text(_signed_roster(session, custodian))
    return rosters.newer_in(kept.records, now, kept.serial > custodian.roster_serial)


def roster_from(session: Session, serial: int, versions: dict[str, int]) -> None:
    """In the caller's write transaction: the store's roster signed again at `serial` at
    least, and each user named in `versions` at that version at least, so that the
    records signed next are newer than those of a roster of that serial and versions."""
    if not _as_custodian(session, "the roster cannot be signed again"):
        return
    custodian = _custodian()
    lines = _signed_roster(session, custodian)
    for name, version in versions.items():
        if (record := lines.get(name)) is not None and record.version < version:
            lines[name] = replace(record, version=version)
    _keep_roster(session, lines, max(serial, custodian.roster_serial))


def sign_role(session: Session, name: str, permissions: frozenset[str] | None) -> None:
    """In the transaction adding, editing (`permissions`) or deleting (None) the custom
    role `name`: its line in the roster signed, a version newer (models.roster)."""
    if name in BUILTIN_ROLES:
        raise TamperedError(f"{name!r} is a built-in role: {TAMPERED}")
    if not _as_custodian(session, f"the role {name!r} cannot be changed"):
        raise CustodianRequired(
            "custom roles are signed by the store's key custodian, and this store has none yet"
        )
    custodian = _custodian()
    lines = _signed_roster(session, custodian)
    key = rosters.role_line(name)
    before = lines.get(key)
    version = (0 if before is None else before.version) + 1
    text = rosters.permissions_text(permissions or ())
    lines[key] = RosterRecord(text, True, permissions is None, version)
    _keep_roster(session, lines, custodian.roster_serial + 1)


def role_permissions(session: Session, name: str) -> frozenset[str] | None:
    """The permissions of the custom role `name` as the custodian signed them in the
    roster; None when it signed none (or the store has no custodian)."""
    custodian = _custodian()
    if custodian is None or session.custodian_public is None or name in BUILTIN_ROLES:
        return None
    record = _signed_roster(session, custodian).get(rosters.role_line(name))
    if record is None or record.deleted or not record.enabled:
        return None
    return rosters.permissions_of(record) & frozenset(ALL_PERMISSIONS)


def granted_by(session: Session, role: Role) -> frozenset[str]:
    """What a role may do, as Certdesk (a built-in role, by its name) or the custodian
    (a custom one) says; never the database's rows."""
    if role.name in BUILTIN_ROLES:
        return frozenset(BUILTIN_ROLES[role.name][1])
    return role_permissions(session, role.name) or frozenset()


def check_role(session: Session, role: Role) -> None:
    """At sign-in, after `take_keys`: TamperedError unless the signed-in user's role has
    the permissions Certdesk (built-in) or the custodian (custom) gave it."""
    if not role_holds(session, role):
        raise TamperedError(
            f"the permissions of the role {role.name!r} are not the ones an Administrator "
            f"gave it: {TAMPERED}"
        )


def role_holds(session: Session, role: Role) -> bool:
    """Whether the role's permissions in the database are Certdesk's own (a built-in
    role) or the custodian's (a custom role, in its roster)."""
    held = frozenset(
        p
        for (p,) in RolePermission.select(RolePermission.permission)
        .where(RolePermission.role == role.id)
        .tuples()
    )
    if role.name in BUILTIN_ROLES:
        return held == frozenset(BUILTIN_ROLES[role.name][1])
    return held == role_permissions(session, role.name)


def record_holds(session: Session, row: User) -> bool:
    """Whether `row`'s role and enabled state are the ones the custodian signed, in its
    record and in the roster (where an older record put back is not)."""
    if rosters.is_role_line(row.name):
        return False
    statement = user_record(session.store.store_id, row.name, row.role.name, row.enabled)
    if not session.custodian_public.verify(blob(row.record_signature), statement):
        return False
    custodian = _custodian()
    records = custodian.roster if isinstance(custodian.roster, str) else ""
    statement = roster(session.store.store_id, custodian.roster_serial, records)
    if not session.custodian_public.verify(blob(custodian.roster_signature), statement):
        return False
    record = rosters.parse(records).get(row.name)
    return record is not None and record.same_state(
        RosterRecord(row.role.name, row.enabled, row.deleted)
    )


def duties(session: Session) -> bool:
    """Whether a custodian has something to do (`settle`); read without the write lock."""
    if session.custodian is None:
        return False
    return bool(_uncertified(session) or _administrators_without_wrap(session) or moves_keys())


def settle(session: Session) -> list[statements.GrantScope]:
    """In the caller's write transaction, by a custodian: certify the users whose keys
    have no certificate yet and are those of their key slot, wrap the custodian to every
    Administrator lacking it, and move keys sealed before data keys to data keys. Returns
    what is owed grants now (the users certified, the keys moved), for the caller to
    run `key_grants.sync` on."""
    certified = _uncertified(session)
    for row in certified:
        _certify(session, row)
        journal.record(session.user_name, "user.certify", row.name)
    if certified:
        _sign_awaiting(session, _awaiting(session) - {row.name for row in certified})
    for row in _administrators_without_wrap(session):
        _wrap_custodian(session, row)
        journal.record(session.user_name, "custodian.wrap", row.name)
    moved = [_to_data_key(session, key) for key in _legacy_keys()]
    if moved:
        journal.record(session.user_name, "key.move", "", keys=len(moved))
    owed = [statements.GrantScope(users=[row.id for row in certified])] if certified else []
    return owed + ([statements.GrantScope(keys=moved)] if moved else [])


def _uncertified(session: Session) -> list[User]:
    """The users awaited since the custodian was made who now have keys (their slot's)."""
    waiting = _awaiting(session)
    if not waiting:
        return []
    return _matching_slots(session, User.certified.is_null() & User.name.in_(sorted(waiting)))


def _matching_slots(session: Session, where) -> list[User]:
    """The users `where` picks whose row holds the public keys of their key slot."""
    slots = session.store.slots().slots
    rows = User.select().where(where & User.public_keys.is_null(False))
    return [
        row for row in rows if row.name in slots and slots[row.name].public == blob(row.public_keys)
    ]


def _awaiting(session: Session) -> set[str]:
    row = _custodian()
    names = [name for name in row.awaiting.split("\n") if name]
    statement = awaiting(session.store.store_id, names)
    if not session.custodian_public.verify(blob(row.awaiting_signature), statement):
        raise TamperedError(f"the custodian's list of awaited users is forged: {TAMPERED}")
    return set(names)


def _sign_awaiting(session: Session, names: set[str]) -> None:
    ordered = sorted(names)
    signature = session.custodian.sign(awaiting(session.store.store_id, ordered))
    Custodian.update(awaiting="\n".join(ordered), awaiting_signature=signature).execute()


def _administrators_without_wrap(session: Session) -> list[User]:
    """The enabled Administrators, by a record the custodian signed, with certified keys
    and no wrap of the custodian."""
    wrapped = CustodianWrap.select(CustodianWrap.user)
    rows = (
        User.select(User, Role)
        .join(Role)
        .where(
            (Role.name == ADMINISTRATOR)
            & User.enabled
            & User.certified.is_null(False)
            & User.id.not_in(wrapped)
        )
    )
    return [row for row in rows if record_holds(session, row)]


def _had_custody() -> bool:
    """Whether the store shows signs of a custodian: certified users or keys wrapped to
    one. A store that has them and no custodian lost it; it never gets a new one."""
    certified = User.select().where(User.certified.is_null(False)).exists()
    return certified or PrivateKey.select().where(PrivateKey.custodian_wrap.is_null(False)).exists()


def moves_keys() -> bool:
    """Whether `settle` will move keys sealed before data keys."""
    return _legacy_keys().exists()


def _legacy_keys():
    return PrivateKey.select().where(PrivateKey.custodian_wrap.is_null())


def _to_data_key(session: Session, key: PrivateKey) -> int:
    """`key` sealed again under a data key of its own, wrapped to the custodian."""
    try:
        pkcs8 = session.store.sealer.open(key.sealed, key.uid, key.spki_sha256)
    except SealError:
        raise StoreDamagedError(
            f"private key {key.uid}: its seal does not open; run `certdesk check`"
        ) from None
    data_key = new_data_key()
    sealed = Sealer(data_key).seal(pkcs8, key.uid, key.spki_sha256)
    purpose = data_key_purpose(session.store.store_id, key.uid, None)
    wrap = session.custodian_public.wrap(data_key, purpose)
    PrivateKey.update(sealed=sealed, custodian_wrap=wrap).where(PrivateKey.id == key.id).execute()
    return key.id
