"""Giving the system back the memory a large read has freed."""

import ctypes
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
