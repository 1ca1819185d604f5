"""Run a service call off the GUI thread and get its result or exception back on it.

    Task(self, certificate_edits.edit_certificate, session, cert_id, changes)
        .writes()                                   # queued on the one writer thread
        .changes(certificates=lambda row: [row.id]) # told to ui.store_events on success
        .busy(self, "Saving…")                      # only if it takes over 300 ms
        .on_done(self._saved)                       # the result, on the GUI thread
        .on_error(self._refused, ValidationError)   # others: the default failure box
        .start()

Reads run on a small pool. Writes run one at a time on a single writer thread: SQLite
lets one writer in at a time anyway, and writers racing for its lock wait on the busy
timeout (and fail once it runs out) instead of queueing in order.

The workers are Python threads, not QThreadPool's: peewee keeps each thread's connection
in a threading.local, and on a thread Python did not create that local is torn down
without a thread state when the thread ends, which aborts the interpreter
("PyThreadState_Get: ... the GIL is released").
"""

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QMainWindow, QStatusBar, QWidget

from app.services.store_folders import close_thread_connection
from app.sqlite_errors import store_problem
from ui.dialogs import show_failure
from ui.store_events import events

READERS = 3
BUSY_DELAY_MS = 300  # quicker than this, a busy cursor is only a flicker


class _Relay(QObject):
    """Lives on the GUI thread: signals from the worker reach its slots queued, so the
    callbacks always run on the GUI thread.

    It has no Qt parent and stays alive (in `_relays`) until its result is delivered, so
    a worker never emits on an object the GUI thread is destroying; a result for an
    owner that is gone by then is dropped. What the store's change announces is not
    dropped: the write happened whether or not its window is still open."""

    _succeeded = Signal(object)
    _failed = Signal(object)
    _progressed = Signal(int, int, str)
    _chunked = Signal(object)
    finished = Signal()

    def __init__(
        self, owner: QObject, on_result, on_error, on_progress, announce=None, on_chunk=None
    ):
        super().__init__()
        self._owner = owner
        self._on_result, self._on_error, self._on_progress = on_result, on_error, on_progress
        self._on_chunk = on_chunk
        self._announce = announce
        self.settled: list[Callable[[], None]] = []  # run after delivery, owner or not
        # Parts a worker gave faster than they are shown, and the result or failure
        # that came after them: one part per pass of the event loop, then the end.
        self._parts: deque = deque()
        self._after_parts: Callable[[], None] | None = None
        self._next_part = QTimer(self, singleShot=True, interval=0)
        self._next_part.timeout.connect(self._give_part)
        self._succeeded.connect(self._deliver_result)
        self._failed.connect(self._deliver_error)
        self._progressed.connect(self._deliver_progress)
        self._chunked.connect(self._deliver_chunk)

    def _owner_alive(self) -> bool:
        return shiboken6.isValid(self._owner)

    def _deliver(self, callback, value, announce=None) -> None:
        try:
            try:
                if announce is not None:
                    announce(value)
            finally:
                if self._owner_alive():
                    callback(value)
        finally:
            _relays.discard(self)
            for settle in self.settled:
                settle()
            if self._owner_alive():
                self.finished.emit()
            self._owner = None

    def _after_the_parts(self, deliver: Callable[[], None]) -> None:
        if self._parts:
            self._after_parts = deliver
        else:
            deliver()

    @Slot(object)
    def _deliver_result(self, result) -> None:
        self._after_the_parts(lambda: self._deliver(self._on_result, result, self._announce))

    @Slot(object)
    def _deliver_error(self, error) -> None:
        self._after_the_parts(lambda: self._deliver(self._on_error, error))

    @Slot(int, int, str)
    def _deliver_progress(self, done: int, total: int, text: str) -> None:
        if self._on_progress is not None and self._owner_alive():
            self._on_progress(done, total, text)

    @Slot(object)
    def _deliver_chunk(self, part) -> None:
        # Queued signals that arrive together are all delivered in one pass of the event
        # loop: twenty parts of a listing, shown at once, froze the window for 90 ms.
        # Taken one per pass, input and paints come between them.
        self._parts.append(part)
        if not self._next_part.isActive():
            self._next_part.start()

    def _give_part(self) -> None:
        part = self._parts.popleft()
        try:
            if self._on_chunk is not None and self._owner_alive():
                self._on_chunk(part)
        finally:
            if self._parts:
                self._next_part.start()
            elif self._after_parts is not None:
                deliver, self._after_parts = self._after_parts, None
                deliver()


