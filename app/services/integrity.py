"""`certdesk check`: is the store whole? Database pages, key slots, sealed keys, audit chain."""

import re
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from app.crypto.certinfo import spki_sha256_of_public_key
from app.crypto.parse import quietly
from app.errors import CertdeskError, StoreDamagedError, TamperedError
from app.keyslots import BACKUP_FILE
from app.services import custody, key_change, key_grants, users
from app.services.journal import chain_breaks
from app.services.operations import operation
from app.services.session import Session
from app.sqlite_errors import database_errors
from models import (
    Certificate,
    CertificateDer,
    CustodianWrap,
    PrivateKey,
    Request,
    Role,
    User,
    statements,
)
from models.permissions import ADMINISTRATOR, AUDIT_VIEW

PAGE_NUMBER = re.compile(r"\bpage (\d+)\b")

# The rows that decide who may sign (models.statements ATTESTED), in words.
ATTESTED_ROWS = {
    "policies": "policies",
    "pc": "policies' certificates",
    "pcg": "policies' certificate groups",
    "pu": "policies' users",
    "pug": "policies' user groups",
    "ugm": "user group members",
    "members": "certificate group members",
    "rg": "requests' certificate groups",
    "owned": "certificate owners",
    "request_owner": "requests' owners",
    "request_renews": "requests' renewed certificates",
}


@operation("store.check", AUDIT_VIEW, reads=True)
def check_store(session: Session) -> list[str]:
    """One line per problem found; an empty list means the store is intact. Each sealed
    key is opened to prove it can be, and matched against the public key of every
    certificate and request that holds it; the plaintext is dropped at once. The pages are
    checked first: a damaged page makes every later reading fail, and that failure is
    reported as what it could not read, never as an error of the check itself."""
    db = session.store.db
    problems = _page_problems(db)
    for what, step in (
        ("key slots", lambda: _slot_problems(session)),
        ("private keys", lambda: _sealed_key_problems(session)),
        ("key custody", lambda: _custody_problems(session)),
        ("audit log", lambda: _audit_problems(session)),
        ("audit head", lambda: users.head_problems(session)),
        ("store key", lambda: key_change.problems(session)),
    ):
        problems.extend(_readable(db, what, step))
    return problems


def _readable(db, what: str, step: Callable[[], list[str]]) -> list[str]:
    try:
        return step()
    except database_errors() as exc:
        _reconnect(db)
        return [f"{what}: cannot be read from the damaged database ({exc})"]


def _page_problems(db) -> list[str]:
    """SQLCipher's check of every page's HMAC, naming the table or index each damaged
    page belongs to; then SQLite's own structural check."""
    failures = statements.cipher_page_failures(db)
    if failures:
        trees = ", ".join(_unreadable_trees(db)) or "none: the pages are not in use"
        pages = sorted({int(m.group(1)) for f in failures for m in PAGE_NUMBER.finditer(f)})
        return [f"database page {p}: damaged (its HMAC does not match)" for p in pages] + [
            f"database: unreadable tables and indexes: {trees}"
        ]
    try:
        lines = statements.structure_problems(db)
    except database_errors() as exc:
        return [f"database: {exc}"]
    return [f"database: {line}" for line in lines]


def _unreadable_trees(db) -> list[str]:
    """Each table and index read whole, alone: those that fail hold a damaged page."""
    found = []
    for kind, name, table in statements.tables_and_indexes(db):
        try:
            statements.read_whole(db, kind, name, table)
        except database_errors():
            found.append(f"{kind} {name}" if kind == "table" else f"index {name} of {table}")
            _reconnect(db)
    return found


def _reconnect(db) -> None:
    """SQLCipher fails every later read on a connection that met a damaged page."""
    db.close()
    db.connect()


def _slot_problems(session: Session) -> list[str]:
    try:
        slots = session.store.slots().slots
    except CertdeskError as exc:
        return [f"key slots: {exc}"]
    public_keys = dict(User.select(User.name, User.public_keys).where(~User.deleted).tuples())
    deleted = {name for (name,) in User.select(User.name).where(User.deleted).tuples()}
    known, slotted = set(public_keys), set(slots)
    problems = [f"key slots: no slot for the user {n!r}" for n in sorted(known - slotted)]
    problems += [
        f"key slots: a slot for the deleted user {n!r}"
        if n in deleted
        else f"key slots: a slot for no user, {n!r}"
        for n in sorted(slotted - known)
    ]
    # A row without them is a user who has not signed in since key pairs came.
    problems += [
        f"key slots: the public keys of {n!r} differ from those the store keeps for them"
        for n in sorted(known & slotted)
        if public_keys[n] is not None and slots[n].public != public_keys[n]
    ]
    try:  # the copy that recovers a damaged slot file must itself be sound
        previous = session.store.previous_slots()
        if previous is not None and previous.store_id != session.store.store_id:
            problems.append(f"key slots: {BACKUP_FILE} is of another store")
    except CertdeskError as exc:
        problems.append(f"key slots: {exc}")
    return problems


