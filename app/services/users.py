"""Creating a store with its administrator, and signing in."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import peewee

from app import attempts, audit_heads, keyslots
from app.crypto.key_wraps import anchor_of, audit_head
from app.crypto.user_keys import UserKeys
from app.errors import (
    AuthenticationError,
    CustodianRequired,
    NotFoundError,
    StoreBusyError,
    StoreDamagedError,
    StoreFullError,
    TamperedError,
    ValidationError,
)
from app.keyslots import OpenedSlot
from app.services import attestations, custody, journal, key_change, key_grants
from app.services.names import check_name
from app.services.operations import operation
from app.services.session import (
    Session,
    head_now,
    keep_folder_head,
    keep_head,
    write_transaction,
)
from app.store import Store, create_store, unlock_store
from models import (
    Certificate,
    PolicyUser,
    Request,
    Role,
    RolePermission,
    User,
    UserGroup,
    UserGroupMember,
    statements,
)
from models import roster as rosters
from models.base import blob
from models.permissions import ADMINISTRATOR, BUILTIN_ROLES, CERTIFICATES_VIEW, USERS_MANAGE
from models.roster import RosterRecord

# For new users and new passwords; a store's existing passwords still open it.
MIN_PASSWORD_LENGTH = 12
MAX_USER_NAME = keyslots.MAX_USER_NAME
MAX_USER_GROUP_NAME = 100
MAX_DISPLAY_NAME = 200
# The database as it was before an Administrator's sign-in moved its keys to data keys.
KEYS_MOVED_BACKUP = "certdesk.db.before-data-keys.bak"
OLDER = "the store is older than"  # how a notice of `_compare_head` begins
UNSIGNED_HEAD = f"{audit_heads.FOLDER_FILE} was not signed by an enabled user of the store"


def validate_user_name(name: str) -> str:
    return check_name("user name", name, MAX_USER_NAME)


def validate_display_name(text: str) -> str:
    """A person's name as shown beside the user name: optional, one line."""
    return check_name("display name", text, MAX_DISPLAY_NAME) if text.strip() else ""


def validate_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"at least {MIN_PASSWORD_LENGTH} characters")


def initialise_store(folder: Path, admin: str, password: str) -> tuple[Session, bytes]:
    """Create the store, make `admin` its Administrator; return the session and the KEK."""
    admin = validate_user_name(admin)
    validate_new_password(password)

    custodian = UserKeys.generate()

    def first_administrator(store: Store, public_keys: bytes | None) -> None:
        maker = _session(store, None)
        with write_transaction(maker):
            role = Role.get(Role.name == ADMINISTRATOR)
            row = User.create(name=admin, role=role, public_keys=public_keys)
            journal.record(admin, "store.create", str(folder), role=ADMINISTRATOR)
            custody.install(maker, custodian, row)

    anchor = anchor_of(custodian.public())
    store, kek = create_store(folder, admin, password, first_administrator, custodian=anchor)
    session = _session(store, User.get(User.name == admin))
    session.keys = UserKeys(store.slots().open(admin, kek).private)
    session.custodian_public, session.custodian = custodian.public(), custodian
    return session, kek


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    enabled: bool
    user_groups: tuple[str, ...]
    display_name: str = ""
    owned: int = 0  # the certificates they own
    created_at: dt.datetime | None = None


