"""`certdesk check`: is the store whole? Database pages, key slots, sealed keys, audit chain."""

import re
from collections.abc import Callable

from app.crypto.sealing import SealError
from app.errors import CertdeskError
from app.services.audit import chain_breaks
from app.services.session import Session
from app.sqlite_errors import DATABASE_ERRORS
from app.store import load_slots
from models import PrivateKey, User, database
from models.permissions import AUDIT_VIEW

PAGE_NUMBER = re.compile(r"\bpage (\d+)\b")


def check_store(session: Session) -> list[str]:
    """One line per problem found; an empty list means the store is intact. Each sealed
    key is opened to prove it can be, and the plaintext dropped at once. The pages are
    checked first: a damaged page makes every later reading fail, and that failure is
    reported as what it could not read, never as an error of the check itself."""
    session.require(AUDIT_VIEW)
    problems = _page_problems()
    for what, step in (
        ("key slots", lambda: _slot_problems(session)),
        ("private keys", lambda: _sealed_key_problems(session)),
        ("audit log", _audit_problems),
    ):
        problems.extend(_readable(what, step))
    return problems


def _readable(what: str, step: Callable[[], list[str]]) -> list[str]:
    try:
        return step()
    except DATABASE_ERRORS as exc:
        _reconnect()
        return [f"{what}: cannot be read from the damaged database ({exc})"]


def _page_problems() -> list[str]:
    """SQLCipher's check of every page's HMAC, naming the table or index each damaged
    page belongs to; then SQLite's own structural check."""
    failures = [line for (line,) in database.execute_sql("PRAGMA cipher_integrity_check")]
    if failures:
        trees = ", ".join(_unreadable_trees()) or "none: the pages are not in use"
        pages = sorted({int(m.group(1)) for f in failures for m in PAGE_NUMBER.finditer(f)})
        return [f"database page {p}: damaged (its HMAC does not match)" for p in pages] + [
            f"database: unreadable tables and indexes: {trees}"
        ]
    try:
        lines = [line for (line,) in database.execute_sql("PRAGMA integrity_check")]
    except DATABASE_ERRORS as exc:
        return [f"database: {exc}"]
    return [f"database: {line}" for line in lines if line != "ok"]


def _unreadable_trees() -> list[str]:
    """Each table and index read whole, alone: those that fail hold a damaged page."""
    found = []
    objects = database.execute_sql(
        "SELECT type, name, tbl_name FROM sqlite_master "
        "WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_stat%' ORDER BY name"
    ).fetchall()
    for kind, name, table in objects:
        try:
            if kind == "table":
                cursor = database.execute_sql(f'SELECT * FROM "{name}" NOT INDEXED')
            else:
                columns = [row[2] for row in database.execute_sql(f'PRAGMA index_info("{name}")')]
                if not columns or None in columns:
                    continue  # an index on expressions: integrity_check covers it
                listed = ", ".join(f'"{c}"' for c in columns)
                cursor = database.execute_sql(
                    f'SELECT {listed} FROM "{table}" INDEXED BY "{name}" ORDER BY "{columns[0]}"'
                )
            while cursor.fetchmany(1000):
                pass
        except DATABASE_ERRORS:
            found.append(f"{kind} {name}" if kind == "table" else f"index {name} of {table}")
            _reconnect()
    return found


def _reconnect() -> None:
    """SQLCipher fails every later read on a connection that met a damaged page."""
    database.close()
    database.connect()


def _slot_problems(session: Session) -> list[str]:
    try:
        slotted = set(load_slots(session.folder).users())
    except CertdeskError as exc:
        return [f"key slots: {exc}"]
    known = {name for (name,) in User.select(User.name).tuples()}
    return [f"key slots: no slot for the user {n!r}" for n in sorted(known - slotted)] + [
        f"key slots: a slot for no user, {n!r}" for n in sorted(slotted - known)
    ]


def _sealed_key_problems(session: Session) -> list[str]:
    problems = []
    sealer = session.store.sealer
    for key_id, uid, sealed in PrivateKey.select(
        PrivateKey.id, PrivateKey.uid, PrivateKey.sealed
    ).tuples():
        try:
            sealer.open(sealed, uid)
        except SealError as exc:
            problems.append(f"private key {key_id}: does not open ({exc})")
    return problems


def _audit_problems() -> list[str]:
    return [f"audit event {i}: its hash or link does not match" for i in chain_breaks()]
