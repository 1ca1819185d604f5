"""Memory for large reads: large blocks that grow in place, the memory a read freed given
back to the system, and what it kept out of the garbage collector's walks."""

import ctypes
import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def _malloc_trim():
    return getattr(_libc(), "malloc_trim", None)  # glibc only, not musl


_M_MMAP_THRESHOLD = -3  # mallopt's parameter, in glibc's malloc.h
_MAPPED_FROM = 1 << 20  # bytes


def map_large_blocks() -> bool:
    """Give every block of a MiB or more a mapping of its own, which grows in place
    (mremap); says whether the allocator took it (glibc; elsewhere nothing changes).
    glibc raises its threshold for that to the size of each such block freed (to 32
    MiB), and then serves large blocks from its heap, where growing one copies it: the
    rows, sort keys and places of a million certificates grow as a load streams in, and
    each copy into fresh pages held the GIL for 30-100 ms (the window froze)."""
    mallopt = getattr(_libc(), "mallopt", None)
    return bool(mallopt and mallopt(_M_MMAP_THRESHOLD, _MAPPED_FROM))


def release_freed() -> None:
    """Return the heap pages freed objects left behind to the system. glibc keeps them
    for the process otherwise: after listing 100,000 certificates on a worker thread,
    some 20 MiB of what the read built and dropped. Elsewhere nothing to do."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def settle_after_read() -> None:
    """A large read is in: give back what it freed, and move what it kept (a million
    rows, each tuple a tracked object) to the collector's permanent generation. Each
    full collection walks every tracked object: at 100,000 rows one took 80-400 ms on
    whichever thread allocated next (a Disable, a sort, a paint), at a million seconds.
    The rows hold no cycles, so they are freed by their counts alone when replaced."""
    gc.freeze()
    release_freed()


_pauses = 0
_pauses_lock = threading.Lock()


@contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic garbage collection while a large read builds its rows (on any
    thread: the collector is the process's). A million new tuples set off some nine
    full collections, each walking every tracked object, up to 0.4 s at a time with the
    GIL held, and the window froze for each. Nested and concurrent pauses end with the
    last, which moves what was built to the permanent generation (as
    `settle_after_read`); a collector someone else had disabled stays so."""
    global _pauses
    with _pauses_lock:
        ours = _pauses > 0 or gc.isenabled()
        if ours:
            _pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if ours:
            with _pauses_lock:
                _pauses -= 1
                if _pauses == 0:
                    # What the read built is young: without this the first collection
                    # after it would walk all of it at once.
                    gc.freeze()
                    gc.enable()
