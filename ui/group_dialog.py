"""The group dialogs: a picker of certificate groups with checkboxes (Add to Groups, Remove
from Groups), whose groups are read off the GUI thread once it is open, and the dialog
that names a new group or edits one."""

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedLayout,
    QVBoxLayout,
)

from app.errors import ValidationError
from app.services import certificate_groups
from app.services.certificate_groups import (
    MAX_GROUP_DESCRIPTION,
    MAX_GROUP_NAME,
    validate_group_name,
)
from app.services.operations import refusal
from app.services.session import Session
from ui.dialogs import Dialog, failure_text, ok_cancel
from ui.feedback import error_label, hint_label, show_error
from ui.tasks import Task
from ui.wording import plural

NO_GROUPS = "There are no certificate groups yet."


def fit_title(dialog: Dialog, width: int) -> None:
    """At least `width`, and wide enough that the title bar shows the whole title (a
    window manager cuts it in the middle: "Renam…group")."""
    title = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
    dialog.setMinimumWidth(max(width, title + 160))  # room for the icon and the buttons


def fit_height(dialog: Dialog) -> None:
    """Tall enough for a wrapped error line just shown: an open dialog does not grow by
    itself for a label whose height depends on its width."""
    layout = dialog.layout()
    layout.activate()
    needed = layout.totalHeightForWidth(dialog.width())
    if needed > dialog.height():
        dialog.resize(dialog.width(), needed)


