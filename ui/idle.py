"""Locking the console after a time without input (ui.settings `idle_lock_minutes`):
an application-wide event filter restarts a timer at each key press, click or wheel, so
that only a console nobody uses locks."""

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

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
        self._timer.timeout.connect(self.idle)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.restart()

    def restart(self) -> None:
        """From now, with the minutes the settings say (0: never)."""
        minutes = idle_lock_minutes()
        self._timer.stop()
        if minutes:
            self._timer.start(minutes * 60_000)

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched, event) -> bool:
        if event.type() in INPUT and self._timer.isActive():
            self._timer.start()  # the same interval, from now
        return False