@operation("user.add", USERS_MANAGE, target="name")
def add_user(
    session: Session,
    name: str,
    password: str,
    role: str,
    user_groups: Sequence[str] = (),
    display_name: str = "",
) -> None:
    """A new local user with a key slot of their own, in the user groups named (created
    when missing).

    A rename of the slot file and a database commit cannot be one atomic step, so the
    order is fixed. Argon2id wraps the slot first, outside the lock; then, under the
    store's write lock (the IMMEDIATE transaction, which every other writer of the slot
    file also holds), the slot file is read afresh, written with the new slot (atomically,
    and fsynced), and only then is the user committed. So, whenever a crash or `kill -9`
    strikes: every user in the database has a slot (a user is never committed before the
    slot is on disk, and concurrent adds never write over each other's slots). The new
    slot is written marked pending and unmarked after the commit; a pending slot whose
    user never committed is an interrupted add's, removed under the write lock the next
    time the store is opened (or by the next add). Once the store has been opened again,
    the slot file names exactly the database's users; a slot of no user that is not
    pending did not come from Certdesk, and `check` reports it instead."""
    name = validate_user_name(name)
    display_name = validate_display_name(display_name)
    validate_new_password(password)
    role_row = _role(session, role)
    _name_is_free(name)
    groups = [validate_user_group_name(g) for g in dict.fromkeys(user_groups)]
    custodian = session.custodian_public
    slot, _ = keyslots.new_slot(
        session.store.store_id,
        name,
        password,
        session.store.master_key(),
        custodian=None if custodian is None else anchor_of(custodian),
    )
    with write_transaction(session):
        _name_is_free(name)  # added meanwhile?
        user = User.create(
            name=name, display_name=display_name, role=role_row, public_keys=slot.public
        )
        custody.new_user(session, user)
        for group_name in groups:
            group, created = UserGroup.get_or_create(name=group_name)
            if created:
                journal.record(session.user_name, "user_group.create", group_name)
            member = UserGroupMember.create(user_group=group, user=user)
            attestations.attest_rows(session, "ugm", [member.id])
        key_grants.sync(session, statements.GrantScope(users=[user.id]))
        journal.record(session.user_name, "user.add", name, role=role)
        session.store.add_slot(name, slot, session.user_name, session.keys, session.custodian)
    session.store.settle_slots()


def _role(session: Session, name: str) -> Role:
    """The role a user is given: a built-in one, or a custom one the custodian signed
    (a role row put in the database behind Certdesk's back would lock its user out)."""
    role = Role.get_or_none(Role.name == name)
    if role is None:
        raise ValidationError("role", f"no role named {name!r}")
    if name not in BUILTIN_ROLES and custody.role_permissions(session, name) is None:
        raise ValidationError("role", f"the role {name!r} is not one an Administrator made")
    return role


def _name_is_free(name: str) -> None:
    """Refused when a user, deleted or not, has the name in any case: 'Sam' beside 'sam'
    would pass for them in the audit log and in policies."""
    row = User.get_or_none(peewee.fn.lower(User.name) == name.lower())
    if row is not None and row.deleted:
        raise ValidationError(
            "user name",
            f"{row.name!r} was a user, deleted; the audit log keeps their name: choose another",
        )
    if row is not None:
        raise ValidationError("user name", f"{row.name!r} already exists")


def _user(name: str) -> User:
    row = User.get_or_none((User.name == name) & ~User.deleted)
    if row is None:
        raise NotFoundError(f"No user {name!r} in this store.")
    return row


def _keeps_an_administrator(row: User, enabled: bool, role: str) -> None:
    """Refuse a change that leaves the store without an enabled Administrator: nobody
    could then manage its users again."""
    if row.role.name != ADMINISTRATOR or not row.enabled:
        return
    if enabled and role == ADMINISTRATOR:
        return
    others = (
        User.select()
        .join(Role)
        .where((Role.name == ADMINISTRATOR) & User.enabled & (User.id != row.id))
    )
    if not others.exists():
        raise ValidationError(
            "user", f"{row.name!r} is the last enabled Administrator; make another one first"
        )


@operation("user.enable", USERS_MANAGE, target="name")
def enable_user(session: Session, name: str) -> bool:
    """Let `name` sign in again. Returns whether it changed."""
    return _set_enabled(session, name, True)


@operation("user.disable", USERS_MANAGE, target="name")
def disable_user(session: Session, name: str) -> bool:
    """Let `name` sign in no longer (a session open now goes on until it is closed), and
    take every wrap they hold away (`enable_user` makes them again). Refused for the
    last enabled Administrator. Returns whether it changed. The store's key stays: a
    disabled user still reads the database with their own code, and a copy of the
    folder they kept opens as it was (the README's threat model says so)."""
    return _set_enabled(session, name, False)


def _set_enabled(session: Session, name: str, enabled: bool) -> bool:
    with write_transaction(session):
        row = _user(name)
        if row.enabled == enabled:
            return False
        _keeps_an_administrator(row, enabled, row.role.name)
        custody.enabled_changed(session, row, enabled)
        User.update(enabled=enabled).where(User.id == row.id).execute()
        journal.record(session.user_name, "user.enable" if enabled else "user.disable", name)
        # A disabled user holds no wrap: their own code opens no key either.
        key_grants.sync(session, statements.GrantScope(users=[row.id]))
    return True


