"""Small JSON files in the store folder that several processes update at once (failed
sign-ins, the audit head): read and rewritten under an exclusive lock (flock, where
there is one), only as regular files and with a bound. A file that cannot be read is
taken as empty, one that cannot be written is left as it is: neither is an error."""

import contextlib
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: two processes writing at once may lose one's change
    fcntl = None

MAX_FILE_BYTES = 256 * 1024
LOCK_WAIT_S = 2.0
_FLAGS = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def read(path: Path) -> dict:
    try:
        with _locked(path, create=False) as fd:
            return _parsed(fd)
    except OSError:
        return {}


def update(path: Path, change: Callable[[dict], None]) -> None:
    """`change` the file's object in place, made if missing."""
    with contextlib.suppress(OSError), _locked(path, create=True) as fd:
        value = _parsed(fd)
        change(value)
        data = json.dumps(value, sort_keys=True).encode()
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, data)


def _parsed(fd: int) -> dict:
    try:
        value = json.loads(os.read(fd, MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _lock(fd: int, path: Path) -> None:
    """An exclusive lock, waited for LOCK_WAIT_S at most: a process that holds it for
    longer (anyone's, on a shared folder) makes the file count as unreadable, never
    hangs a sign-in."""
    if fcntl is None:
        return
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise OSError(f"{path} is locked by another process") from None
            time.sleep(0.02)


@contextlib.contextmanager
def _locked(path: Path, create: bool) -> Iterator[int]:
    """The file open and locked; OSError if it is not a regular file."""
    fd = os.open(path, _FLAGS | (os.O_CREAT if create else 0), 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        _lock(fd, path)
        yield fd
    finally:
        os.close(fd)
