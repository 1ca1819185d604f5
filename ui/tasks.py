"""Run a function off the GUI thread and get its result or exception back on it.

The workers are Python threads, not QThreadPool's: peewee keeps each thread's connection
in a threading.local, and on a thread Python did not create that local is torn down
without a thread state when the thread ends, which aborts the interpreter
("PyThreadState_Get: ... the GIL is released").
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

from app.services.store_folders import close_thread_connection
from app.sqlite_errors import store_problem

WORKERS = 4


class _Relay(QObject):
    """Lives on the GUI thread: signals from the worker reach its slots queued, so the
    callbacks always run on the GUI thread.

    It has no Qt parent and stays alive (in `_relays`) until its result is delivered, so
    a worker never emits on an object the GUI thread is destroying; a result for an
    owner that is gone by then is dropped."""

    _succeeded = Signal(object)
    _failed = Signal(object)
    _progressed = Signal(int, int, str)
    finished = Signal()

    def __init__(self, owner: QObject, on_result, on_error, on_progress):
        super().__init__()
        self._owner = owner
        self._on_result, self._on_error, self._on_progress = on_result, on_error, on_progress
        self._succeeded.connect(self._deliver_result)
        self._failed.connect(self._deliver_error)
        self._progressed.connect(self._deliver_progress)

    def _owner_alive(self) -> bool:
        return shiboken6.isValid(self._owner)

    def _deliver(self, callback, value) -> None:
        try:
            if self._owner_alive():
                callback(value)
        finally:
            _relays.discard(self)
            if self._owner_alive():
                self.finished.emit()
            self._owner = None

    @Slot(object)
    def _deliver_result(self, result) -> None:
        self._deliver(self._on_result, result)

    @Slot(object)
    def _deliver_error(self, error) -> None:
        self._deliver(self._on_error, error)

    @Slot(int, int, str)
    def _deliver_progress(self, done: int, total: int, text: str) -> None:
        if self._on_progress is not None and self._owner_alive():
            self._on_progress(done, total, text)


_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="certdesk-task")
_pending: set[Future] = set()
_relays: set[_Relay] = set()


class Task:
    def __init__(self, relay: _Relay, fn: Callable, args, kwargs):
        self.relay = relay
        self._fn, self._args, self._kwargs = fn, args, kwargs

    def run(self) -> None:
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:
            self.relay._failed.emit(store_problem(exc) or exc)
        else:
            self.relay._succeeded.emit(result)
        finally:
            close_thread_connection()


def run_task(
    fn: Callable,
    *args,
    owner: QObject,
    on_result: Callable[[object], None],
    on_error: Callable[[BaseException], None],
    progress: Callable[[int, int, str], None] | None = None,
    **kwargs,
) -> Task:
    """`fn(*args, **kwargs)` on a worker; `on_result`/`on_error` run on the GUI thread.

    With `progress`, `fn` also gets a `progress(done, total, text)` keyword whose calls
    reach `progress` on the GUI thread. Nothing is delivered once `owner` is destroyed.
    """
    relay = _Relay(owner, on_result, on_error, progress)
    _relays.add(relay)
    if progress is not None:
        kwargs["progress"] = relay._progressed.emit
    task = Task(relay, fn, args, kwargs)
    future = _pool.submit(task.run)
    _pending.add(future)
    future.add_done_callback(_pending.discard)
    return task


def wait_for_tasks(timeout: float | None = None) -> bool:
    """Block until every submitted task has finished; False if `timeout` ran out."""
    _, not_done = wait(list(_pending), timeout=timeout)
    return not not_done
