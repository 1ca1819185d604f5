#!/usr/bin/env python3
"""Seconds per MiB that app.crypto.parse spends on PEM shaped against its block finder,
beside the floor: an ordinary PEM bundle of the same size, parsed in the same run.

    .venv/bin/python bench/pem_bench.py              # 1 MiB and 20 MiB (the import limit)
    .venv/bin/python bench/pem_bench.py --mib 5 --repeat 5

A linear finder keeps every shape near or below the floor; the regex it replaced took
12 s for 219 KB of BEGIN lines and minutes per MiB.
"""

import argparse
import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import certfactory

from app.crypto.parse import parse
from app.errors import ImportFormatError

MIB = 1 << 20


def repeated(piece: bytes, size: int) -> bytes:
    return piece * (size // len(piece))


def shapes(size: int, bundle: list[bytes]) -> dict[str, bytes]:
    ordinary = b""
    while len(ordinary) < size:
        ordinary += b"".join(bundle)
    cut = ordinary.rfind(b"-----BEGIN ", 0, size)
    return {
        "ordinary bundle (floor)": ordinary[:cut],
        "BEGIN lines": repeated(b"-----BEGIN CERTIFICATE-----\n", size),
        "BEGIN lines, one END at the end": repeated(b"-----BEGIN CERTIFICATE-----\n", size)
        + b"-----END CERTIFICATE-----\n",
        "BEGIN lines, then one block": repeated(b"-----BEGIN PRIVATE KEY-----\n", size) + bundle[0],
        "BEGIN/END of different labels": repeated(
            b"-----BEGIN CERTIFICATE-----\n-----END PRIVATE KEY-----\n", size
        ),
        "BEGIN lines, distinct labels": b"".join(
            b"-----BEGIN L%07d-----\n" % i for i in range(size // 26)
        ),
        "empty blocks of unknown labels": repeated(b"-----BEGIN X-----\n-----END X-----\n", size),
    }


def best_of(repeat: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def parse_quietly(data: bytes) -> None:
    # Most shapes are refused: the refusal is the outcome whose cost is measured.
    with contextlib.suppress(ImportFormatError):
        parse(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, nargs="+", default=[1, 20], help="sizes in MiB")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = parser.parse_args()
    bundle = certfactory.pems(2000)  # about 1.2 MiB of distinct certificates
    print(f"{'shape':<34} {'MiB':>6} {'seconds':>9} {'s/MiB':>8} {'× floor':>8}")
    for mib in args.mib:
        floor = None
        for name, data in shapes(int(mib * MIB), bundle).items():
            seconds = best_of(args.repeat, lambda data=data: parse_quietly(data))
            per_mib = seconds / (len(data) / MIB)
            floor = floor or per_mib
            print(
                f"{name:<34} {len(data) / MIB:>6.1f} {seconds:>9.3f} {per_mib:>8.3f} "
                f"{per_mib / floor:>8.2f}"
            )


if __name__ == "__main__":
    main()
