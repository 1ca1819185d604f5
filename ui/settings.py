"""The console's settings on this workstation (QSettings): the warning period for
certificates that expire soon, and the idle time after which the console locks."""

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from app.services.certificates import EXPIRING_DAYS
from ui.dialogs import Dialog, ok_cancel

WARNING_DAYS = "settings/warning-days"
IDLE_LOCK_MINUTES = "settings/idle-lock-minutes"
DEFAULT_IDLE_LOCK_MINUTES = 15
MAX_WARNING_DAYS = 365
MAX_IDLE_MINUTES = 24 * 60


def _number(key: str, default: int, top: int) -> int:
    value = QSettings().value(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, 0), top)


def warning_days() -> int:
    """Certificates that end within this many days are marked and announced."""
    return max(_number(WARNING_DAYS, EXPIRING_DAYS, MAX_WARNING_DAYS), 1)


def idle_lock_minutes() -> int:
    """The console locks after this many minutes without input; 0: never."""
    return _number(IDLE_LOCK_MINUTES, DEFAULT_IDLE_LOCK_MINUTES, MAX_IDLE_MINUTES)


class SettingsEvents(QObject):
    changed = Signal()

    def forget(self, receiver: QObject) -> None:
        """Stop telling `receiver`: its window is closing with its session."""
        QObject.disconnect(self, None, receiver, None)


# The pages follow a change at once, as they follow the store's (ui.store_events).
settings_events = SettingsEvents()


class SettingsDialog(Dialog):
    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(420)
        self.warning = QSpinBox(self)
        self.warning.setRange(1, MAX_WARNING_DAYS)
        self.warning.setSuffix(" days")
        self.warning.setValue(warning_days())
        self.idle = QSpinBox(self)
        self.idle.setRange(0, MAX_IDLE_MINUTES)
        self.idle.setSuffix(" minutes")
        self.idle.setSpecialValueText("Never")
        self.idle.setValue(idle_lock_minutes())
        form = QFormLayout()
        form.addRow("&Warn of certificates expiring within:", self.warning)
        form.addRow("&Lock the console after:", self.idle)
        hint = QLabel(
            "The warning period marks certificates in the table and is announced at "
            "sign-in. Locking drops the keys from memory: signing in again is needed.",
            self,
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addStretch(1)
        layout.addWidget(ok_cancel(self, "Save"))

    def accept(self) -> None:
        settings = QSettings()
        settings.setValue(WARNING_DAYS, self.warning.value())
        settings.setValue(IDLE_LOCK_MINUTES, self.idle.value())
        super().accept()
        settings_events.changed.emit()