_readers = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="certdesk-read")
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="certdesk-write")
_pending: set[Future] = set()
_reading: set[Future] = set()  # of them, those on the readers' pool
_relays: set[_Relay] = set()


class _Job:
    def __init__(self, relay: _Relay, fn: Callable, args, kwargs):
        self.relay = relay
        self._fn, self._args, self._kwargs = fn, args, kwargs

    def run(self) -> None:
        # The arguments may be secrets (a password, a PIN): held no longer than the call.
        args, kwargs = self._args, self._kwargs
        self._args = self._kwargs = None
        try:
            result = self._fn(*args, **kwargs)
        except BaseException as exc:
            self.relay._failed.emit(store_problem(exc) or exc)
        else:
            self.relay._succeeded.emit(result)
        finally:
            close_thread_connection()


class Task:
    """`fn(*args, **kwargs)` on a worker, described by chained calls, run by start().

    Nothing is delivered once `owner` (any QObject) is destroyed. A failure nobody
    handles with on_error is shown in a message box over the owner's window, so no
    call site has to write the same handler."""

    def __init__(self, owner: QObject, fn: Callable, /, *args, **kwargs):
        self._owner = owner
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._on_done: Callable[[object], None] | None = None
        self._handlers: list[tuple[tuple[type[BaseException], ...], Callable]] = []
        self._on_progress: Callable[[int, int, str], None] | None = None
        self._on_chunk: Callable[[object], None] | None = None
        self._always: list[Callable[[], None]] = []
        self._writes = False
        self._changes: dict[str, object] = {}
        self._busy: tuple[QWidget, str, int] | None = None
        self.relay: _Relay | None = None

    def on_done(self, callback: Callable[[object], None]) -> "Task":
        self._on_done = callback
        return self

    def on_error(self, callback: Callable[[BaseException], None], *kinds) -> "Task":
        """Failures of these exception types (any, without types) go to `callback`
        instead of the failure box; the first matching handler wins."""
        self._handlers.append((kinds or (BaseException,), callback))
        return self

    def on_progress(self, callback: Callable[[int, int, str], None]) -> "Task":
        """`fn` gets a `progress(done, total, text)` keyword whose calls reach
        `callback` on the GUI thread."""
        self._on_progress = callback
        return self

    def on_chunk(self, callback: Callable[[object], None]) -> "Task":
        """`fn` gets a `chunk(part)` keyword: each part it gives reaches `callback` on the
        GUI thread, in order and before the result (a long read shown as it comes)."""
        self._on_chunk = callback
        return self

    def always(self, callback: Callable[[], None]) -> "Task":
        """After on_done or the failure's handler, either way (while the owner lives)."""
        self._always.append(callback)
        return self

    def writes(self, writes: bool = True) -> "Task":
        """A short change to the store: queue it on the writer thread, so that the GUI's
        writes never wait on SQLite's busy lock for each other. A long job that takes
        the lock in steps of its own (an import, a key generation) is not one."""
        self._writes = writes
        return self

    def changes(
        self,
        *,
        certificates=(),
        groups=False,
        requests=False,
        enabled: bool | None = None,
        access=False,
    ) -> "Task":
        """What a success changed, announced through ui.store_events before on_done.
        Each is a value (ids, store_events.ALL, True) or a function of the result;
        `enabled` says the certificates changed in nothing but that flag, now this."""
        self._changes = {
            "certificates": certificates,
            "groups": groups,
            "requests": requests,
            "enabled": enabled,
            "access": access,
        }
        return self

    def busy(self, widget: QWidget, text: str = "", delay_ms: int = BUSY_DELAY_MS) -> "Task":
        """Past `delay_ms`, a busy cursor on `widget`'s window and `text` in the nearest
        main window's status bar, until the task ends (0: at once, for a job that is
        known to be long, such as an import)."""
        self._busy = (widget, text, delay_ms)
        return self

    def start(self) -> "Task":
        relay = _Relay(
            self._owner,
            self._done,
            self._failed,
            self._on_progress,
            self._announce if self._changes else None,
            self._on_chunk,
        )
        self.relay = relay
        _relays.add(relay)
        kwargs = dict(self._kwargs)
        if self._on_progress is not None:
            kwargs["progress"] = relay._progressed.emit
        if self._on_chunk is not None:
            kwargs["chunk"] = relay._chunked.emit
        if self._busy is not None:
            _BusyIndicator(relay, *self._busy)
        executor = _writer if self._writes else _readers
        future = executor.submit(_Job(relay, self._fn, self._args, kwargs).run)
        self._args, self._kwargs = (), {}  # the job holds them now, until it runs
        _pending.add(future)
        future.add_done_callback(_pending.discard)
        if not self._writes:
            _reading.add(future)
            future.add_done_callback(_reading.discard)
        return self

    # -- delivery (GUI thread) ---------------------------------------------------

    def _announce(self, result) -> None:
        values = {k: v(result) if callable(v) else v for k, v in self._changes.items()}
        events.announce(**values)

    def _done(self, result) -> None:
        try:
            if self._on_done is not None:
                self._on_done(result)
        finally:
            self._run_always()

    def _failed(self, error: BaseException) -> None:
        try:
            for kinds, handler in self._handlers:
                if isinstance(error, kinds):
                    handler(error)
                    break
            else:
                show_failure(_widget_of(self._owner), error)
        finally:
            self._run_always()

    def _run_always(self) -> None:
        for callback in self._always:
            callback()


