"""Creating the first store (FirstRunDialog): what `certdesk` shows when no store is there.

It creates the store off the GUI thread (Argon2id, the database's first rows).
"""

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from app.errors import CertdeskError, ValidationError
from app.services import users
from app.services.session import Session
from ui.feedback import error_label, show_error
from ui.icons import icon
from ui.login import heading
from ui.tasks import Task


class FirstRunDialog(QDialog):
    """Creates the store; the person at the keyboard becomes its Administrator."""

    def __init__(self, folder: Path, default_admin: str = "", parent=None):
        super().__init__(parent)
        self.folder = folder
        self.session: Session | None = None
        self._task = None
        self.setWindowTitle("Create a Certdesk store")
        self.setWindowIcon(icon("app"))
        self.setMinimumWidth(480)

        intro = QLabel(
            f"<b>No store yet.</b> Certdesk will create an encrypted store in<br>"
            f"<code>{folder}</code><br>and make you its Administrator.",
            self,
        )
        intro.setWordWrap(True)
        self.admin = QLineEdit(default_admin, self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"at least {users.MIN_PASSWORD_LENGTH} characters")
        self.confirm = QLineEdit(self)
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_error = error_label(self)
        self.password_error = error_label(self)
        self.confirm_error = error_label(self)
        warning = QLabel(
            "Nothing recovers a lost password. Write it down somewhere safe and keep "
            "backups of the store folder.",
            self,
        )
        warning.setWordWrap(True)
        self.error = error_label(self)
        self.buttons = QDialogButtonBox(self)
        self.create_button = self.buttons.addButton(
            "Create store", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Administrator:", self.admin)
        form.addRow("", self.admin_error)
        form.addRow("Password:", self.password)
        form.addRow("", self.password_error)
        form.addRow("Confirm password:", self.confirm)
        form.addRow("", self.confirm_error)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self, "Welcome to Certdesk"))
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        (self.password if default_admin else self.admin).setFocus()

    def _validate(self) -> bool:
        for label in (self.admin_error, self.password_error, self.confirm_error, self.error):
            label.hide()
        ok = True
        try:
            users.validate_user_name(self.admin.text())
        except CertdeskError as exc:
            show_error(self.admin_error, exc)
            ok = False
        try:
            users.validate_new_password(self.password.text())
        except CertdeskError as exc:
            show_error(self.password_error, exc)
            ok = False
        if ok and self.confirm.text() != self.password.text():
            show_error(self.confirm_error, ValidationError("confirm", "the two passwords differ"))
            ok = False
        return ok

    def create(self) -> None:
        if not self._validate():
            return
        self.create_button.setEnabled(False)
        self.create_button.setText("Creating…")
        self._task = (
            Task(
                self,
                users.initialise_store,
                self.folder,
                self.admin.text().strip(),
                self.password.text(),
            )
            .writes()
            .on_done(self._created)
            .on_error(self._failed)  # beside the fields, not in a box
            .start()
        )

    def _created(self, result) -> None:
        self.session, _ = result
        QSettings().setValue("login/last_user", self.session.user_name)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.create_button.setEnabled(True)
        self.create_button.setText("Create store")
        show_error(self.error, error)
