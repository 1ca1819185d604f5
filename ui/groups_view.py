"""The Certificate Groups page: groups with their member counts; create, rename, delete."""

from PySide6.QtCore import Qt
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

from app.services import certificate_groups
from app.services.certificate_groups import GroupRow
from app.services.operations import refusal
from app.services.session import Session
from ui.dialogs import confirm_destructive
from ui.feedback import hint_label
from ui.icons import icon
from ui.store_events import ALL, events
from ui.tasks import Task

EMPTY_HINT = (
    "No certificate groups yet. Groups gather certificates so that one policy can name "
    "them all: create one with New Group…, or check certificates and use Add Groups."
)


class GroupsView(QWidget):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._generation = 0  # of reload(): a slower, older read must not win
        self._select_next: str | None = None  # a group just created or renamed
        self.confirmation: QMessageBox | None = None
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
        events.groups_changed.connect(self.reload)

    def reload(self) -> None:
        """Read the groups off the GUI thread; the selection is kept."""
        self._generation += 1
        generation = self._generation
        (
            Task(self, certificate_groups.list_groups, self._session)
            .on_done(lambda rows: self._show(rows) if generation == self._generation else None)
            .start()
        )

    def _show(self, rows: list[GroupRow]) -> None:
        selected = self._select_next or self.selected_name()
        self._select_next = None
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for group in rows:
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
        if ok:
            self._write(certificate_groups.create_group, name, select=name, certificates=())

    def rename_selected(self) -> None:
        old = self.selected_name()
        if old is None or self.refusal:
            return
        new, ok = QInputDialog.getText(
            self, "Rename certificate group", f"New name for “{old}”:", text=old
        )
        if ok:
            self._write(certificate_groups.rename_group, old, new, select=new)

    def delete_selected(self) -> QMessageBox | None:
        """Delete the selected group; one with members is confirmed first (the box is
        returned, opened, not run)."""
        items = self.tree.selectedItems()
        if not items or self.refusal:
            return None
        name = items[0].data(0, Qt.ItemDataRole.UserRole)
        members = int(items[0].data(1, Qt.ItemDataRole.UserRole))
        if not members:
            self._write(
                certificate_groups.delete_group, name, certificates=()
            )  # nothing to confirm
            return None
        noun = "certificate" if members == 1 else "certificates"
        self.confirmation = confirm_destructive(
            self,
            "Delete group",
            f"Delete the group “{name}”? It holds {members:,} {noun}.",
            "The certificates stay in the store; policies naming this group stop reaching them.",
            "Delete Group",
            lambda: self._write(certificate_groups.delete_group, name),
        )
        return self.confirmation

    def _write(self, operation, *args, select: str | None = None, certificates=ALL) -> None:
        """Run a change to the groups on the writer thread. A rename or delete changes the
        groups column of its members, whose ids the service does not return: the
        certificates are all re-read."""

        def done(_result) -> None:
            if select is not None:
                self._select_next = " ".join(select.split())  # as the service stores it

        (
            Task(self, operation, self._session, *args)
            .writes()
            .changes(groups=True, certificates=certificates)
            .on_done(done)
            .start()
        )

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
