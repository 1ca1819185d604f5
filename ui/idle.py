"""Locking the console after a time without input (ui.settings `idle_lock_minutes`):
a timer restarted at each key press, click or wheel on one of the application's
windows, so that only a console nobody uses locks.

The filter is installed on each top-level window (QWindow) as it takes the focus, not
on the application: an application-wide filter in Python is called for every event of
every object, objects being destroyed among them, whose wrappers the garbage collector
then met half gone (the console crashed now and then)."""

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QWindow

from ui.settings import idle_lock_minutes

INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class IdleLock(QObject):
    idle = Signal()  # the time ran out with no input

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._timer = QTimer(self, singleShot=True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse one may be 3 s off
        self._timer.timeout.connect(self.idle)
        self._app = QGuiApplication.instance()
        if self._app is not None:
            self._app.focusWindowChanged.connect(self._watch)
            self._watch(self._app.focusWindow())
        self.restart()

    def _watch(self, window: QWindow | None) -> None:
        if window is not None:
            window.installEventFilter(self)  # once: installing again only moves it first

    def restart(self) -> None:
        """From now, with the minutes the settings say (0: never)."""
        minutes = idle_lock_minutes()
        self._timer.stop()
        if minutes:
            self._timer.start(minutes * 60_000)

    def stop(self) -> None:
        """For good (the window closes): a second call does nothing."""
        self._timer.stop()
        if self._app is not None:
            self._app.focusWindowChanged.disconnect(self._watch)
            self._app = None

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched, event) -> bool:
        if event.type() in INPUT and self._timer.isActive():
            self._timer.start()  # the same interval, from now
        return False
