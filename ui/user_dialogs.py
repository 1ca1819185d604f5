"""The dialogs of the Users page and the File menu: New User…, Change Role…, Reset
Password…, Change My Password…. Each checks what it can as it is typed (a password's
length, the confirmation), runs its change through `submit` off the GUI thread, and
shows a refusal under the field it concerns, staying open with what was typed.

Passwords are read from the fields only when submitted, handed to the task (which holds
them no longer than the call, ui.tasks) and cleared from the fields once done."""

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import ValidationError
from app.services.users import MAX_DISPLAY_NAME, MAX_USER_NAME, MIN_PASSWORD_LENGTH
from ui.dialogs import Dialog, ok_cancel
from ui.feedback import error_label, show_error
from ui.group_dialog import fit_height, fit_title

# What a dialog hands its values to: it starts the write and calls back on_done (the
# dialog closes) or on_error (the dialog says why, under the field).
Submit = Callable[..., None]
SHORT = f"At least {MIN_PASSWORD_LENGTH} characters."
MISMATCH = "The two passwords differ."


def password_field(parent: QWidget, placeholder: str = "") -> QLineEdit:
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class FormDialog(Dialog):
    """A form of fields, each with its error line under it, and OK named for what it
    does. Subclasses add rows with `add_field`, say which `ValidationError` field names
    which widget (`fields`), and implement `values()` and `ready()`."""

    def __init__(self, parent: QWidget, title: str, ok_text: str, submit: Submit, width=460):
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_title(self, width)
        self._submit = submit
        self.saving = False
        self.errors: dict[QWidget, QLabel] = {}
        self.fields: dict[str, QWidget] = {}  # a service's field name -> its widget
        # A new password and its confirmation: that they differ is said under the second
        # once it is typed as long as the first.
        self.password_pair: tuple[QLineEdit, QLineEdit] | None = None
        self.form = QFormLayout()
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.hide()
        self.general_error = error_label(self)
        self.buttons = ok_cancel(self, ok_text)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.note)
        layout.addWidget(self.general_error)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def add_field(self, label: str, widget: QWidget, *names: str) -> QWidget:
        self.form.addRow(label, widget)
        error = error_label(self)
        self.form.addRow("", error)
        self.errors[widget] = error
        for name in names:
            self.fields[name] = widget
        if isinstance(widget, QLineEdit):
            widget.textChanged.connect(self.update_ok)
        return widget

    def say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def values(self) -> tuple:
        raise NotImplementedError

    def ready(self) -> str:
        """What is still missing, in words for OK's tooltip; "" when OK may be pressed."""
        return ""

    def update_ok(self, *_args) -> None:
        missing = "" if not self.saving else "Saving…"
        missing = missing or self.ready()
        self.ok_button.setEnabled(not missing)
        self.ok_button.setToolTip(missing)
        if self.password_pair is not None:
            password, confirmation = (f.text() for f in self.password_pair)
            differ = len(confirmation) >= len(password) > 0 and confirmation != password
            label = self.errors[self.password_pair[1]]
            label.setText(MISMATCH)
            label.setVisible(differ)

    def accept(self) -> None:
        """OK and Enter: the write is started; the dialog closes when it succeeds."""
        if self.saving or not self.ok_button.isEnabled():
            return
        self.saving = True
        self.update_ok()
        for label in (*self.errors.values(), self.general_error):
            label.hide()
        self._submit(*self.values(), self._saved, self.refuse)

    def reject(self) -> None:
        """While the write runs the dialog stays: it shows the outcome."""
        if not self.saving:
            super().reject()

    def _saved(self, _result) -> None:
        self.saving = False
        self.clear_secrets()
        super().accept()

    def clear_secrets(self) -> None:
        for widget in self.errors:
            if isinstance(widget, QLineEdit) and widget.echoMode() == QLineEdit.EchoMode.Password:
                widget.clear()

    def refuse(self, error: BaseException) -> None:
        self.saving = False
        self.update_ok()
        widget = self.fields.get(error.field) if isinstance(error, ValidationError) else None
        label = self.errors.get(widget, self.general_error)
        show_error(label, error)
        if widget is not None:
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()
        fit_height(self)


