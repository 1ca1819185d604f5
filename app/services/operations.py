"""Every operation a face may call, declared once with its permission and audit action.

The declaration checks the permission before the operation runs, leaves a "denied"
audit event when it refuses a change, and is what the GUI asks whether to offer an action
(`refusal`), so that the permission is chosen in one place for the CLI, the GUI and the
tests. It also runs the operation on its session's own database connection. An
operation may refuse more finely inside (leaving a certificate in no group
needs the Administrator role); the declaration is the permission it always needs.
"""

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from app.services import journal
from app.services.session import Session
from models.base import using

P = ParamSpec("P")
R = TypeVar("R")

# How many references a refused bulk operation's audit target names before "and N more".
SHOWN_TARGETS = 5


@dataclass(frozen=True)
class Operation:
    name: str  # e.g. "certificate.disable"
    # None: any signed-in user may, on what is their own (their password).
    permission: str | None
    # The action a refused attempt is recorded as; None for a read, whose refusal is
    # not recorded (reading needs no write, so a refusal never fails on a full disk).
    audit_action: str | None


OPERATIONS: dict[str, Operation] = {}


def operation(
    name: str,
    permission: str | None,
    target: str | Callable[..., str] | None = None,
    *,
    reads: bool = False,
    audit_as: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare `function(session, ...)` as the operation `name` needing `permission`.
    A refused change is recorded as `audit_as` (default: `name`, the action its events
    have) against `target`: the name of one of the function's parameters, or a function
    of the bound arguments. A refused read (`reads`) is refused, not recorded."""

    def declare(function: Callable[P, R]) -> Callable[P, R]:
        if name in OPERATIONS:
            raise ValueError(f"operation {name!r} is declared twice")
        signature = inspect.signature(function)

        declared = Operation(name, permission, None if reads else audit_as or name)

        @functools.wraps(function)
        def checked(session: Session, *args, **kwargs):
            signing = journal.signed_by(session.user_name, session.keys, session.store.store_id)
            with using(session.store.db), signing:
                if permission is not None and permission not in session.permissions:
                    if declared.audit_action is None:
                        session.require(permission)
                    bound = signature.bind(session, *args, **kwargs)
                    what = _target(target, bound.arguments)
                    session.authorize(permission, declared.audit_action, what)
                return function(session, *args, **kwargs)

        OPERATIONS[name] = declared
        checked.operation = declared
        return checked

    return declare


def _target(target, arguments: dict) -> str:
    if target is None:
        return ""
    if callable(target):
        return target(arguments)
    return describe(arguments.get(target))


def describe(value) -> str:
    """A reference or a list of them, short enough for one audit line."""
    if value is None:
        return ""
    if isinstance(value, str) or not isinstance(value, Sequence):
        return str(value)
    shown = ", ".join(str(v) for v in value[:SHOWN_TARGETS])
    more = len(value) - SHOWN_TARGETS
    return shown if more <= 0 else f"{shown} and {more} more"


def operation_of(function: Callable) -> Operation:
    try:
        return function.operation
    except AttributeError:
        raise ValueError(f"{function.__qualname__} is not a declared operation") from None


def refusal(session: Session, function: Callable) -> str | None:
    """Why the session may not run this operation, in words for a tooltip; None when it
    may. The operation checks again when it runs."""
    return session.refusal(operation_of(function).permission)


def allowed(session: Session, function: Callable) -> bool:
    return refusal(session, function) is None
