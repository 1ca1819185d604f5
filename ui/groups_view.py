"""The Certificate Groups page: groups with their member counts; create, rename, delete."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import CertdeskError
from app.services import certificate_groups
from app.services.certificate_groups import GroupRow
from app.services.operations import refusal
from app.services.session import Session
from ui.feedback import hint_label
from ui.icons import icon

EMPTY_HINT = (
    "No certificate groups yet. Groups gather certificates so that one policy can name "
    "them all: create one with New Group…, or check certificates and use Add Groups."
)


class GroupsView(QWidget):
    changed = Signal()  # a group was created, renamed or deleted

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Name", "Certificates", "Description"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.tree.setColumnWidth(0, 280)
        self.tree.setColumnWidth(1, 110)
        self.tree.itemSelectionChanged.connect(self._update_actions)
        self.tree.itemDoubleClicked.connect(lambda *_: self.rename_selected())

        self.new_action = QAction(icon("new"), "New Group…", self)
        self.new_action.triggered.connect(self.create)
        self.rename_action = QAction(icon("rename"), "Rename…", self)
        self.rename_action.setShortcut("F2")
        self.rename_action.triggered.connect(self.rename_selected)
        self.delete_action = QAction(icon("delete"), "Delete…", self)
        self.delete_action.setShortcut("Del")
        self.delete_action.triggered.connect(self.delete_selected)
        self.refusal = refusal(session, certificate_groups.create_group)

        bar = QHBoxLayout()
        for action in (self.new_action, self.rename_action, self.delete_action):
            self.addAction(action)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            bar.addWidget(button)
        bar.addStretch(1)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter groups")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        bar.addWidget(self.search)
        self.empty = hint_label(EMPTY_HINT, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)
        self._update_actions()

    def reload(self) -> None:
        selected = self.selected_name()
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for group in certificate_groups.list_groups(self._session):
            item = _item(group)
            self.tree.addTopLevelItem(item)
            if group.name == selected:
                item.setSelected(True)
        self.tree.setSortingEnabled(True)
        self.empty.setVisible(self.tree.topLevelItemCount() == 0)
        self._filter(self.search.text())
        self._update_actions()

    def selected_name(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setHidden(bool(needle) and needle not in item.text(0).casefold())

    def _update_actions(self) -> None:
        chosen = self.selected_name() is not None
        self.new_action.setEnabled(self.refusal is None)
        self.rename_action.setEnabled(self.refusal is None and chosen)
        self.delete_action.setEnabled(self.refusal is None and chosen)
        for action in (self.new_action, self.rename_action, self.delete_action):
            action.setToolTip(self.refusal or action.text().rstrip("…"))

    def create(self) -> None:
        name, ok = QInputDialog.getText(self, "New certificate group", "Group name:")
        if ok and self._attempt(lambda: certificate_groups.create_group(self._session, name)):
            self.reload()
            self.select(" ".join(name.split()))
            self.changed.emit()

    def rename_selected(self) -> None:
        old = self.selected_name()
        if old is None or self.refusal:
            return
        new, ok = QInputDialog.getText(
            self, "Rename certificate group", f"New name for “{old}”:", text=old
        )
        if ok and self._attempt(lambda: certificate_groups.rename_group(self._session, old, new)):
            self.reload()
            self.select(" ".join(new.split()))
            self.changed.emit()

    def delete_selected(self) -> None:
        items = self.tree.selectedItems()
        if not items or self.refusal:
            return
        name = items[0].data(0, Qt.ItemDataRole.UserRole)
        members = int(items[0].data(1, Qt.ItemDataRole.UserRole))
        if members and not self._confirm_delete(name, members):
            return
        if self._attempt(lambda: certificate_groups.delete_group(self._session, name)):
            self.reload()
            self.changed.emit()

    def _confirm_delete(self, name: str, members: int) -> bool:
        noun = "certificate" if members == 1 else "certificates"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete group",
            f"Delete the group “{name}”? It holds {members:,} {noun}.",
            parent=self,
        )
        box.setInformativeText(
            "The certificates stay in the store; policies naming this group stop reaching them."
        )
        delete = box.addButton("Delete Group", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is delete

    def _attempt(self, operation) -> bool:
        try:
            operation()
        except CertdeskError as exc:
            QMessageBox.warning(self, "Certdesk", str(exc))
            return False
        return True

    def select(self, name: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == name)


class _Item(QTreeWidgetItem):
    """Sorts the count column by number, not by text."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        column = self.treeWidget().sortColumn() if self.treeWidget() else 0
        if column == 1:
            return int(self.data(1, Qt.ItemDataRole.UserRole)) < int(
                other.data(1, Qt.ItemDataRole.UserRole)
            )
        return self.text(column).casefold() < other.text(column).casefold()


def _item(group: GroupRow) -> QTreeWidgetItem:
    item = _Item([group.name, f"{group.members:,}", group.description])
    item.setIcon(0, icon("group"))
    item.setData(0, Qt.ItemDataRole.UserRole, group.name)
    item.setData(1, Qt.ItemDataRole.UserRole, group.members)
    item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item
