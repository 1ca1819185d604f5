"""After a large read: the memory it freed back to the system, and what it kept out of
the garbage collector's walks."""

import ctypes
import gc
import sys
from functools import cache


@cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc only, not musl
    except OSError:
        return None


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