class NewUserDialog(FormDialog):
    """Name, display name, role, user groups (checked, or typed to create), and the
    initial password twice."""

    def __init__(
        self,
        parent: QWidget,
        submit: Submit,
        roles: Sequence[tuple[str, str]],
        default_role: str,
    ):
        super().__init__(parent, "New user", "Add User", submit)
        self.name = QLineEdit(self)
        self.name.setMaxLength(MAX_USER_NAME)
        self.name.setPlaceholderText("The sign-in name, e.g. ana")
        self.display_name = QLineEdit(self)
        self.display_name.setMaxLength(MAX_DISPLAY_NAME)
        self.display_name.setPlaceholderText("e.g. Ana Lima (optional)")
        self.role = QComboBox(self)
        for name, words in roles:
            self.role.addItem(name, name)
            self.role.setItemData(self.role.count() - 1, words, Qt.ItemDataRole.ToolTipRole)
        self.role.setCurrentIndex(max(self.role.findData(default_role), 0))
        self.role_words = dict(roles)
        self.role.currentIndexChanged.connect(lambda _i: self._show_role())
        self.user_groups = QListWidget(
            self
        )  # until the store's user groups are read, if it has any
        self.new_groups = QLineEdit(self)
        self.new_groups.setPlaceholderText("New user groups, separated by commas (optional)")
        self.password = password_field(self, SHORT)
        self.confirmation = password_field(self, "The same again")
        self.add_field("&User name:", self.name, "user name")
        self.add_field("&Display name:", self.display_name, "display name")
        self.add_field("&Role:", self.role, "role")
        self.role_note = QLabel(self)
        self.role_note.setWordWrap(True)
        self.role_note.setStyleSheet("color: palette(placeholder-text);")
        self.form.addRow("", self.role_note)
        self.form.addRow("User &groups:", self.user_groups)
        self.form.setRowVisible(self.user_groups, False)
        self.add_field("&New groups:", self.new_groups, "user group")
        self.add_field("&Password:", self.password, "password")
        self.add_field("&Confirm:", self.confirmation)
        self.password_pair = (self.password, self.confirmation)
        self._show_role()
        self.update_ok()

    def show_groups(self, names: Sequence[str]) -> None:
        """The store's user groups to check, once read (none: only the field to name new
        ones)."""
        for name in names:
            item = QListWidgetItem(name, self.user_groups)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        rows = min(max(len(names), 1), 5)  # a few show; more scroll
        frame = 2 * self.user_groups.frameWidth()
        self.user_groups.setFixedHeight(rows * self.user_groups.sizeHintForRow(0) + frame + 2)
        self.form.setRowVisible(self.user_groups, bool(names))
        fit_height(self)

    def _show_role(self) -> None:
        self.role_note.setText(self.role_words.get(self.role.currentData(), ""))

    def chosen_groups(self) -> list[str]:
        checked = [
            self.user_groups.item(i).text()
            for i in range(self.user_groups.count())
            if self.user_groups.item(i).checkState() == Qt.CheckState.Checked
        ]
        typed = [g.strip() for g in self.new_groups.text().split(",") if g.strip()]
        return list(dict.fromkeys(checked + typed))

    def values(self) -> tuple:
        return (
            self.name.text(),
            self.display_name.text(),
            self.role.currentData(),
            self.chosen_groups(),
            self.password.text(),
        )

    def ready(self) -> str:
        if not self.name.text().strip():
            return "Name the user."
        return password_missing(self.password, self.confirmation)


def password_missing(password: QLineEdit, confirmation: QLineEdit) -> str:
    if len(password.text()) < MIN_PASSWORD_LENGTH:
        return f"The password needs {SHORT[0].lower()}{SHORT[1:]}"
    if password.text() != confirmation.text():
        return MISMATCH
    return ""


class RoleDialog(FormDialog):
    """Another role for a user, each role said in words."""

    def __init__(
        self, parent: QWidget, submit: Submit, user: str, roles: Sequence[tuple[str, str]], now: str
    ):
        super().__init__(parent, f"Role of {user}", "Change Role", submit, width=420)
        self._now = now
        self.role = QComboBox(self)
        self.role_words = dict(roles)
        for name, _words in roles:
            self.role.addItem(name, name)
        self.role.setCurrentIndex(max(self.role.findData(now), 0))
        self.role.currentIndexChanged.connect(lambda _i: self._changed())
        self.add_field("&Role:", self.role, "role")
        self._changed()

    def _changed(self) -> None:
        words = self.role_words.get(self.role.currentData(), "")
        self.say(f"{words} The role takes effect at the user's next sign-in.")
        self.update_ok()

    def values(self) -> tuple:
        return (self.role.currentData(),)

    def ready(self) -> str:
        return "" if self.role.currentData() != self._now else f"The user is {self._now} already."


class ResetPasswordDialog(FormDialog):
    """An Administrator sets another user's password, without the old one."""

    def __init__(self, parent: QWidget, submit: Submit, user: str):
        super().__init__(parent, f"Reset the password of {user}", "Reset Password", submit)
        self.password = password_field(self, SHORT)
        self.confirmation = password_field(self, "The same again")
        self.add_field("&New password:", self.password, "password")
        self.add_field("&Confirm:", self.confirmation)
        self.password_pair = (self.password, self.confirmation)
        self.say(
            f"{user} gets new key pairs, and the keys wrapped to them are wrapped again. The "
            "store's key changes, so the old password opens nothing of it afterwards. Tell "
            f"{user} the new password in person."
        )
        self.update_ok()

    def values(self) -> tuple:
        return (self.password.text(),)

    def ready(self) -> str:
        return password_missing(self.password, self.confirmation)


class ChangePasswordDialog(FormDialog):
    """The signed-in user's own password: the current one, then the new one twice."""

    def __init__(self, parent: QWidget, submit: Submit, user: str):
        super().__init__(parent, "Change my password", "Change Password", submit)
        self.current = password_field(self)
        self.password = password_field(self, SHORT)
        self.confirmation = password_field(self, "The same again")
        self.add_field("&Current password:", self.current, "current password")
        self.add_field("&New password:", self.password, "password", "new password")
        self.add_field("&Confirm:", self.confirmation)
        self.password_pair = (self.password, self.confirmation)
        self.say(
            f"Only {user}'s key slot changes. A copy of the store folder made before still "
            "opens with the old password."
        )
        self.update_ok()

    def values(self) -> tuple:
        return (self.current.text(), self.password.text())

    def ready(self) -> str:
        if not self.current.text():
            return "Type your current password."
        if self.password.text() == self.current.text():
            return "The new password is the current one."
        return password_missing(self.password, self.confirmation)