@operation("user.role", USERS_MANAGE, target="name")
def set_user_role(session: Session, name: str, role: str) -> bool:
    """`name`'s role, taking effect at their next sign-in. Refused where it would leave no
    enabled Administrator. Returns whether it changed."""
    with write_transaction(session):
        row = _user(name)
        role_row = _role(session, role)
        was = row.role.name
        if was == role:
            return False
        _keeps_an_administrator(row, row.enabled, role)
        custody.role_changed(session, row, role)
        User.update(role=role_row).where(User.id == row.id).execute()
        journal.record(session.user_name, "user.role", name, role=role, was=was)
    return True


@operation("user.delete", USERS_MANAGE, target=lambda a: ", ".join(a["names"]))
def delete_users(session: Session, names: Sequence[str]) -> str | None:
    """Delete the users named: their key slots, their wraps of keys and of the custodian,
    the policy links, group memberships, ownerships and requests that name them (each
    revoked, so that none put back hands a key on), and then the store's master key
    changed (`store.rotate_master_key`), so that a copy of a deleted user's slot opens
    nothing of the store from then on. Each stays a disabled row that the roster says
    was deleted, so that the signatures they made can still be checked. Refused for
    oneself and where no enabled Administrator would be left; needs a key custodian.
    Returns why the database keeps its key until a later sign-in, if it does."""
    names = list(dict.fromkeys(names))
    if not names:
        raise ValidationError("user", "name at least one user to delete")
    _deletable(session, names)
    if session.custodian is None:
        raise CustodianRequired(
            "deleting a user changes the store's key and removes wraps, which only a key "
            f"custodian (an Administrator) can do; {session.user_name!r} is not one. "
            "Nothing was changed."
        )

    def delete() -> None:
        rows = _deletable(session, names)  # again, in the transaction: as they are now
        for row in rows:
            _delete_row(session, row)
        for row in rows:
            journal.record(session.user_name, "user.delete", row.name)
        key_change.record(session)

    return key_change.rotate(
        session, lambda: key_change.key_holders(session, key_change.live()), delete
    )


def key_change_words(old: str, waits: str | None) -> str:
    """What a delete or a password reset did to the store's key, after a semicolon:
    `old` is what no longer opens it ("their old password")."""
    if waits is None:
        return f"the store's key changed, so {old} opens nothing of it now."
    return f"the store's key changes at a later sign-in ({waits}); until then {old} still opens it."


def _deletable(session: Session, names: list[str]) -> list[User]:
    """The users named, if deleting them leaves an enabled Administrator other than
    them and does not delete the one deleting."""
    rows = [_user(name) for name in names]
    if any(row.id == session.user_id for row in rows):
        raise ValidationError("user", f"{session.user_name!r} cannot delete themselves")
    others = (
        key_change.live()
        .where(User.id.not_in([row.id for row in rows]))
        .join(Role)
        .where((Role.name == ADMINISTRATOR) & User.enabled)
    )
    if not others.exists():
        raise ValidationError(
            "user", "the store would have no enabled Administrator left; make another one first"
        )
    return rows


def _delete_row(session: Session, row: User) -> None:
    """In the caller's write transaction: `row` deleted, with the rows naming them
    revoked and removed, their record signed as deleted and every wrap they hold gone.
    Their slot goes with the change of key that follows."""
    _remove_links(session, row)
    custody.user_deleted(session, row)
    User.update(enabled=False, deleted=True).where(User.id == row.id).execute()
    key_grants.remove_all(session, [row.id])


