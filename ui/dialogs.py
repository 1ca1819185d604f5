"""What every dialog shares: remembered geometry, a destructive confirmation, the
failure box. The boxes here are opened with open(), not exec(): a nested event loop lets
anything run under the caller (a task result, a second close), and a test driving it
could only reach the box from a timer. (Qt's own input and file dialogs, used for one
line or a file name, still run their loop.)"""

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QRect, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QWidget

from app.errors import CertdeskError
from ui.wording import curly_quotes


def fit_to_screen(window: QWidget) -> None:
    """Shrink and move a top-level window into the available area of the screen it is on
    (a saved or default size may have been made for a larger or less scaled one); its
    minimum size, which the layout needs, is the one thing kept."""
    if window.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
        return
    frame = window.frameGeometry()
    screen = QGuiApplication.screenAt(frame.center()) or window.screen()
    area: QRect = screen.availableGeometry()
    border_w, border_h = frame.width() - window.width(), frame.height() - window.height()
    width = max(window.minimumWidth(), min(window.width(), area.width() - border_w))
    height = max(window.minimumHeight(), min(window.height(), area.height() - border_h))
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    frame = window.frameGeometry()
    x = min(max(frame.left(), area.left()), area.right() + 1 - frame.width())
    y = min(max(frame.top(), area.top()), area.bottom() + 1 - frame.height())
    window.move(max(x, area.left()), max(y, area.top()))


class RemembersGeometry:
    """Mixed into a QDialog (or QWizard) before it: the size and place it had when it
    last closed come back when the next one of its class opens. The key is the class,
    so every certificate window shares one. The first show fits the window to the screen
    it lands on, restored or not: the screen may be smaller than the one it was saved on,
    and a default size may be more than a small or scaled screen has."""

    _geometry_restored = False

    def _geometry_key(self) -> str:
        return f"dialogs/{type(self).__name__}/geometry"

    def showEvent(self, event) -> None:
        if not self._geometry_restored:
            self._geometry_restored = True
            saved = QSettings().value(self._geometry_key())
            if isinstance(saved, QByteArray):
                self.restoreGeometry(saved)
            fit_to_screen(self)
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        # hide, not close: accept() and reject() hide a dialog without a close event.
        if self._geometry_restored and not event.spontaneous():
            QSettings().setValue(self._geometry_key(), self.saveGeometry())
        super().hideEvent(event)


class Dialog(RemembersGeometry, QDialog):
    """A QDialog that remembers its geometry."""


def opened(dialog: QDialog) -> QDialog:
    """`dialog` opened (window-modal, not exec()'d) and deleted when it closes; returned,
    for whoever keeps it to drive it (tests, screenshots)."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def ok_cancel(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    """The OK and Cancel buttons of a dialog, OK named after what it does."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def confirm_destructive(
    parent: QWidget,
    title: str,
    text: str,
    detail: str,
    action: str,
    on_confirm: Callable[[], None],
    keep: str = "Cancel",
) -> QMessageBox:
    """Ask before something that cannot be undone, saying what will happen (`text`,
    e.g. "Delete 3 certificates?", and `detail`). The default and Escape button keeps
    things as they are, so a stray Enter destroys nothing. `on_confirm` runs only when
    the `action` button is clicked. The box is opened, not exec()'d: it is returned, and
    this returns at once."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setInformativeText(detail)
    destroy = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    if keep == "Cancel":
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    else:
        cancel = box.addButton(keep, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(_result: int) -> None:
        if box.clickedButton() is destroy:
            on_confirm()

    box.finished.connect(answered)
    box.open()
    return box


def failure_text(error: BaseException) -> str:
    if isinstance(error, CertdeskError):
        return curly_quotes(str(error))
    return f"Unexpected error: {error}"


def show_message(parent: QWidget | None, text: str, title: str = "Certdesk") -> QMessageBox:
    """A warning box, opened (not exec()'d) and deleted when closed; returned."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def show_failure(parent: QWidget | None, error: BaseException, title: str = "Certdesk"):
    """What a task that failed shows unless it handles the failure itself."""
    return show_message(parent, failure_text(error), title)
