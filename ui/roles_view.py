"""The Roles page: a matrix of the permissions (rows, each said in words) by the roles
(columns). The four built-in roles are read-only, their permissions Certdesk's own; a
custom role's box toggled changes it at once (`roles.edit_role`, signed by the key
custodian). New Role… names one, starting from another's permissions; Delete Role…
deletes the custom role of the column selected, once no user has it.

It is a matrix rather than a list, so it is not built on the list-page template; it
keeps the page protocol (title, counts, pageRequested, handle, reload_when_shown)."""

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import CertdeskError
from app.services import roles
from app.services.operations import refusal
from app.services.roles import RoleRow
from app.services.session import Session
from ui.dialogs import confirm_destructive, opened, show_failure
from ui.icons import icon
from ui.list_page import HintedTable, ReadsWhenShown, page_toolbar
from ui.store_events import events
from ui.tasks import Task, say_in_status_bar
from ui.user_dialogs import FormDialog
from ui.wording import plural

BUILTIN = "A built-in role: its permissions are Certdesk's own."
TAMPERED = (
    "Its permissions in the database were changed outside Certdesk: they grant nothing; "
    "the boxes show what it may do. Check Store names it."
)
CHOOSE_ROLE = "Select a custom role's column to delete it."


class RoleMatrix(QAbstractTableModel):
    """Rows: the permissions; column 0 what each allows, in words, then one column per
    role, its boxes checkable where the role is custom and the user may edit roles."""

    toggled = Signal(str, str, bool)  # role, permission, now held

    def __init__(self, editable: bool, parent=None):
        super().__init__(parent)
        self.roles: list[RoleRow] = []
        self._editable = editable

    def set_roles(self, rows: list[RoleRow]) -> None:
        self.beginResetModel()
        self.roles = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(roles.ALL_PERMISSIONS)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else 1 + len(self.roles)

    def role_at(self, column: int) -> RoleRow | None:
        return self.roles[column - 1] if 1 <= column <= len(self.roles) else None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        permission = roles.ALL_PERMISSIONS[index.row()]
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                words = roles.PERMISSION_WORDS[permission]
                return words[:1].upper() + words[1:]
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"Permission {permission}: may {roles.PERMISSION_WORDS[permission]}."
            return None
        held = permission in self.role_at(index.column()).permissions
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if held else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            row = self.role_at(index.column())
            verb = "may" if held else "may not"
            return f"{row.name} {verb} {roles.PERMISSION_WORDS[permission]}."
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if index.column() == 0:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        row = self.role_at(index.column())
        if row.builtin or not self._editable:
            return Qt.ItemFlag.ItemIsSelectable  # shown, greyed: not to be changed
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() == 0:
            return False
        row = self.role_at(index.column())
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.toggled.emit(row.name, roles.ALL_PERMISSIONS[index.row()], checked)
        return True  # shown once the store says so (the page reads the roles again)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        row = self.role_at(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return "Permission" if row is None else f"{row.name}\n{plural(row.users, 'user')}"
        if role == Qt.ItemDataRole.ToolTipRole and row is not None:
            kind = BUILTIN if row.builtin else "A custom role, signed by the key custodian."
            return f"{row.description}\n{kind}\n{TAMPERED if row.tampered else ''}".strip()
        if role == Qt.ItemDataRole.DecorationRole and row is not None:
            return icon("expired" if row.tampered else "role")
        return None


class NewRoleDialog(FormDialog):
    """A name, a description, and the role whose permissions the new one starts with."""

    def __init__(self, parent: QWidget, submit, rows: list[RoleRow]):
        super().__init__(parent, "New role", "Create Role", submit)
        self.name = QLineEdit(self)
        self.name.setMaxLength(roles.MAX_ROLE_NAME)
        self.name.setPlaceholderText("e.g. Release Signer")
        self.description = QLineEdit(self)
        self.description.setPlaceholderText("What the role is for (optional)")
        self.start = QComboBox(self)
        for row in rows:
            self.start.addItem(icon("role"), row.name, sorted(row.permissions))
        self.start.setCurrentIndex(max(self.start.findText(roles.SIGNER), 0))
        self.add_field("&Name:", self.name, "role")
        self.add_field("&Description:", self.description, "description")
        self.add_field("&Start from:", self.start, "permissions")
        self.say(
            "The new role starts with the permissions of the role chosen; check and "
            "uncheck them on the Roles page."
        )
        self.update_ok()

    def values(self) -> tuple:
        return (self.name.text(), self.start.currentData(), self.description.text())

    def ready(self) -> str:
        return "" if self.name.text().strip() else "Name the role."