@operation("user.reset_password", USERS_MANAGE, target="name")
def reset_password(session: Session, name: str, password: str) -> str | None:
    """An Administrator sets `name`'s password, without the old one: their private halves
    are sealed under a password nobody else knows, so they get new key pairs, certified
    at once. Everything their old keys opened or signed is carried over by the
    custodian: their wraps made again to the new keys, and their audit signatures and
    attested rows checked and signed again with the new key (those that no longer
    verified stay broken). The store's master key changes as at a delete, so that the
    old slot, and the old password with it, opens nothing of the store (returns why that
    waits, as `delete_users` does)."""
    validate_new_password(password)
    _resettable(session, name)
    if session.custodian is None:
        raise CustodianRequired(
            "a new password gives the user new keys, to which only a key custodian (an "
            f"Administrator) can wrap their keys again; {session.user_name!r} is not one. "
            "Nothing was changed."
        )
    store = session.store
    anchor = anchor_of(session.custodian_public)
    slot, kek = keyslots.new_slot(
        store.store_id, name, password, store.master_key(), custodian=anchor
    )
    fresh = keyslots.KeySlots(store.store_id, {name: slot}).open(name, kek)
    new_keys = UserKeys(fresh.private)

    def reset() -> None:
        row = _resettable(session, name)  # again, in the transaction: as it is now
        custody.keys_replaced(session, row, new_keys)
        key_grants.remove_all(session, [row.id])
        key_grants.sync(session, statements.GrantScope(users=[row.id]))
        journal.record(session.user_name, "user.reset_password", name)
        key_change.record(session)

    def recipients() -> dict[str, bytes]:
        others = key_change.live().where(User.name != name)
        return key_change.key_holders(session, others) | {name: slot.public}

    return key_change.rotate(session, recipients, reset, {name: slot})


def _resettable(session: Session, name: str) -> User:
    row = _user(name)
    if row.id == session.user_id:
        raise ValidationError("user", "reset another user's password; change your own with passwd")
    return row


def _remove_links(session: Session, row: User) -> None:
    """The rows that name `row` as a grantee, revoked and removed."""
    memberships = [m.id for m in UserGroupMember.select().where(UserGroupMember.user == row.id)]
    attestations.revoke_rows(session, "ugm", memberships)
    UserGroupMember.delete().where(UserGroupMember.id.in_(memberships)).execute()
    links = [link.id for link in PolicyUser.select().where(PolicyUser.user == row.id)]
    attestations.revoke_rows(session, "pu", links)
    PolicyUser.delete().where(PolicyUser.id.in_(links)).execute()
    owned = [c.id for c in Certificate.select(Certificate.id).where(Certificate.owner == row.id)]
    attestations.revoke_rows(session, "owned", owned)
    Certificate.update(owner=None, owner_attestation=None).where(
        Certificate.id.in_(owned)
    ).execute()
    requested = [r.id for r in Request.select(Request.id).where(Request.owner == row.id)]
    attestations.revoke_rows(session, "request_owner", requested)
    Request.update(owner=None, owner_attestation=None).where(Request.id.in_(requested)).execute()


@operation("user.password", None)
def change_password(session: Session, current: str, new: str) -> bytes:
    """The signed-in user's own password: their key pairs sealed under `new` (Argon2id, a
    new salt), `current` proving it is them whoever sits at an open window. Returns the
    new KEK, for a login remembered on this workstation (`logins.keep_remembered`).
    Argon2id runs twice before the write lock is taken."""
    validate_new_password(new)
    if new == current:
        raise ValidationError("new password", "the same as the current one; choose another")
    name = session.user_name
    slots = session.store.slots()
    try:
        kek = slots.kek_for(name, current)
        slot, new_kek = slots.resealed(name, kek, new)
    except AuthenticationError:
        raise ValidationError("current password", f"wrong password for {name!r}") from None
    before = slots.slots[name]
    try:
        with write_transaction(session):
            journal.record(name, "user.password", name)
            session.store.replace_slot(name, before, slot, forget_before=True)
    except BaseException:
        # The slot file is written before the commit: a commit that failed must not
        # leave the new password in place with no event saying so.
        session.store.restore_slot(name, slot, before)
        raise
    return new_kek


def sign_in(
    folder: Path, user: str, password: str | None = None, kek: bytes | None = None
) -> tuple[Session, bytes]:
    """Unlock with the password (or a remembered KEK); return the session and the KEK.
    Failures are counted (app.attempts): after a few in a row, each attempt for the user
    waits longer first."""
    attempts.wait(folder, attempts.SIGN_IN, user)
    try:
        store, kek, opened = unlock_store(folder, user, password=password, kek=kek)
    except AuthenticationError:
        attempts.failed(folder, attempts.SIGN_IN, user)
        raise
    attempts.succeeded(folder, attempts.SIGN_IN, user)
    try:
        row = User.get_or_none(User.name == user)
        if row is None or not row.enabled:
            raise AuthenticationError(f"User {user!r} is not allowed to sign in to this store.")
        session = _session(store, row)
        if _keep_public_keys(session, row, kek, opened):
            opened = session.store.slots().open(user, kek)
        session.keys = UserKeys(opened.private)
        with journal.signed_by(user, session.keys, store.store_id):
            custody.take_keys(session, kek, opened)
            custody.check_role(session, row.role)
            key_change.settle(session, opened)
            _newer_records(session)
            _custodian_duties(session)
            key_change.make_owed(session)
            _compare_head(session)
            _report_failed_sign_ins(session)
    except BaseException:
        store.close()
        raise
    return session, kek


