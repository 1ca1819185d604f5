"""Reads run beside the caller, each thread on a connection of its own: SQLite steps a
statement without the GIL, so while a thread waits for one that concatenates a range
of rows into a few strings (statements.certificate_column_texts), the caller's Python
runs on the other core. Each read is its own read transaction: a read that must agree
with the caller's checks that nothing was written since (the caller's journal mark)."""

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

import peewee

T = TypeVar("T")
R = TypeVar("R")

THREADS = 2  # the cores of a modest workstation; more only queue for them
# Reads done ahead of the caller at most: what waits for it is held in memory.
AHEAD = 6


@contextmanager
def alongside(
    db: peewee.Database,
    read: Callable[[peewee.Database, T], R],
    inputs: Sequence[T],
    threads: int = THREADS,
    ahead: int = AHEAD,
) -> Iterator[Iterator[R]]:
    """`read(db, input)` of each input, run on helper threads while the caller goes on;
    gives the results in the order of the inputs (an exception where a read raised one).
    Leaving the context stops the helpers after the reads under way and closes their
    connections."""
    reads = _Reads(db, read, inputs, ahead)
    helpers = [
        threading.Thread(target=reads.work, name=f"store read {n}", daemon=True)
        for n in range(min(threads, len(inputs)))
    ]
    started: list[threading.Thread] = []
    try:
        for helper in helpers:
            helper.start()
            started.append(helper)
        yield reads.results()
    finally:
        reads.stop()
        for helper in started:
            helper.join()


class _Reads(Generic[T, R]):
    def __init__(self, db: peewee.Database, read, inputs: Sequence[T], ahead: int):
        self._db, self._read, self._inputs, self._ahead = db, read, inputs, ahead
        self._done: dict[int, tuple[bool, R | BaseException]] = {}
        self._started = 0  # inputs a helper took
        self._given = 0  # results the caller took
        self._stopped = False
        self._changed = threading.Condition()

    def work(self) -> None:
        try:
            while (n := self._next()) is not None:
                try:
                    done = (True, self._read(self._db, self._inputs[n]))
                except BaseException as exc:  # the caller's to raise
                    done = (False, exc)
                with self._changed:
                    self._done[n] = done
                    self._changed.notify_all()
        finally:
            self._db.close()  # this thread's connection (peewee keeps one per thread)

    def _next(self) -> int | None:
        with self._changed:
            self._changed.wait_for(
                lambda: self._stopped or self._started < self._given + self._ahead
            )
            if self._stopped or self._started == len(self._inputs):
                return None
            self._started += 1
            return self._started - 1

    def results(self) -> Iterator[R]:
        for n in range(len(self._inputs)):
            with self._changed:
                self._changed.wait_for(lambda: n in self._done)  # noqa: B023 (waited for here)
                ok, value = self._done.pop(n)
                self._given += 1
                self._changed.notify_all()
            if not ok:
                raise value
            yield value

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
