"""Failed sign-ins and wrong PINs, counted across processes in a small file beside the key
slots: the database cannot be written before the password is known. Each failure makes
the next attempt for that user (or certificate) wait longer, and the next sign-in of an
Administrator writes the failed sign-ins into the audit log (app.services.users); wrong
PINs are in it already, as refused signatures.

`{"sign-in": {name: {"failed": N, "unreported": N, "last": UNIX}}, "pin": {...}}`
(app.locked_json). Only a failure writes it, so that a folder that holds no store never
gets one. Anyone with the folder can edit or delete it: it slows guessing through
Certdesk, not someone running their own code against a copy of the slots, whom
Argon2id slows (the README says so).
"""

import time
from collections.abc import Callable
from pathlib import Path

from app import locked_json

FILE = "attempts.json"
MAX_NAMES = 1000  # per kind: the oldest go first, so that made-up names cannot fill it
SIGN_IN, PIN = "sign-in", "pin"
FREE_FAILURES = 3  # before the pauses start
MAX_PAUSE_S = 30.0


def pause_for(failed: int) -> float:
    """Seconds to wait before the next attempt after `failed` failures in a row."""
    if failed < FREE_FAILURES:
        return 0.0
    return min(2.0 ** (failed - FREE_FAILURES), MAX_PAUSE_S)


def wait(folder: Path, kind: str, name: str) -> None:
    """Pause as long as the failures in a row for `name` call for."""
    entry = _read(folder).get(kind, {}).get(name, {})
    pause = pause_for(_count(entry, "failed"))
    if pause:
        time.sleep(pause)


def failed(folder: Path, kind: str, name: str) -> None:
    def count(counts: dict) -> None:
        names = counts.setdefault(kind, {})
        entry = names.pop(name, {})
        names[name] = {  # last in: the newest
            "failed": _count(entry, "failed") + 1,
            "unreported": _count(entry, "unreported") + 1,
            "last": int(time.time()),
        }
        while len(names) > MAX_NAMES:
            names.pop(next(iter(names)))

    _update(folder, count)


def succeeded(folder: Path, kind: str, name: str) -> None:
    """No more pause for `name`; its failures stay to be reported."""

    def reset(counts: dict) -> None:
        entry = counts.get(kind, {}).get(name)
        if isinstance(entry, dict) and _count(entry, "failed"):
            entry["failed"] = 0

    if _count(_read(folder).get(kind, {}).get(name, {}), "failed"):
        _update(folder, reset)


def unreported(folder: Path) -> dict[str, tuple[int, int]]:
    """The users with failed sign-ins not yet in the audit log: (how many, last, as Unix
    time), by name."""
    names = _read(folder).get(SIGN_IN, {})
    return {
        name: (_count(entry, "unreported"), _count(entry, "last"))
        for name, entry in names.items()
        if _count(entry, "unreported")
    }


def reported(folder: Path, counts: dict[str, tuple[int, int]]) -> None:
    """Take the failures just written into the audit log off what is left to report."""

    def subtract(stored: dict) -> None:
        for name, (count, _) in counts.items():
            entry = stored.get(SIGN_IN, {}).get(name)
            if isinstance(entry, dict):
                entry["unreported"] = max(0, _count(entry, "unreported") - count)

    _update(folder, subtract)


# Counts and Unix times beyond this (the year 2242) are someone's edit: taken as none.
MAX_VALUE = 2**33


def _count(entry: object, key: str) -> int:
    value = entry.get(key) if isinstance(entry, dict) else None
    return value if type(value) is int and 0 <= value < MAX_VALUE else 0


def _read(folder: Path) -> dict:
    return {k: v for k, v in locked_json.read(folder / FILE).items() if isinstance(v, dict)}


def _update(folder: Path, change: Callable[[dict], None]) -> None:
    def checked(counts: dict) -> None:
        for kind in [k for k, v in counts.items() if not isinstance(v, dict)]:
            del counts[kind]
        change(counts)

    locked_json.update(folder / FILE, checked)