def _keep_public_keys(session: Session, row: User, kek: bytes, opened: OpenedSlot) -> bool:
    """The user's slot keyed and its public halves in the user's row: a slot of a store
    made before key pairs gets them at its user's first sign-in (the KEK proves the
    password), and a row that missed them (a sign-in killed between the slot file and
    the commit) gets them at the next. True if the slot changed. A row that has keys is
    never changed: a slot with other keys, or of the kind made before key pairs, was
    put there by someone else (TamperedError)."""
    slot = session.store.slots().slots.get(row.name)
    if row.public_keys is not None:
        if opened.private is None or slot is None or slot.public != blob(row.public_keys):
            raise TamperedError(
                f"the key slot of {row.name!r} is not the one the store knows for them: "
                f"{custody.TAMPERED}"
            )
        return False
    with write_transaction(session):
        public = session.store.keyed_slot(row.name, kek)
        User.update(public_keys=public).where(User.id == row.id).execute()
        keys = UserKeys(session.store.slots().open(row.name, kek).private)
        with journal.signed_by(row.name, keys, session.store.store_id):
            journal.record(row.name, "user.keys", row.name)
    return True


def _newer_records(session: Session) -> None:
    """At sign-in, where the store's roster is older than the newest this workstation saw
    (users' records or a database put back): the user signing in is refused if the
    newer roster says otherwise of them, and a custodian's sign-in puts the others'
    records back as it says. So a user it disabled, deleted or gave another role is so
    again, and holds none of the wraps that took away, before any grant is made."""
    kept = audit_heads.newest_roster(session.store.store_id)
    differ = {} if kept is None else custody.newer_roster(session, kept)
    if not differ:
        return
    for line, whose in (
        (session.user_name, f"the record of {session.user_name!r}"),
        (rosters.role_line(session.role), f"the role {session.role!r}"),
    ):
        if line in differ:
            raise TamperedError(
                f"{whose} is older than the one this workstation last saw: {custody.TAMPERED}"
            )
    if session.custodian is None:
        return  # `_compare_head` says the store is older
    names = sorted(n for n in differ if not rosters.is_role_line(n))
    roles = sorted(n for n in differ if rosters.is_role_line(n))
    with write_transaction(session):
        custody.roster_from(session, kept.serial, {n: r.version for n, r in differ.items()})
        for line in roles:
            _put_back_role(session, line[len(rosters.ROLE) :], differ[line])
        deleted = [_put_back_record(session, User.get(User.name == n), differ[n]) for n in names]
        names += [f"role {line[len(rosters.ROLE) :]}" for line in roles]
        journal.record(session.user_name, "user.records_restored", ", ".join(names))
        if any(deleted):  # their slots go with a change of key (`key_change.make_owed`)
            key_change.record(session)
    session.notices.append(
        f"users' records older than the ones this workstation last saw were put back "
        f"as it saw them: {', '.join(map(repr, names))}"
    )


def _put_back_role(session: Session, name: str, record: RosterRecord) -> None:
    """In the caller's write transaction: the custom role `name` with the permissions a
    newer roster's `record` gives it, signed again (a role deleted since keeps its rows
    only while users have it: none may sign in with it)."""
    if name in BUILTIN_ROLES:
        raise TamperedError(f"the roster names a built-in role as a custom one: {custody.TAMPERED}")
    role = Role.get_or_none(Role.name == name)
    if role is None and not record.deleted:  # deleted behind Certdesk's back: made again
        role = Role.create(name=name, builtin=False)
    elif role is None:
        custody.sign_role(session, name, None)
        return
    permissions = None if record.deleted else rosters.permissions_of(record)
    RolePermission.delete().where(RolePermission.role == role.id).execute()
    if permissions:
        fields = [RolePermission.role, RolePermission.permission]
        rows = [(role.id, p) for p in sorted(permissions)]
        RolePermission.insert_many(rows, fields=fields).execute()
    custody.sign_role(session, name, permissions)


