"""Reading the files a user names, and creating the files they ask for, safely.

Only regular files are read, and never more than a bound: a FIFO would block while the
store's write lock is held, /dev/zero would grow without end. Output files are always new:
never an existing file, never through a symbolic link, and removed again if the write fails.
"""

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from app.errors import CertdeskError

# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_CREATE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class FileRefusedError(CertdeskError):
    """A file that cannot be read or created: `path` as the user can read it, `reason`."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = display_path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def display_path(path: str | os.PathLike) -> str:
    """A path as text that can always be printed and stored: bytes of a file name that
    are not UTF-8 are shown as \\xNN escapes instead of failing to encode."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", "backslashreplace")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


@contextmanager
def open_regular(path: str | os.PathLike, limit: int | None = None) -> Iterator[BinaryIO]:
    """A regular file opened for reading; FileRefusedError for anything else, or for a
    file larger than `limit` bytes."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        raise _refused(path, exc, "cannot read") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FileRefusedError(path, _kind(info.st_mode))
    with os.fdopen(fd, "rb") as handle:
        if limit is not None and info.st_size > limit:
            raise FileRefusedError(path, _too_large(info.st_size, limit))
        yield handle


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The whole content of a regular file of at most `limit` bytes. Read with a bound
    even after the size check: a file may grow between the check and the read."""
    with open_regular(path, limit) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise _refused(path, exc, "cannot read") from None
    if len(data) > limit:
        raise FileRefusedError(path, _too_large(len(data), limit))
    return data


def _too_large(size: int, limit: int) -> str:
    return f"too large ({size:,} bytes; the limit is {limit:,})"


class NewFile:
    """The file `new_file` made: writes that fail say so for the file, in one line."""

    def __init__(self, path: str | os.PathLike, handle: BinaryIO):
        self.path = path
        self._handle = handle

    def write(self, data: bytes) -> int:
        try:
            return self._handle.write(data)
        except OSError as exc:
            raise _refused(self.path, exc, "cannot write") from None

    def finish(self) -> None:
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except OSError as exc:
            raise _refused(self.path, exc, "cannot write") from None

    def abandon(self) -> None:
        """Closed without a word: what a failed write left in the buffer goes nowhere."""
        with suppress(OSError):
            self._handle.close()


@contextmanager
def new_file(path: str | os.PathLike, mode: int = 0o644) -> Iterator[NewFile]:
    """Create `path`, which must not exist yet, and yield it for writing. The file is
    flushed to disk on success and removed if the block raises, so a failed write never
    leaves half a file under the name the user chose. Only the file's own writes are
    reported as the file's: what else the block raises goes on as it is."""
    try:
        fd = os.open(path, _CREATE_FLAGS, mode)
    except FileExistsError:
        raise FileRefusedError(path, _taken(path)) from None
    except IsADirectoryError:
        raise FileRefusedError(path, "is a folder") from None
    except OSError as exc:
        raise _refused(path, exc, "cannot create") from None
    out = NewFile(path, os.fdopen(fd, "wb"))
    try:
        yield out
        out.finish()
    except BaseException:
        out.abandon()
        Path(path).unlink(missing_ok=True)
        raise


def write_new_file(path: str | os.PathLike, data: bytes, mode: int = 0o644) -> Path:
    with new_file(path, mode) as handle:
        handle.write(data)
    return Path(path)


def free_name(path: str | os.PathLike) -> Path:
    """`path`, or, when that file exists, the first free "name (2).cer", "name (3).cer"…
    (a new file never replaces one: propose one that it can write)."""
    path = Path(path)
    candidate, number = path, 1
    while (candidate.exists() or candidate.is_symlink()) and number < 1000:
        number += 1
        candidate = path.with_name(f"{path.stem} ({number}){path.suffix}")
    return candidate


def check_new_file(path: str | os.PathLike) -> Path:
    """Refuse an output path that `new_file` would refuse, before slow work is done for
    nothing (a key generated, a store copied)."""
    target = Path(path)
    if target.exists() or target.is_symlink():
        raise FileRefusedError(path, _taken(path))
    if not target.absolute().parent.is_dir():
        raise FileRefusedError(path, f"no folder {display_path(target.absolute().parent)}")
    return target


def _taken(path: str | os.PathLike) -> str:
    return "is a folder" if os.path.isdir(path) else "exists; choose a new file name"


def _refused(path, exc: OSError, doing: str) -> FileRefusedError:
    if exc.errno == errno.ENOSPC:
        return FileRefusedError(path, f"{doing}: the disk is full")
    if exc.errno == errno.ELOOP:
        return FileRefusedError(path, "is a symbolic link; name the file itself")
    if exc.errno == errno.ENXIO:
        return FileRefusedError(path, "is a socket, not a regular file")
    return FileRefusedError(path, f"{doing} ({exc.strerror or exc})")
