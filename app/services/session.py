"""Who is acting on which open store; every service function takes a Session first."""

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app import audit_heads
from app.crypto.key_wraps import audit_head, roster
from app.errors import CertdeskError, PermissionDenied
from app.services import journal
from app.sqlite_errors import database_errors, store_problem
from app.store import Store
from models import roster as rosters
from models import statements
from models.permissions import PERMISSION_WORDS

if TYPE_CHECKING:  # cryptography loads with the sign-in, not with the login dialog
    import peewee

    from app.crypto.user_keys import PublicKeys, UserKeys


@dataclass
class Session:
    store: Store
    user_id: int
    user_name: str
    role: str
    permissions: frozenset[str]
    # Open while the session is, to open what is wrapped to them (app.services.custody):
    # the user's private halves, the custodian's public keys their slot trusts, and the
    # custodian's private halves when the user holds its wrap.
    keys: "UserKeys | None" = field(default=None, repr=False)
    custodian_public: "PublicKeys | None" = field(default=None, repr=False)
    custodian: "UserKeys | None" = field(default=None, repr=False)
    # What the sign-in found that the user must be told, one line each (the faces show
    # them once the session is open).
    notices: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.store.folder

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def refusal(self, permission: str | None) -> str | None:
        """Why an action needing `permission` (None: none) is unavailable, or None when it
        is allowed. The faces show this; the service functions check again regardless."""
        if permission is None or permission in self.permissions:
            return None
        return f"Your role ({self.role}) may not {PERMISSION_WORDS[permission]}."

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(
                f"{self.user_name} lacks the permission {permission} (role {self.role})."
            )

    def authorize(self, permission: str, action: str, target: str = "") -> None:
        """`require`, leaving a "denied" audit event when it refuses a change."""
        if permission in self.permissions:
            return
        with write_transaction(self):
            journal.record(self.user_name, action, target, "denied", permission=permission)
        self.require(permission)

    def close(self) -> None:
        """Close the store, keeping its newest audit event as this workstation's last
        sight of it (app.audit_heads)."""
        keys, self.keys, self.custodian = self.keys, None, None
        try:
            head = head_now(self.store.db)
        except (*database_errors(), CertdeskError):
            head = None  # a damaged or vanished store: nothing to keep
        if head is not None and head.event_id:
            keep_head(self, keys, head)
        self.store.close()


def head_now(db: "peewee.Database") -> "audit_heads.Head":
    """The store's present end: its newest audit event and roster change."""
    last = statements.last_audit_event(db)
    return audit_heads.Head(*(last or (0, "")), statements.roster_serial(db) or 0)


def keep_head(
    session: Session, keys: "UserKeys | None", head: "audit_heads.Head", newer_only: bool = True
) -> None:
    """`head` as the newest this workstation saw of the store, and (signed with `keys`,
    the user's, when they have some) as the newest kept in the store folder."""
    audit_heads.saw(session.store.store_id, head, newer_only)
    _keep_roster(session)
    keep_folder_head(session, keys, head, newer_only)


def keep_folder_head(
    session: Session, keys: "UserKeys | None", head: "audit_heads.Head", newer_only: bool = True
) -> None:
    """`head`, signed with `keys`, as the newest kept in the store folder."""
    if keys is None:
        return
    store_id = session.store.store_id
    audit_heads.keep_in_folder(
        session.folder,
        head,
        session.user_name,
        lambda h: keys.sign(audit_head(store_id, h.event_id, h.event_hash, h.roster)),
        newer_only,
    )


def _keep_roster(session: Session) -> None:
    """The store's roster, if the custodian the session trusts signed it, as the newest
    this workstation saw (app.audit_heads.saw_roster)."""
    public = session.custodian_public
    try:
        found = statements.signed_roster(session.store.db) if public is not None else None
    except database_errors():
        found = None  # a damaged store: nothing to keep
    if found is None:
        return
    store_id = session.store.store_id
    seen = audit_heads.Roster(*found)
    if not public.verify(seen.signature, roster(store_id, seen.serial, seen.records)):
        return
    kept = audit_heads.newest_roster(store_id)
    if kept is not None and rosters.newer_in(kept.records, seen.records, kept.serial > seen.serial):
        return  # it would forget a user's newer record: kept until the store has it again
    audit_heads.saw_roster(store_id, seen)


@contextmanager
def write_transaction(session: Session):
    """One IMMEDIATE transaction: writers queue on the lock instead of failing half-way.
    A busy, full or damaged store ends it with one line saying so; SQLite has then
    rolled back everything the transaction did."""
    try:
        with session.store.db.atomic("IMMEDIATE") as txn:
            yield txn
    except database_errors() as exc:
        problem = store_problem(exc, session.folder)
        if problem is None:
            raise
        raise problem from exc
