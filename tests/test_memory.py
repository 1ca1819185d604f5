"""The allocator settings for large reads, in a process of their own (they are the
process's)."""

import ctypes
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What glibc's mallinfo2 reports of the mapped blocks, before and after one large list
# grows by appends (8 MiB of pointers), with and without map_large_blocks.
PROBE = """
import ctypes, sys
from app import memory

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

info = ctypes.CDLL(None).mallinfo2
info.restype = Info
took = memory.map_large_blocks() if sys.argv[1] == "mapped" else None
freed = [0] * (2 << 20)  # 16 MiB freed: glibc raises its threshold to that
del freed
grown = []
for n in range(1 << 20):
    grown.append(n)
print(took, info().hblkhd >= 8 << 20)
"""


def _glibc_reports() -> bool:
    try:
        return hasattr(ctypes.CDLL(None), "mallinfo2")  # glibc 2.33 and later
    except OSError:
        return False


@pytest.mark.skipif(not _glibc_reports(), reason="glibc's mallopt and mallinfo2")
def test_a_large_block_keeps_a_mapping_of_its_own_as_it_grows():
    def probe(how: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", PROBE, how], capture_output=True, text=True, check=True, cwd=ROOT
        )
        return run.stdout.split()

    assert probe("mapped") == ["True", "True"]
    assert probe("default") == ["None", "False"]  # the heap: it is copied as it grows
