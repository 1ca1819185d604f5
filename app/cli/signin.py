"""Who runs a command: the credentials, the session around a command's work, and the
passwords and PINs asked of the person at the terminal."""

import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.cli.options import is_utf8
from app.cli.output import print_bulk, problem
from app.errors import CertdeskError
from app.files import display_path
from app.services import logins, store_folders, users
from app.services.session import Session
from app.services.targets import BulkResult


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


@contextmanager
def signed_in(folder: Path) -> Iterator[Session]:
    """The session a command works in, closed when the work is done or fails."""
    session = open_session(folder)
    try:
        yield session
    finally:
        session.close()


def run_bulk(folder: Path, operation: Callable[[Session], BulkResult]) -> int:
    """A bulk command: the operation in a session, then a line per certificate."""
    with signed_in(folder) as session:
        result = operation(session)
    print_bulk(result)
    return 0


def create_store(folder: Path, admin: str, password: str) -> None:
    """A new store whose first Administrator is `admin`: `init` does no more in it."""
    session, _ = users.initialise_store(folder, admin, password)
    session.close()


def open_session(folder: Path) -> Session:
    """The session (`_signed_in`), its notices said on stderr."""
    session = _signed_in(folder)
    for notice in session.notices:
        problem(f"warning: {notice}")
    return session


def _signed_in(folder: Path) -> Session:
    """CERTDESK_USER + CERTDESK_PASSWORD; else a login remembered in the OS keyring;
    else a prompt on a terminal; else a clear refusal."""
    names = store_folders.store_user_names(folder)
    user = os.environ.get("CERTDESK_USER")
    if user is not None and not is_utf8(user):
        raise CertdeskError(f"CERTDESK_USER: “{display_path(user)}” is not UTF-8 text")
    password = os.environ.get("CERTDESK_PASSWORD")
    if not user:
        login = login_name()
        user = login if login in names else (names[0] if len(names) == 1 else None)
    if user and password is None:
        remembered = logins.sign_in_remembered(folder, user)
        if remembered is not None:
            return remembered
    if user is None or password is None:
        if not interactive():
            raise CertdeskError(
                "no credentials: set CERTDESK_USER and CERTDESK_PASSWORD "
                "(or run in a terminal to be asked)"
            )
        user = user or input("User: ").strip()
        password = getpass.getpass(f"Password for {user}: ")
    return users.sign_in(folder, user, password=password)[0]


def current_password(user: str) -> str:
    """The signed-in user's password, asked again for a change of it: CERTDESK_PASSWORD,
    else typed (a login remembered on this workstation proves no password)."""
    password = os.environ.get("CERTDESK_PASSWORD")
    if password is not None:
        return password
    if not interactive():
        raise CertdeskError(
            f"no current password for {user}: set CERTDESK_PASSWORD or run in a terminal"
        )
    return getpass.getpass(f"Current password for {user}: ")


def new_password(variable: str, user: str, prompt: str) -> str:
    """A password for a new key slot: from the environment `variable`, else typed twice."""
    password = os.environ.get(variable)
    if password is not None:
        return password
    if not interactive():
        raise CertdeskError(f"no password for {user}: set {variable} or run in a terminal")
    first = getpass.getpass(prompt)
    if getpass.getpass("Repeat the password: ") != first:
        raise CertdeskError("the two passwords differ")
    return first
