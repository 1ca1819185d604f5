"""`certdesk check`: is the store whole? Database pages, key slots, sealed keys, audit chain."""

from app.crypto.sealing import SealError
from app.errors import CertdeskError
from app.keyslots import BACKUP_FILE, KeySlots
from app.services.audit import chain_breaks
from app.services.session import Session
from app.store import load_slots
from models import PrivateKey, User, database
from models.permissions import AUDIT_VIEW


def check_store(session: Session) -> list[str]:
    """One line per problem found; an empty list means the store is intact. Each sealed
    key is opened to prove it can be, and the plaintext dropped at once."""
    session.require(AUDIT_VIEW)
    problems: list[str] = []
    for (line,) in database.execute_sql("PRAGMA integrity_check").fetchall():
        if line != "ok":
            problems.append(f"database: {line}")
    for (line,) in database.execute_sql("PRAGMA cipher_integrity_check").fetchall():
        problems.append(f"database page: {line}")
    try:
        slotted = set(load_slots(session.folder).users())
        known = {name for (name,) in User.select(User.name).tuples()}
        problems += [f"key slots: no slot for the user {n!r}" for n in sorted(known - slotted)]
        problems += [f"key slots: a slot for no user, {n!r}" for n in sorted(slotted - known)]
    except CertdeskError as exc:
        problems.append(f"key slots: {exc}")
    try:  # the copy that recovers a damaged slot file must itself be sound
        if (session.folder / BACKUP_FILE).exists():
            previous = KeySlots.load(session.folder, BACKUP_FILE)
            if previous.store_id != session.store.store_id:
                problems.append(f"key slots: {BACKUP_FILE} is of another store")
    except CertdeskError as exc:
        problems.append(f"key slots: {exc}")
    sealer = session.store.sealer
    for key_id, uid, sealed in PrivateKey.select(
        PrivateKey.id, PrivateKey.uid, PrivateKey.sealed
    ).tuples():
        try:
            sealer.open(sealed, uid)
        except SealError as exc:
            problems.append(f"private key {key_id}: does not open ({exc})")
    problems.extend(f"audit event {i}: its hash or link does not match" for i in chain_breaks())
    return problems