class RolesView(ReadsWhenShown, QWidget):
    title = "Roles"
    icon_name = "role"
    reads_when_shown = True  # not at the window's start, for a page seldom opened

    countsChanged = Signal(int, int)
    pageRequested = Signal(str, str, object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._generation = 0
        self._select_next: str | None = None  # a role just added, once read
        self.loaded = False
        self.dialog: NewRoleDialog | None = None
        self.confirmation: QMessageBox | None = None
        self._edit_refusal = refusal(session, roles.edit_role)
        self.model = RoleMatrix(self._edit_refusal is None, self)
        self.model.toggled.connect(self._toggle)
        self.table = HintedTable(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._column_chosen)
        self.table.selectionModel().currentChanged.connect(lambda *_: self._update_actions())

        self.new_action = QAction(icon("new"), "New Role…", self)
        self.new_action.triggered.connect(self.new_role)
        self.delete_action = QAction(icon("delete"), "Delete Role…", self)
        self.delete_action.triggered.connect(self.delete_selected)
        self._new_refusal = refusal(session, roles.add_role)
        self._delete_refusal = refusal(session, roles.delete_role)
        bar = page_toolbar(self)
        bar.addAction(self.new_action)
        bar.addAction(self.delete_action)
        note = QLabel(
            self._edit_refusal
            or "A custom role's permissions change at once for its users' next sign-in. "
            "The built-in roles, greyed, cannot be changed.",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        top = QHBoxLayout()
        top.addWidget(bar, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        events.access_changed.connect(self.reload_when_shown)
        self._update_actions()

    # -- the page protocol ------------------------------------------------------------

    def handle(self, what: str, argument: object) -> None:
        if what == "show":
            self.select_role(argument)

    def shutdown(self) -> None:
        """Nothing long runs here."""

    def counts_text(self) -> str:
        if not self.loaded:
            return "Reading roles…"
        custom = sum(not r.builtin for r in self.model.roles)
        return f"{plural(len(self.model.roles), 'role')}, {custom:,} custom"

    def reload(self) -> Task:
        self._generation += 1
        generation = self._generation
        return (
            Task(self, roles.list_roles, self._session)
            .on_done(lambda rows: self._show(rows) if generation == self._generation else None)
            .start()
        )

    def _show(self, rows: list[RoleRow]) -> None:
        chosen = self.selected_role()
        self.model.set_roles(rows)
        self.loaded = True
        name, self._select_next = self._select_next or (chosen and chosen.name), None
        if name:
            self.select_role(name)
        self._update_actions()
        self.countsChanged.emit(len(rows), len(rows))

    # -- selection --------------------------------------------------------------------

    def selected_role(self) -> RoleRow | None:
        return self.model.role_at(self.table.currentIndex().column())

    def select_role(self, name: str) -> bool:
        for column in range(1, self.model.columnCount()):
            if self.model.role_at(column).name == name:
                self.table.setCurrentIndex(self.model.index(0, column))
                return True
        return False

    def _column_chosen(self, column: int) -> None:
        if column > 0:
            self.table.setCurrentIndex(
                self.model.index(max(self.table.currentIndex().row(), 0), column)
            )

    def _update_actions(self) -> None:
        self.new_action.setEnabled(self._new_refusal is None)
        self.new_action.setToolTip(self._new_refusal or "Name a custom role")
        role = self.selected_role()
        why = self._delete_refusal
        if why is None and role is None:
            why = CHOOSE_ROLE
        elif why is None and role.builtin:
            why = BUILTIN
        elif why is None and role.users:
            have = "has" if role.users == 1 else "have"
            why = f"{plural(role.users, 'user')} {have} it: give them another role first."
        self.delete_action.setEnabled(why is None)
        self.delete_action.setToolTip(why or f"Delete the role {role.name}")

    # -- changes ----------------------------------------------------------------------

    def _toggle(self, role: str, permission: str, held: bool) -> Task:
        words = "may" if held else "may no longer"
        return self._write(
            roles.edit_role,
            role,
            None,
            None,
            [permission] if held else [],
            [] if held else [permission],
            done=f"The role “{role}” {words} {roles.PERMISSION_WORDS[permission]}, from its users' "
            "next sign-in.",
        )

    def new_role(self) -> NewRoleDialog | None:
        if not self.new_action.isEnabled():
            return None

        def submit(name, permissions, description, on_done, on_error) -> None:
            self._write(
                roles.add_role,
                name,
                permissions,
                description,
                on_done=lambda row: self._added(row, on_done),
                on_error=on_error,
                done=f"Added the role “{' '.join(name.split())}”.",
            )

        self.dialog = opened(NewRoleDialog(self, submit, self.model.roles))
        return self.dialog

    def _added(self, row: RoleRow, on_done) -> None:
        self._select_next = row.name  # selected once the matrix is read again
        on_done(row)

    def delete_selected(self) -> QMessageBox | None:
        role = self.selected_role()
        if role is None or not self.delete_action.isEnabled():
            return None
        self.confirmation = confirm_destructive(
            self,
            "Delete role",
            f"Delete the role “{role.name}”?",
            "No user has it. This cannot be undone.",
            "Delete Role",
            lambda: self._write(
                roles.delete_role, role.name, done=f"Deleted the role “{role.name}”."
            ),
        )
        return self.confirmation

    def _write(self, operation, *args, on_done=None, on_error=None, done: str = "") -> Task:
        def finished(result) -> None:
            say_in_status_bar(self, done)
            if on_done is not None:
                on_done(result)

        def failed(error: BaseException) -> None:
            if on_error is not None:
                on_error(error)
            else:
                show_failure(self, error)
            self.reload()  # the boxes as the store has them

        return (
            Task(self, operation, self._session, *args)
            .writes()
            .changes(access=True)
            .on_done(finished)
            .on_error(failed, CertdeskError)
            .start()
        )