class GroupPicker(Dialog):
    """Certificate groups to check (or the `items` named: users), shown once
    `show_groups` has them; with `creating`, a field to name a new group (disabled,
    with `create_refusal`, for a role that may not create one)."""

    def __init__(
        self,
        parent,
        title: str,
        prompt: str,
        ok_text: str,
        creating: bool = False,
        create_refusal: str | None = None,
        items: tuple[str, str] = ("group", "certificate groups"),
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_title(self, 380)
        self.loaded = False
        self._items = items
        self._why_not = f"Check at least one {items[0]}."

        layout = QVBoxLayout(self)
        self.prompt = QLabel(prompt, self)
        self.prompt.setWordWrap(True)
        layout.addWidget(self.prompt)

        self.list = QListWidget(self)
        self.list.setMinimumHeight(200)
        self.list.itemChanged.connect(self._update_ok)
        # What takes the list's place while it is read, or when there is nothing to list.
        self.status = hint_label(f"Reading the {items[1]}…", self)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.status)
        self.stack.addWidget(self.list)
        layout.addLayout(self.stack, 1)

        self.new_name: QLineEdit | None = None
        self.create_button: QPushButton | None = None
        self.error = error_label(self)
        if creating:
            self._add_create_row(layout, create_refusal)

        self.buttons = ok_cancel(self, ok_text)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(self.buttons)
        self._update_ok()

    def _add_create_row(self, layout: QVBoxLayout, create_refusal: str | None) -> None:
        self.new_name = QLineEdit(self)
        self.new_name.setPlaceholderText("New group name")
        self.new_name.setMaxLength(MAX_GROUP_NAME)
        self.create_button = QPushButton("Create", self)
        self.create_button.setEnabled(False)
        self.new_name.textChanged.connect(
            lambda text: self.create_button.setEnabled(bool(text.strip()))
        )
        self.create_button.clicked.connect(self._create)
        if create_refusal:
            self.new_name.setEnabled(False)
            self.new_name.setToolTip(create_refusal)
            self.create_button.setToolTip(create_refusal)
        else:
            # Typed before the list is looked at, a name went into the list's keyboard
            # search and a Space there ticked whichever group it had reached.
            self.new_name.setFocus(Qt.FocusReason.OtherFocusReason)
        row = QHBoxLayout()
        row.addWidget(self.new_name, 1)
        row.addWidget(self.create_button)
        layout.addLayout(row)
        layout.addWidget(self.error)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Return in the new-name field with a name in it creates that group, as Create
        does, and nothing more: it does not fall through to Add, which would add to the
        groups ticked so far and not to the one just typed."""
        typed = self.new_name is not None and self.new_name.hasFocus()
        if (
            typed
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and self.new_name.text().strip()
        ):
            self._create()
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        """Add or Remove, by a click or by Return anywhere: only with a group ticked."""
        if self.ok_button.isEnabled():
            super().accept()

    # -- contents -------------------------------------------------------------------

    def show_groups(self, groups: Sequence[tuple[str, str]], empty_text: str) -> None:
        """The groups (name, detail shown beside it); `empty_text` says why there are none
        (and, with no group to create either, why OK is disabled)."""
        self.loaded = True
        for name, detail in groups:
            # A group typed and created before the list came is this stored one.
            typed = self._item_named(name)
            if typed is not None:
                self.list.takeItem(self.list.row(typed))
            self._add_item(name, detail, checked=typed is not None)
        self.status.setText(empty_text)
        self._why_not = f"Check at least one {self._items[0]}." if groups else empty_text
        self._show_list()

    def show_failure(self, error: BaseException) -> None:
        self.loaded = True
        self.status.setText(failure_text(error))
        self._why_not = f"The {self._items[1]} could not be read."
        self._show_list()

    def _show_list(self) -> None:
        listed = self.list.count() > 0
        self.stack.setCurrentWidget(self.list if listed else self.status)
        # "Take them out of the groups checked below" over no groups would contradict it.
        self.prompt.setVisible(listed or self.new_name is not None)
        self._update_ok()

    def _add_item(self, name: str, detail: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(f"{name}    {detail}".rstrip(), self.list)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        return item

    def _item_named(self, name: str) -> QListWidgetItem | None:
        """The listed group of `name`, as group names compare (case aside)."""
        items = (self.list.item(i) for i in range(self.list.count()))
        wanted = name.casefold()
        return next(
            (i for i in items if i.data(Qt.ItemDataRole.UserRole).casefold() == wanted), None
        )

    def names(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _create(self) -> None:
        try:
            name = validate_group_name(self.new_name.text())
        except ValidationError as exc:
            show_error(self.error, exc)
            fit_height(self)
            return
        match = self._item_named(name)
        if match is None:
            match = self._add_item(name, "(new)", checked=True)
        match.setCheckState(Qt.CheckState.Checked)
        self.list.scrollToItem(match)
        self.new_name.clear()
        self.error.hide()
        self._show_list()

    def _update_ok(self, *_args) -> None:
        ready = self.loaded and bool(self.chosen())
        self.ok_button.setEnabled(ready)
        self.ok_button.setToolTip("" if ready or not self.loaded else self._why_not)

    def set_checked(self, name: str, checked: bool = True) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def chosen(self) -> list[str]:
        items = [self.list.item(i) for i in range(self.list.count())]
        return [
            i.data(Qt.ItemDataRole.UserRole)
            for i in items
            if i.checkState() == Qt.CheckState.Checked
        ]


def groups_to_add(parent, session: Session, prompt: str) -> GroupPicker:
    """The Add to Groups picker (not opened yet); it reads the groups itself."""
    create_refusal = refusal(session, certificate_groups.create_group)
    dialog = GroupPicker(
        parent, "Add to groups", prompt, "Add", creating=True, create_refusal=create_refusal
    )
    empty = NO_GROUPS + ("" if create_refusal else " Name one below to create it.")

    def show(groups) -> None:
        dialog.show_groups(
            [(g.name, f"({plural(g.members, 'certificate')})") for g in groups], empty
        )

    Task(dialog, certificate_groups.list_groups, session).on_done(show).on_error(
        dialog.show_failure
    ).start()
    return dialog


def groups_to_remove(parent, session: Session, ids: Sequence[int], prompt: str) -> GroupPicker:
    """The Remove from Groups picker (not opened yet): the groups the certificates `ids`
    are in, as the store says (read off the GUI thread), with how many of them each holds."""
    dialog = GroupPicker(parent, "Remove from groups", prompt, "Remove")
    ids = list(ids)
    empty = (
        "This certificate is in no group."
        if len(ids) == 1
        else f"None of these {plural(len(ids), 'certificate')} is in a group."
    )

    def show(shares) -> None:
        detail = (lambda s: "") if len(ids) == 1 else (lambda s: f"({s.holds:,} of these)")
        dialog.show_groups([(s.name, detail(s)) for s in shares], empty)

    Task(dialog, certificate_groups.groups_of, session, ids).on_done(show).on_error(
        dialog.show_failure
    ).start()
    return dialog


# What GroupEditDialog hands its name and description to: it starts the write and calls
# back on_done (the dialog closes) or on_error (the dialog says why, beside the field).
Submit = Callable[[str, str, Callable[[object], None], Callable[[BaseException], None]], None]


class GroupEditDialog(Dialog):
    """Name a new group or edit one (a certificate group, or a user group): its name and
    description. A refusal (a name taken, a character not allowed) is shown beside its
    field and the dialog stays open with what was typed."""

    def __init__(
        self,
        parent,
        title: str,
        ok_text: str,
        submit: Submit,
        name: str = "",
        description="",
        example: str = "e.g. Production",
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_title(self, 420)
        self._submit = submit
        self.saving = False

        self.name = QLineEdit(name, self)
        self.name.setMaxLength(MAX_GROUP_NAME)
        self.name.setPlaceholderText(example)
        self.description = QLineEdit(description, self)
        self.description.setMaxLength(MAX_GROUP_DESCRIPTION)
        self.description.setPlaceholderText("What the group is for (optional)")
        self.name_error = error_label(self)
        self.description_error = error_label(self)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("", self.name_error)
        form.addRow("Description:", self.description)
        form.addRow("", self.description_error)

        self.buttons = ok_cancel(self, ok_text)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.name.textChanged.connect(self._update_ok)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.name.selectAll()
        self._update_ok()

    def _update_ok(self, *_args) -> None:
        self.ok_button.setEnabled(not self.saving and bool(self.name.text().strip()))

    def accept(self) -> None:
        """OK and Enter: the write is started; the dialog closes when it succeeds."""
        if self.saving or not self.ok_button.isEnabled():
            return
        self.saving = True
        self._update_ok()
        self.name_error.hide()
        self.description_error.hide()
        self._submit(self.name.text(), self.description.text(), self._saved, self.refuse)

    def reject(self) -> None:
        """While the write runs the dialog stays: it shows the outcome."""
        if not self.saving:
            super().reject()

    def _saved(self, _result) -> None:
        self.saving = False
        super().accept()

    def refuse(self, error: BaseException) -> None:
        self.saving = False
        self._update_ok()
        on_description = isinstance(error, ValidationError) and error.field == "description"
        field, label = (
            (self.description, self.description_error)
            if on_description
            else (self.name, self.name_error)
        )
        show_error(label, error)  # a name taken is said whole: "A … named 'X' already exists."
        field.setFocus()
        field.selectAll()
        fit_height(self)
