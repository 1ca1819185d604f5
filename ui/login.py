"""Unlocking a store: the dialog `certdesk` shows first when a store is there.

It does its slow work (Argon2id, opening the database, the OS keyring) off the GUI
thread; the keyring is asked lazily and with a timeout, so a silent one cannot hang us.
It shows with only the store's folder read (app.services.store_folders); the store's
code (peewee, the models, the cryptography) loads on a worker once it is painted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import AuthenticationError, CertdeskError
from app.services import logins, store_folders
from ui.feedback import error_label, show_error
from ui.icons import icon
from ui.tasks import Task

if TYPE_CHECKING:
    from app.services.session import Session


def heading(parent: QWidget, text: str) -> QWidget:
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 6)
    picture = QLabel(box)
    picture.setPixmap(icon("app").pixmap(40, 40))
    title = QLabel(f"<span style='font-size:15pt; font-weight:600'>{text}</span>", box)
    row.addWidget(picture)
    row.addWidget(title, 1)
    return box


class LoginDialog(QDialog):
    """User list, password, and "remember me" when a real OS keyring is there."""

    def __init__(self, folder: Path, parent=None, user: str = "", note: str = ""):
        super().__init__(parent)
        self.folder = folder
        self._offered = user  # the user to offer first (the one who locked)
        self.session: Session | None = None
        self._task = None
        self._probe = None
        self._keyring_asked = False
        self._remembered: set[str] = set()
        self.setWindowTitle("Unlock Certdesk")
        self.setWindowIcon(icon("app"))
        self.setMinimumWidth(440)

        intro = QLabel(f"{note}\n\nStore: {folder}" if note else f"Store: {folder}", self)
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.user = QComboBox(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember me on this workstation", self)
        self.remember.setToolTip("Keeps the unlock secret in the operating system's keyring.")
        self.remember.hide()  # offered only once a real keyring has answered
        self.error = error_label(self)
        self.buttons = QDialogButtonBox(self)
        self.unlock_button = self.buttons.addButton(
            "Unlock", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.unlock_button.setDefault(True)
        self.buttons.accepted.connect(self.unlock)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("User:", self.user)
        form.addRow("Password:", self.password)
        form.addRow("", self.remember)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self, "Unlock Certdesk"))
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._load_users()
        # A refusal is said of one user: choosing another clears it.
        self.user.currentTextChanged.connect(lambda _name: self.error.hide())
        self.user.currentTextChanged.connect(self._user_changed)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._keyring_asked:
            # Once the dialog is painted: importing the keyring holds the GIL for tens of
            # milliseconds, which the first paint would otherwise wait for.
            self._keyring_asked = True
            QTimer.singleShot(0, self, self._probe_keyring)

    def _load_users(self) -> None:
        try:
            names = store_folders.store_user_names(self.folder)
        except CertdeskError as exc:
            show_error(self.error, exc)
            self.unlock_button.setEnabled(False)
            return
        self.user.addItems(names)
        last = self._offered or QSettings().value("login/last_user")
        if last in names:
            self.user.setCurrentText(last)
        self.password.setFocus()

    def _probe_keyring(self) -> None:
        def probe(names: list[str]) -> tuple[bool, set[str]]:
            if not logins.keyring_usable():
                return False, set()
            return True, logins.remembered_users(self.folder, names)

        names = [self.user.itemText(i) for i in range(self.user.count())]
        if not names:
            return
        self._probe = (
            Task(self, probe, names)
            .on_done(self._keyring_answered)
            .on_error(lambda _: None)  # no keyring to ask: nothing is offered
            .start()
        )

    def _keyring_answered(self, answer) -> None:
        usable, remembered = answer
        self._remembered = remembered
        self.remember.setVisible(usable)
        self._user_changed(self.user.currentText())

    def _user_changed(self, name: str) -> None:
        remembered = name in self._remembered
        self.remember.setChecked(remembered)
        self.password.setPlaceholderText(
            "Remembered on this workstation: press Unlock" if remembered else ""
        )

    def unlock(self) -> None:
        name = self.user.currentText()
        password = self.password.text()
        if not password and name not in self._remembered:
            show_error(self.error, CertdeskError("Type the password."))
            return
        self._set_busy(True)
        keep = self.remember.isVisible() and self.remember.isChecked()
        self._task = (
            Task(self, self._sign_in, name, password, keep)
            .on_done(self._signed_in)
            .on_error(self._failed)  # under the password, not in a box
            .start()
        )

    def _sign_in(self, name: str, password: str, keep: bool) -> Session:
        if not password:
            session = logins.sign_in_remembered(self.folder, name, keep=keep)
            if session is None:
                raise AuthenticationError(
                    "The login remembered here no longer opens the store: type the password."
                )
            return session
        if keep:
            return logins.sign_in(self.folder, name, password, keep=True)
        forget = name in self._remembered
        return logins.sign_in(self.folder, name, password, keep=False if forget else None)

    def _signed_in(self, session: Session) -> None:
        self.session = session
        QSettings().setValue("login/last_user", session.user_name)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self._remembered.discard(self.user.currentText())
        show_error(self.error, error)
        self.password.selectAll()
        self.password.setFocus()

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.user, self.password, self.remember, self.unlock_button):
            widget.setEnabled(not busy)
        self.unlock_button.setText("Unlocking…" if busy else "Unlock")
