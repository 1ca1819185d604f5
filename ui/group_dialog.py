"""Choose certificate groups with checkboxes; with `groups.manage`, name a new one too."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from app.errors import ValidationError
from app.services.certificate_groups import validate_group_name
from ui.dialogs import Dialog
from ui.feedback import error_label, show_error


class GroupDialog(Dialog):
    def __init__(
        self,
        parent,
        title: str,
        prompt: str,
        groups: list[tuple[str, str]],  # name, detail shown beside it
        ok_text: str,
        can_create: bool = False,
        create_refusal: str | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        self.list = QListWidget(self)
        self.list.setMinimumHeight(200)
        for name, detail in groups:
            self._add_item(name, detail, checked=False)
        self.empty = QLabel(
            "There are no certificate groups yet."
            + (" Name one below to create it." if can_create else ""),
            self,
        )
        self.empty.setWordWrap(True)
        self.empty.setVisible(not groups)
        self.list.itemChanged.connect(self._update_ok)

        layout = QVBoxLayout(self)
        intro = QLabel(prompt, self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)

        self.new_name = QLineEdit(self)
        self.new_name.setPlaceholderText("New group name")
        self.create_button = QPushButton("Create", self)
        self.create_button.setEnabled(False)
        self.new_name.textChanged.connect(
            lambda text: self.create_button.setEnabled(bool(text.strip()))
        )
        self.new_name.returnPressed.connect(self._create)
        self.create_button.clicked.connect(self._create)
        self.error = error_label(self)
        if can_create or create_refusal:
            row = QHBoxLayout()
            row.addWidget(self.new_name, 1)
            row.addWidget(self.create_button)
            layout.addLayout(row)
            layout.addWidget(self.error)
        if not can_create:
            self.new_name.setEnabled(False)
            self.new_name.setToolTip(create_refusal or "")
            self.create_button.setToolTip(create_refusal or "")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._update_ok()

    def _add_item(self, name: str, detail: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(f"{name}    {detail}".rstrip(), self.list)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        return item

    def _create(self) -> None:
        try:
            name = validate_group_name(self.new_name.text())
        except ValidationError as exc:
            show_error(self.error, exc)
            return
        existing = [self.list.item(i) for i in range(self.list.count())]
        match = next(
            (i for i in existing if i.data(Qt.ItemDataRole.UserRole).casefold() == name.casefold()),
            None,
        )
        if match is None:
            match = self._add_item(name, "(new)", checked=True)
        match.setCheckState(Qt.CheckState.Checked)
        self.list.scrollToItem(match)
        self.new_name.clear()
        self.error.hide()
        self.empty.hide()

    def _update_ok(self, *_args) -> None:
        self.ok_button.setEnabled(bool(self.chosen()))

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