class _BusyIndicator(QObject):
    """Shown by a timer, so a quick task shows nothing; the count on the window keeps
    the cursor while any of its tasks is still running."""

    def __init__(self, relay: _Relay, widget: QWidget, text: str, delay_ms: int):
        super().__init__(relay)
        self._widget, self._text = widget, text
        self._shown = False
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self._show)
        relay.settled.append(self._hide)
        if delay_ms > 0:
            self._timer.start()
        else:
            self._show()

    def _show(self) -> None:
        if not shiboken6.isValid(self._widget):
            return
        self._shown = True
        window = self._widget.window()
        count = window.property("certdeskBusy") or 0
        window.setProperty("certdeskBusy", count + 1)
        if count == 0:
            window.setCursor(Qt.CursorShape.BusyCursor)
        bar = status_bar_of(self._widget)
        if bar is not None and self._text:
            bar.showMessage(self._text)

    def _hide(self) -> None:
        self._timer.stop()
        if not self._shown or not shiboken6.isValid(self._widget):
            return
        window = self._widget.window()
        count = (window.property("certdeskBusy") or 1) - 1
        window.setProperty("certdeskBusy", count)
        if count == 0:
            window.unsetCursor()
        bar = status_bar_of(self._widget)
        if bar is not None and self._text and bar.currentMessage() == self._text:
            bar.clearMessage()


def _widget_of(owner: QObject) -> QWidget | None:
    """The widget a failure box belongs over: the owner, or its nearest widget parent."""
    while owner is not None and not isinstance(owner, QWidget):
        owner = owner.parent()
    return owner


def status_bar_of(widget: QWidget) -> QStatusBar | None:
    """The status bar of the main window `widget` is in or was opened from."""
    while widget is not None:
        window = widget.window()
        if isinstance(window, QMainWindow):
            return window.statusBar()
        widget = window.parentWidget()
    return None


def reading() -> bool:
    """Whether a read runs or waits on the readers' pool (each holds a connection to the
    store while it runs)."""
    return bool(_reading)


def say_in_status_bar(widget: QWidget | None, text: str, ms: int = 8000) -> None:
    """What a change did, for a while in the status bar of the window `widget` is in."""
    bar = status_bar_of(widget)
    if bar is not None and text:
        bar.showMessage(text, ms)


def idle() -> bool:
    """True when every task started has delivered its result (tests wait on this)."""
    return not _relays


def wait_for_tasks(timeout: float | None = None) -> bool:
    """Block until every submitted task has finished; False if `timeout` ran out.
    Their results still need the event loop to be delivered (see `idle`)."""
    _, not_done = wait(list(_pending), timeout=timeout)
    return not not_done
