"""Changing the store's master key (app.store.rotate_master_key): made by a delete or a
password reset, signed by the custodian, finished at a later sign-in when it has to wait,
undone if it never committed, refused if nobody signed it, and made anew when a change is
owed and its next key was taken out. The `store.rekey` audit event of each change names
the key it changes from (key_wraps.key_name): while the database has that key, the change
is owed."""

from collections.abc import Callable, Iterable

from app import keyslots
from app.crypto.key_wraps import key_name
from app.crypto.user_keys import WrapError
from app.errors import CertdeskError, TamperedError, ValidationError
from app.keyslots import OpenedSlot
from app.services import custody, journal
from app.services.operations import operation
from app.services.session import Session, head_now, keep_head, write_transaction
from app.sqlite_errors import database_errors, store_problem
from models import AuditEvent, User

KEY_CHANGE = "store.rekey"
UNSIGNED_KEY_CHANGE = f"{keyslots.SLOTS_FILE} held a change of the store's key"
KEY_CHANGE_WAITS = "the change of the store's key is not finished"


def record(session: Session) -> None:
    """The audit event of a change of the store's key, naming the key it changes from:
    while the database still has that key, the change is owed (`owed_event`)."""
    from_key = key_name(session.store.master_key())
    journal.record(session.user_name, KEY_CHANGE, str(session.folder), from_key=from_key)


def rotate(
    session: Session,
    recipients: Callable[[], dict[str, bytes]],
    change: Callable[[], None],
    replaced: dict[str, keyslots.Slot] | None = None,
) -> str | None:
    """`store.rotate_master_key`, signed by the session's custodian; returns why the
    database keeps its key until a later sign-in, if it does. Refused while keys sealed
    before data keys wait to move: they are sealed under the store's present key."""
    if custody.moves_keys():
        raise ValidationError(
            "store",
            "some private keys are still sealed as before data keys came, under the "
            "store's present key; an Administrator's sign-in moves them (run any command), "
            "then try again. Nothing was changed.",
        )
    try:
        waits = session.store.rotate_master_key(
            recipients, change, session.custodian.sign, replaced
        )
    except database_errors() as exc:
        raise store_problem(exc, session.folder) or exc from exc
    # The folder's head now: one signed with keys just replaced would no longer be taken.
    keep_head(session, session.keys, head_now(session.store.db))
    return waits


def key_holders(session: Session, users: Iterable[User]) -> dict[str, bytes]:
    """The slot each user who stays gets the store's next key in: their certified keys.
    A user whose record the custodian's roster does not hold (a deleted user's row
    brought back in the database) gets none. A slot of version 1 opens with its user's
    password alone, to which no new key can be wrapped: refused until that user has
    signed in once."""
    holders = {}
    for row in users:
        if row.public_keys is not None and not custody.record_holds(session, row):
            continue
        keys = custody.verified_keys(session, row.name, row.public_keys, row.certified)
        if keys is None:
            raise ValidationError(
                "user",
                f"{row.name!r} has not signed in since key pairs came, and the store's key "
                "cannot change without them: have them sign in once (or delete them too). "
                "Nothing was changed.",
            )
        holders[row.name] = keys.raw
    return holders


def live():
    """The users not deleted, as a query read when it is iterated."""
    return User.select().where(~User.deleted)


def settle(session: Session, opened: OpenedSlot) -> None:
    """At sign-in, before anything is written: a change of the store's key found in the
    slot file. Finished if the custodian signed it, from the key the slot holds to its
    next one, and it committed (the database has the next key already, or the change is
    owed); undone if it never committed. One no custodian signed is taken out, or
    refused as tampering if the database has that key already. What waits is said in
    the session's notices."""
    if opened.next_master_key is None:
        return
    store = session.store
    slots = store.slots()
    if _finished_meanwhile(session, slots):
        return
    public = session.custodian_public
    signed = slots.change_signed(public, opened.master_key, opened.next_master_key)
    rekeyed = store.master_key() == opened.next_master_key
    if signed and (rekeyed or owed_event(session) is not None):
        if waits := store.finish_key_change(opened.next_master_key):
            session.notices.append(f"{KEY_CHANGE_WAITS}: {waits}")
    elif signed:
        store.undo_key_change()
    elif rekeyed:
        raise TamperedError(
            f"the store's key was changed by someone who is not its custodian: {custody.TAMPERED}"
        )
    else:
        store.drop_key_change()
        session.notices.append(
            f"{UNSIGNED_KEY_CHANGE} that no custodian signed; it was not taken, and is taken out"
        )
        with write_transaction(session):
            journal.record(session.user_name, KEY_CHANGE, "", outcome="denied")


