"""What SQLite's errors mean to a user of the store: busy, full or damaged.

SQLite says these things in its messages only, and the same failure reaches us as
peewee's exception or the driver's, often as the context of a later one (a rollback that
fails because SQLite already rolled back after "database or disk is full").
"""

import os
from collections.abc import Iterator
from functools import cache

from app.errors import CertdeskError, StoreBusyError, StoreDamagedError, StoreFullError
from app.files import display_path

DAMAGE_ADVICE = "run `certdesk check`, and restore a backup if it finds damage"


@cache
def database_errors() -> tuple[type[Exception], ...]:
    """peewee's database error and the driver's. Both load here, at the first call, not
    with this module: the faces import it before their first window, the login dialog,
    which shows before the database's code loads."""
    import peewee
    from sqlcipher3 import dbapi2 as sqlcipher

    return peewee.DatabaseError, sqlcipher.DatabaseError


def _links(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def store_problem(
    exc: BaseException, where: str | os.PathLike | None = None
) -> CertdeskError | None:
    """The one line a user should read for this database error, or None for an error
    that is not the store's condition (a bug)."""
    place = display_path(where) + ": " if where is not None else ""
    for link in _links(exc):
        if not isinstance(link, database_errors()):
            continue
        text = str(link).lower()
        if "disk is full" in text:
            return StoreFullError(
                f"{place}the disk is full (SQLite: {link}); nothing of the interrupted "
                "step was saved. Free some space and try again."
            )
        if "disk i/o error" in text or "readonly" in text or "unable to open" in text:
            return StoreDamagedError(
                f"{place}cannot use the store's files (SQLite: {link}); nothing of the "
                "interrupted step was saved. Check the disk and the files' permissions."
            )
        if "locked" in text or "busy" in text:
            return StoreBusyError(
                f"{place}the store is busy (another Certdesk is writing to it); try again."
            )
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            return StoreDamagedError(f"{place}the store is damaged ({link}); {DAMAGE_ADVICE}.")
    return None