def _custody_problems(session: Session) -> list[str]:
    """The custodian's certificates of users' keys, and every key's wraps against who may
    sign with it. (Sign-in already refused a custodian other than the one the signed-in
    user's slot trusts.)"""
    if session.custodian_public is None:
        return []
    rows = list(User.select(User, Role).join(Role))
    problems = [
        f"user {row.name!r}: the custodian did not certify the keys kept for them"
        for row in rows
        if row.certified is not None
        and custody.verified_keys(session, row.name, row.public_keys, row.certified) is None
    ]
    problems += [
        f"user {row.name!r}: their role or state is not one an Administrator set"
        for row in rows
        if not custody.record_holds(session, row)
    ]
    problems += [
        f"role {role.name!r}: its permissions are not the ones an Administrator gave it"
        for role in Role.select()
        if not custody.role_holds(session, role)
    ]
    wrapped = {user_id for (user_id,) in CustodianWrap.select(CustodianWrap.user).tuples()}
    problems += [
        f"user {row.name!r}: holds the custodian's wrap without being an enabled Administrator"
        for row in rows
        if row.id in wrapped and (row.role.name != ADMINISTRATOR or not row.enabled)
    ]
    db = session.store.db
    names = {row.id: row.name for row in rows}
    for key_id, user_id in statements.grants_to_remove(db):
        who = names.get(user_id, user_id)
        problems.append(f"private key {key_id}: wrapped to {who!r}, who may not sign with it")
    try:
        checker = key_grants.Checker(session)
    except TamperedError as exc:
        return [*problems, f"key custody: {exc}"]
    owed = {(g.key_id, g.user_id) for g in statements.grants_to_make(db, attested=checker)}
    for grant in statements.grants_to_make(db):
        why = (
            "an Administrator's next change of its owner, groups or policies makes it"
            if (grant.key_id, grant.user_id) in owed
            else "the rows that say so are not attested, so it is never made"
        )
        problems.append(
            f"private key {grant.key_id} ({grant.alias!r}): {grant.user_name!r} may sign with it "
            f"but holds no wrap ({why})"
        )
    for what in statements.ATTESTED:
        ids = statements.not_attested(db, what, checker)
        if ids:
            listed = ", ".join(str(i) for i in ids[:10]) + (", …" if len(ids) > 10 else "")
            problems.append(
                f"{ATTESTED_ROWS[what]}: {len(ids):,} not signed by a user whose role may write "
                f"them (ids {listed}); they hand no key on"
            )
    problems += [
        f"certificate {alias!r}: its PIN is Certdesk's check alone, not a factor of its key's "
        "wraps (it was set before PINs sealed them): set it again"
        for alias in statements.pins_not_sealing(db)
    ]
    problems += [
        f"private key {key_id}: wrapped to {names.get(user_id, user_id)!r} without its PIN"
        for key_id, user_id in statements.grants_without_pin(db)
    ]
    if custody.moves_keys():
        problems.append(
            "private keys: some are still sealed as before data keys; an Administrator's "
            "sign-in moves them"
        )
    return problems


def _sealed_key_problems(session: Session) -> list[str]:
    problems: list[str] = []
    public_keys = _open_keys(session, problems)
    for alias, key_id, der in (
        Certificate.select(Certificate.alias, Certificate.private_key, CertificateDer.der)
        .join(CertificateDer)
        .where(Certificate.private_key.is_null(False))
        .order_by(Certificate.id)
        .tuples()
    ):
        if key_id in public_keys and public_keys[key_id] != _public_key(
            x509.load_der_x509_certificate, der
        ):
            problems.append(
                f"certificate {alias!r}: its private key does not belong to its certificate"
            )
    for request_id, alias, key_id, csr_pem in (
        Request.select(Request.id, Request.alias, Request.private_key, Request.csr_pem)
        .where(Request.private_key.is_null(False))
        .order_by(Request.id)
        .tuples()
    ):
        if key_id in public_keys and public_keys[key_id] != _public_key(
            x509.load_pem_x509_csr, csr_pem.encode()
        ):
            problems.append(
                f"request {request_id} ({alias!r}): its private key does not belong to its request"
            )
    return problems


def _audit_problems(session: Session) -> list[str]:
    return (
        [f"audit event {i}: its hash or link does not match" for i in chain_breaks()]
        + [
            f"audit event {i}: no signature of its user covers it"
            for i in custody.audit_breaks(session)
        ]
        + [
            f"audit event {i}: written by a user after their deletion"
            for i in custody.after_deletion(session)
        ]
    )


def _open_keys(session: Session, problems: list[str]) -> dict[int, object]:
    """The public key of every sealed key that opens, by key id. A key sealed under its
    own data key is opened only by a custodian or a user it was wrapped to: the others
    are not the session's to open, and not checked here."""
    public_keys: dict[int, object] = {}
    for key in PrivateKey.select():
        if not key_grants.can_open(session, key):
            continue
        try:
            pkcs8 = key_grants.open_key(session, key, f"private key {key.id}")
            public_key = serialization.load_der_private_key(pkcs8, password=None).public_key()
        except StoreDamagedError:
            problems.append(f"private key {key.id}: does not open (its seal or wrap is damaged)")
            continue
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            problems.append(f"private key {key.id}: opens to no readable key ({exc})")
            continue
        # Keys sealed before the hash was bound in could carry another key's hash, and
        # imports and requests find keys by it.
        if spki_sha256_of_public_key(public_key) != key.spki_sha256:
            problems.append(f"private key {key.id}: its recorded public key hash is not its own")
        public_keys[key.id] = public_key
    return public_keys


def _public_key(load, data: bytes):
    """The public key of a certificate or request, None when it cannot be read."""
    try:
        return quietly(lambda: load(data).public_key())
    except (ValueError, UnsupportedAlgorithm):
        return None