def _put_back_record(session: Session, row: User, record: RosterRecord) -> bool:
    """In the caller's write transaction: `row`'s role and state as a newer roster's
    `record` says, its wraps made to match. Returns whether it deleted them again (as
    `delete_users` does, the change of key left to the caller)."""
    if record.deleted:
        if not row.deleted:
            _delete_row(session, row)
        return not row.deleted
    role_row = Role.get_or_none(Role.name == record.role)
    if role_row is None:  # renamed or deleted behind Certdesk's back: never skipped
        raise TamperedError(
            f"the role {record.role!r} of the record of {row.name!r} this workstation saw is "
            f"missing: {custody.TAMPERED}"
        )
    if record.role != row.role.name:
        custody.role_changed(session, row, record.role)
        User.update(role=role_row).where(User.id == row.id).execute()
        row = User.get_by_id(row.id)
    if record.enabled != row.enabled:
        custody.enabled_changed(session, row, record.enabled)
        User.update(enabled=record.enabled).where(User.id == row.id).execute()
    key_grants.sync(session, statements.GrantScope(users=[row.id]))
    return False


def _report_failed_sign_ins(session: Session) -> None:
    """At an Administrator's sign-in: the failed sign-ins counted since the last report
    (app.attempts), into the audit log, one event per user."""
    if session.role != ADMINISTRATOR:
        return
    counts = attempts.unreported(session.folder)
    if not counts:
        return
    with write_transaction(session):
        events = [
            (name, {"failures": count, "last": dt.datetime.fromtimestamp(last, dt.UTC).isoformat()})
            for name, (count, last) in sorted(counts.items())
        ]
        journal.record_each(session.user_name, "user.sign_in_failed", events, outcome="failed")
    attempts.reported(session.folder, counts)


def _compare_head(session: Session) -> None:
    """The newest audit event and roster this workstation saw of the store, and those
    kept (signed) in the store folder, must still be there: if the event is not, its
    newest events were deleted or an older database put in place; if the roster is
    older, older records were put back. Said to the user (`session.notices`) and
    recorded, and the store's present end is what is seen from now on."""
    db, store_id = session.store.db, session.store.store_id
    now = head_now(db)
    kept = audit_heads.in_folder(session.folder)
    if (session.folder / audit_heads.FOLDER_FILE).exists() and not _signed(session, kept):
        # Not one a user of the store signed: it would keep every later head out.
        keep_folder_head(session, session.keys, now, newer_only=False)
        session.notices.append(f"{UNSIGNED_HEAD}; it is written again")
    heads = {
        "the one this workstation last saw": audit_heads.seen(store_id),
        f"the one its folder's audit head says {kept and kept.signer!r} saw": (
            kept.head if _signed(session, kept) else None
        ),
    }
    found = ((than, _older(db, head, now)) for than, head in heads.items() if head)
    than, why = next(((than, why) for than, why in found if why), (None, None))
    if why is None:
        return
    session.notices.append(f"{OLDER} {than}: {why}")
    with write_transaction(session):
        journal.record(session.user_name, "store.older", "", ends=now.event_id, roster=now.roster)
    keep_head(session, session.keys, head_now(db), newer_only=False)


def head_problems(session: Session) -> list[str]:
    """For `check`: the store older than a head this sign-in compared it with, and the
    head in the store folder if no user of the store signed it or the log lacks its
    event."""
    problems = [
        f"audit head: {notice}"
        for notice in session.notices
        if notice.startswith((OLDER, UNSIGNED_HEAD))
    ]
    path = session.folder / audit_heads.FOLDER_FILE
    if not path.exists() or session.custodian_public is None:
        return problems
    kept = audit_heads.in_folder(session.folder)
    if not _signed(session, kept):
        return [*problems, f"audit head: {UNSIGNED_HEAD}, so no sign-in takes it"]
    db = session.store.db
    why = _older(db, kept.head, head_now(db))
    return problems + ([f"{audit_heads.FOLDER_FILE}: {why}"] if why else [])