@operation("store.finish_key_change", None)
def finish_waiting(session: Session) -> str | None:
    """A change of the store's key that had to wait (a delete or a password reset made
    while other connections had the store open, the console's own readers among them),
    finished now if the store is alone and the custodian signed it, as a sign-in would.
    Returns why it still waits; None when it is finished or none waits."""
    store = session.store
    slots = store.slots()
    held = None if session.keys is None else slots.change_held(session.user_name, session.keys)
    if held is None:
        return None
    master, next_key = held
    if not slots.change_signed(session.custodian_public, master, next_key):
        return None  # the next sign-in takes out, or refuses, what no custodian signed
    rekeyed = store.master_key() == next_key
    if not rekeyed and (store.master_key() != master or owed_event(session) is None):
        return None  # as at sign-in (`settle`): only a change that committed is finished
    return store.finish_key_change(next_key)


def _finished_meanwhile(session: Session, slots: keyslots.KeySlots) -> bool:
    """Whether another process finished the change while this sign-in ran Argon2id: the
    user's slot, read again, has no next key, and its master key is the database's."""
    mine = slots.slots.get(session.user_name)
    if mine is None or mine.next is not None or session.keys is None:
        return False
    purpose = keyslots.master_purpose(slots.store_id, session.user_name)
    try:
        return session.keys.unwrap(mine.master, purpose) == session.store.master_key()
    except WrapError:
        return False


def make_owed(session: Session) -> None:
    """At sign-in, after the records and duties: a database that still has a key a
    change was owed away from, with no change of it waiting in the slot file (its next
    key was taken out), gets a new key from a custodian's sign-in; others are told."""
    owed = owed_event(session)
    mine = session.store.slots().slots.get(session.user_name)
    if owed is None or (mine is not None and mine.next is not None):
        return  # `settle` said why the change waiting in the slot file waits
    why = "an Administrator's next sign-in makes it"
    if session.custodian is not None:

        def change() -> None:
            record(session)

        try:
            why = rotate(session, lambda: key_holders(session, live()), change)
        except CertdeskError as exc:
            why = str(exc)
        if why is None:
            session.notices.append(
                f"the change of the store's key of audit event {owed:,} had lost its next "
                "key from the slot file; it was made again, with a new key"
            )
            return
    session.notices.append(f"{KEY_CHANGE_WAITS} (audit event {owed:,}): {why}")


def owed_event(session: Session) -> int | None:
    """The audit event of a change of the store's key that names the key the database
    still has as the one it changes from, signed by its user: until the database has
    another, a copy of a slot that change took away still opens it. Any such event
    counts, not only the newest, so an event added after it cannot make it forgotten."""
    name = key_name(session.store.master_key())
    events = (
        AuditEvent.select(AuditEvent.id, AuditEvent.user, AuditEvent.details)
        .where(
            (AuditEvent.action == KEY_CHANGE)
            & (AuditEvent.outcome == "allowed")
            & AuditEvent.details.contains(name)
        )
        .order_by(AuditEvent.id.desc())
    )
    for event in events:
        if journal.details_of(event.details).get("from_key") != name:
            continue
        if custody.audit_event_holds(session, event.id):
            return event.id
    return None


def problems(session: Session) -> list[str]:
    """For `check`: a change of the store's key that waits, and one that no custodian
    signed, which this sign-in took out."""
    problems = [
        f"store key: {notice}"
        for notice in session.notices
        if notice.startswith((UNSIGNED_KEY_CHANGE, KEY_CHANGE_WAITS))
    ]
    if not problems and (owed := owed_event(session)) is not None:
        problems.append(f"store key: {KEY_CHANGE_WAITS} (audit event {owed:,})")
    return problems
