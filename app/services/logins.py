"""Signing in: with a password, or with a login remembered in the OS keyring. The GUI and
the CLI both sign in here, so that a remembered secret is read, used and dropped in one
call and never held by a face.

The users service (and with it the store's code: peewee, the models, the cryptography) is
imported by the functions that sign in, not with this module: the login dialog imports it
to ask the keyring, and shows before that code loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app import remember
from app.errors import AuthenticationError
from app.services import store_folders

if TYPE_CHECKING:
    from app.services.session import Session


def keyring_usable() -> bool:
    """Whether a real OS keyring answers (then "remember me" can be offered)."""
    return remember.available()


def remembered_users(folder: Path, names: list[str]) -> set[str]:
    """Which of these users have a login remembered on this workstation."""
    if not remember.available():
        return set()
    store_id = store_folders.store_id(folder)
    return {name for name in names if remember.recall(store_id, name)}


def sign_in_remembered(folder: Path, user: str, keep: bool = True) -> Session | None:
    """The session of a remembered login; None when there is none or it no longer opens
    the store (remembered before a password change). `keep` False forgets the login once
    it has been used: the user unticked "remember me"."""
    from app.services import users  # see the module's docstring

    store_id = store_folders.store_id(folder)
    kek = remember.recall(store_id, user)
    if not kek:
        return None
    try:
        session = users.sign_in(folder, user, kek=kek)[0]
    except AuthenticationError:
        return None
    finally:
        del kek
    if not keep:
        remember.forget(store_id, user)
    return session


def change_password(session: Session, current: str, new: str) -> None:
    """`users.change_password`, and a login remembered on this workstation kept with the
    new password (`keep_remembered`): what `user passwd` and Change My Password… do."""
    from app.services import users  # see the module's docstring

    kek = users.change_password(session, current, new)
    try:
        keep_remembered(session, kek)
    finally:
        del kek


def keep_remembered(session: Session, kek: bytes) -> None:
    """After the user's password changed (`users.change_password`): a login remembered on
    this workstation is remembered with the new KEK, since the old one opens nothing now
    (or forgotten, if the keyring refuses the new one)."""
    store_id, user = session.store.store_id, session.user_name
    remembered = remember.available() and remember.recall(store_id, user)
    if remembered and not remember.remember(store_id, user, kek):
        remember.forget(store_id, user)


def sign_in(folder: Path, user: str, password: str, keep: bool | None = None) -> Session:
    """Sign in with the password; `keep` True remembers the login on this workstation,
    False forgets one remembered before, None leaves the keyring alone."""
    from app.services import users  # see the module's docstring

    session, kek = users.sign_in(folder, user, password=password)
    if keep is not None:
        store_id = store_folders.store_id(folder)
        if keep:
            remember.remember(store_id, user, kek)
        else:
            remember.forget(store_id, user)
    return session