def _older(db: peewee.Database, head: audit_heads.Head, now: audit_heads.Head) -> str | None:
    """Why the store is older than `head`, if it is."""
    if statements.audit_hashes(db, [head.event_id]).get(head.event_id) != head.event_hash:
        ends = f"it ends at event {now.event_id:,}" if now.event_id else "it is empty"
        return (
            f"its audit log lacks event {head.event_id:,} ({ends}). Its newest events were "
            "deleted, or an older copy of its database was put in place."
        )
    if now.roster < head.roster:
        return (
            f"its users' roles and states are those of change {now.roster:,}, and it was "
            f"seen at change {head.roster:,}: older records were put back."
        )
    return None


def _signed(session: Session, kept: audit_heads.SignedHead | None) -> bool:
    """Whether the head kept in the folder is signed by an enabled user whose keys and
    record hold."""
    if kept is None or session.custodian_public is None:
        return False
    row = User.get_or_none(User.name == kept.signer)
    if row is None or not row.enabled or row.deleted or not custody.record_holds(session, row):
        return False
    keys = custody.verified_keys(session, row.name, row.public_keys, row.certified)
    head = kept.head
    statement = audit_head(session.store.store_id, head.event_id, head.event_hash, head.roster)
    return keys is not None and keys.verify(kept.signature, statement)


def _custodian_duties(session: Session) -> None:
    """A custodian's sign-in does what waited for one (custody.settle) and makes the
    grants it owes; the store's database is copied first when keys move."""
    try:
        if not custody.duties(session):
            return
        if custody.moves_keys():
            session.store.copy_database(session.folder / KEYS_MOVED_BACKUP)
        with write_transaction(session):
            # Only what is owed to the users certified and the keys moved now: no other
            # grant is made at a sign-in.
            for scope in custody.settle(session):
                key_grants.sync(session, scope)
    except TamperedError as exc:
        session.notices.append(f"the custodian's duties at sign-in were not done: {exc}")
    except (StoreBusyError, StoreFullError, StoreDamagedError):
        # Rolled back, and tried again at the next custodian's sign-in: a busy or full
        # store, or a damaged wrap (which `check` names), does not keep them out.
        pass


def _session(store, user: User | None) -> Session:
    if user is None:
        return Session(store, 0, "", "", frozenset())
    permissions = frozenset(
        p
        for (p,) in RolePermission.select(RolePermission.permission)
        .where(RolePermission.role == user.role_id)
        .tuples()
    )
    role = user.role.name
    # A built-in role's permissions are Certdesk's own: rows changed in the database
    # grant nothing. A custom role's are the custodian's, checked once it is known
    # (`custody.check_role`, at sign-in).
    if role in BUILTIN_ROLES and permissions != frozenset(BUILTIN_ROLES[role][1]):
        raise TamperedError(f"the role {role!r} is not one Certdesk made: {custody.TAMPERED}")
    return Session(store, user.id, user.name, role, permissions)


def validate_user_group_name(name: str) -> str:
    return check_name("user group", name, MAX_USER_GROUP_NAME)


@operation("user.list", CERTIFICATES_VIEW, reads=True)
def list_users(session: Session) -> list[UserRow]:
    memberships: dict[int, list[str]] = {}
    for user_id, group in (
        UserGroupMember.select(UserGroupMember.user, UserGroup.name).join(UserGroup).tuples()
    ):
        memberships.setdefault(user_id, []).append(group)
    owned = dict(
        Certificate.select(Certificate.owner, peewee.fn.COUNT(Certificate.id))
        .where(Certificate.owner.is_null(False))
        .group_by(Certificate.owner)
        .tuples()
    )
    rows = [
        UserRow(
            user.name,
            user.role.name,
            user.enabled,
            tuple(sorted(memberships.get(user.id, []), key=str.casefold)),
            user.display_name,
            owned.get(user.id, 0),
            user.created_at,
        )
        for user in User.select(User, Role).join(Role).where(~User.deleted)
    ]
    return sorted(rows, key=lambda r: r.name.casefold())


@operation("user.names", CERTIFICATES_VIEW, reads=True)
def user_names(session: Session) -> list[str]:
    """Every user of the store, for owner pickers."""
    names = [name for (name,) in User.select(User.name).where(~User.deleted).tuples()]
    return sorted(names, key=str.casefold)
