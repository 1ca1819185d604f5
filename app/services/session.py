"""Who is acting on which open store; every service function takes a Session first."""

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.errors import PermissionDenied
from app.services import journal
from app.sqlite_errors import database_errors, store_problem
from app.store import Store
from models.permissions import PERMISSION_WORDS


@dataclass
class Session:
    store: Store
    user_id: int
    user_name: str
    role: str
    permissions: frozenset[str]

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
        self.store.close()


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
