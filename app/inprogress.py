"""Files that stand for work under way: the marker of a store being made, a backup's
partial archive.

The process doing the work creates the file and holds a lock on it while it runs; the
operating system drops the lock when the process ends, however it ends. So the next run
can tell the debris of a killed process (the lock is free: remove it) from the work of a
live one (the lock is held: leave it alone).
"""

import os
import stat
from collections.abc import Callable
from pathlib import Path

from app.files import FileRefusedError

try:
    import fcntl
except ImportError:  # Windows: a file open in another process cannot be removed there,
    fcntl = None  # which tells the same thing

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: a FIFO put where a marker belongs must not block the opening.
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW


def _open_marker(path: Path) -> int:
    """The marker opened for its lock; FileRefusedError if it is not a regular file (so
    not one Certdesk made)."""
    fd = os.open(path, _READ)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileRefusedError(path, "is not a file Certdesk made; move it away and try again")
    return fd


class Held:
    """A new file at `path` (never an existing one: FileExistsError), held by this process
    until `release`, which removes it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if fcntl is None:
            os.close(self._fd)
            self.path.unlink(missing_ok=True)
        else:  # removed while still held, so no one ever finds it free
            self.path.unlink(missing_ok=True)
            os.close(self._fd)

    def __enter__(self) -> "Held":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def in_use(path: Path) -> bool:
    """Whether a live process holds `path`."""
    if fcntl is None:
        return False  # not told apart without removing the file
    try:
        fd = _open_marker(path)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def remove_abandoned(path: Path, then: Callable[[], None] = lambda: None) -> bool:
    """If `path` was left by a process that is gone, run `then` (which removes what the
    file stood for) and remove the file, holding it meanwhile so that no one else does the
    same at once. False while a live process holds it; True when nothing is held there."""
    if fcntl is None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return True
        except PermissionError:
            return False
        then()
        return True
    try:
        fd = _open_marker(path)
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return True  # its process finished and removed it
        if not same:
            return False  # removed and made again meanwhile: a live process's
        then()
        os.unlink(path)
        return True
    finally:
        os.close(fd)
