"""The Certificate Groups page: groups with their member counts and descriptions above,
the selected group's certificates below; create, edit (name and description), delete.
A certificate in the member list opens on the Certificates page."""

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.errors import NotFoundError
from app.services import certificate_groups
from app.services.certificate_groups import GroupRow
from app.services.session import Session
from ui.certificates_model import status_text
from ui.dialogs import confirm_destructive
from ui.group_dialog import GroupEditDialog
from ui.icons import icon
from ui.list_page import ListPage, PageAction, list_table
from ui.rows_model import Column, RowsModel
from ui.store_events import ALL, events
from ui.tasks import Task
from ui.wording import ADD_TO_GROUPS, plural

EMPTY_HINT = (
    "No certificate groups yet. Groups gather certificates so that one policy can name "
    f"them all: create one with New Group…, or check certificates and use {ADD_TO_GROUPS}"
)
NO_GROUP_CHOSEN = "Select a group to see its certificates."
MEMBERS_HEADING = "Certificates"  # until a group is chosen: the table's hint says how

COLUMNS = (
    Column(
        "Name",
        display=lambda g: g.name,
        sort_key=lambda g: g.name.casefold(),
        decoration=lambda g: icon("group"),
    ),
    Column(
        "Certificates",
        display=lambda g: f"{g.members:,}",
        sort_key=lambda g: g.members,
        align_right=True,
    ),
    Column(
        "Description",
        display=lambda g: g.description,
        sort_key=lambda g: g.description.casefold(),
        tooltip=lambda g: g.description or None,
    ),
)

MEMBER_COLUMNS = (
    Column(
        "Certificate",
        display=lambda r: r.alias,
        sort_key=lambda r: r.alias.casefold(),
        decoration=lambda r: icon("key" if r.has_private_key else "certificate"),
        tooltip=lambda r: r.subject,
    ),
    Column(
        "Status",
        display=lambda r: "Enabled" if r.enabled else "Disabled",
        sort_key=lambda r: r.enabled,
        tooltip=status_text,
    ),
    Column("Owner", display=lambda r: r.owner or "—", sort_key=lambda r: r.owner or ""),
    Column(
        "Valid To",
        display=lambda r: r.valid_to.strftime("%Y-%m-%d"),
        sort_key=lambda r: r.valid_to,
    ),
    Column("Subject", display=lambda r: r.subject, sort_key=lambda r: r.subject.casefold()),
)


class GroupsModel(RowsModel):
    def key_of(self, row: GroupRow) -> str:
        return row.name

    def haystack(self, row: GroupRow) -> str:
        return f"{row.name}\n{row.description}".casefold()


class MemberList(QWidget):
    """The certificates of one group, read off the GUI thread; Enter or a double-click on
    one asks for it (`opened`)."""

    def __init__(self, session: Session, opened, parent=None):
        super().__init__(parent)
        self._session = session
        self._generation = 0
        self.group: str | None = None  # whose certificates are shown
        self._focus_first = False  # Show Certificates: the first one becomes current
        self.model = RowsModel(MEMBER_COLUMNS, self)
        self.heading = QLabel(MEMBERS_HEADING, self)
        self.table = list_table(self.model, (0, Qt.SortOrder.AscendingOrder), self)
        for column, width in ((0, 280), (1, 80), (2, 90), (3, 100)):
            self.table.setColumnWidth(column, width)
        self.table.setToolTip("Double-click or Enter opens the certificate.")
        # Enter and a double-click (where the platform activates on it) both activate.
        self.table.activated.connect(lambda index: opened(self.model.row_at(index.row()).id))
        self.table.installEventFilter(self)
        self.table.set_empty_hint(NO_GROUP_CHOSEN)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)

    def eventFilter(self, watched, event) -> bool:
        # The page's Del and F2 act on the selected group: from a certificate in this
        # list, they do nothing.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in (
            Qt.Key.Key_Delete,
            Qt.Key.Key_F2,
        ):
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def show_group(self, name: str | None) -> None:
        self.group = name
        if name is None:
            self._generation += 1  # a read under way shows nothing now
            self.model.set_rows([])
            self.heading.setText(MEMBERS_HEADING)
            self._show_hint(NO_GROUP_CHOSEN)
            return
        self.heading.setText(f"Certificates in “{name}”")
        self.model.set_rows([])  # not the last group's under this one's name
        self.table.set_empty_hint(f"Reading the certificates of “{name}”…")
        self.refresh()

    def refresh(self, *_changed) -> Task | None:
        """Read the shown group's certificates again (the rows stay until they come)."""
        if self.group is None:
            return None
        self._generation += 1
        generation, name = self._generation, self.group
        return (
            Task(self, certificate_groups.list_members, self._session, name)
            .on_done(lambda rows: self._show(rows) if generation == self._generation else None)
            .on_error(lambda _error: None, NotFoundError)  # deleted: the page reloads
            .start()
        )

    def take_focus(self) -> None:
        """The first certificate becomes current, now or once the rows are read."""
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        self._focus_first = True
        self._make_current()

    def _make_current(self) -> None:
        if self._focus_first and self.model.rowCount():
            self._focus_first = False
            if not self.table.currentIndex().isValid():
                self.table.setCurrentIndex(self.model.index(0, 0))

    def _show(self, rows) -> None:
        self.model.set_rows(rows)
        self._make_current()
        if not rows:
            self._show_hint(
                f"“{self.group}” holds no certificates yet. Check certificates on the "
                f"Certificates page and use {ADD_TO_GROUPS} to put them in it."
            )

    def _show_hint(self, text: str) -> None:
        self.table.set_empty_hint(text)


class GroupsView(ListPage):
    title = "Certificate Groups"
    icon_name = "group"
    noun = ("certificate group", "certificate groups")
    empty_hint = EMPTY_HINT
    search_hint = "Filter groups"
    reload_on = ("groups_changed",)

    def __init__(self, session: Session, parent=None):
        self.confirmation: QMessageBox | None = None
        self.editor: GroupEditDialog | None = None  # the last one opened
        super().__init__(session, GroupsModel(COLUMNS), parent)
        for column, width in ((0, 280), (1, 110)):
            self.table.setColumnWidth(column, width)
        self.members = MemberList(
            session, lambda cid: self.pageRequested.emit("Certificates", "open", cid), self
        )
        # The group list above, its selected group's certificates below: the splitter
        # takes the table's place in the template's layout.
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.table), self.splitter, 1)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.members)
        self.splitter.setSizes([1, 1])  # halves, whatever the page's height
        # A reload resets the list and selects the same group again at once: the member
        # list follows the selection once it has settled, so it is not read twice.
        self._follow = QTimer(self, singleShot=True, interval=0)
        self._follow.timeout.connect(self._follow_selection)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._follow.start())
        self.table.activated.connect(lambda _index: self._run_default())  # Enter
        self.countsChanged.connect(self._place_members)
        # Members join and leave, and change their alias or status.
        events.groups_changed.connect(self._members_changed)
        events.certificates_changed.connect(self._members_changed)
        self._place_members()

    def load(self, session: Session) -> list[GroupRow]:
        return certificate_groups.list_groups(session)

    def page_actions(self) -> tuple[PageAction, ...]:
        return (
            PageAction(
                "new_action", "new", "New Group…", self.create, certificate_groups.create_group
            ),
            PageAction(
                "show_action",
                "certificate",
                "Show Certificates",
                self.show_members,
                certificate_groups.list_members,
                needs_selection=True,
                default=True,
            ),
            PageAction(
                "edit_action",
                "rename",
                "Edit…",
                self.edit_selected,
                certificate_groups.edit_group,
                needs_selection=True,
                shortcut="F2",
            ),
            PageAction(
                "delete_action",
                "delete",
                "Delete…",
                self.delete_selected,
                certificate_groups.delete_group,
                needs_selection=True,
                shortcut="Del",
            ),
        )

    def handle(self, what: str, argument: object) -> None:
        if what == "show":
            self.select(argument)

    def selected_name(self) -> str | None:
        group = self.selected()
        return None if group is None else group.name

    # -- the member list --------------------------------------------------------------

    def _follow_selection(self) -> None:
        name = self.selected_name()
        if name != self.members.group:
            self.members.show_group(name)

    def _members_changed(self, *_changed) -> None:
        self.members.refresh()

    def _place_members(self, *_counts) -> None:
        """With no group in the store there are no members to list: the group list's
        hint ("No certificate groups yet") has the page to itself."""
        self.members.setVisible(self.model.total_count() > 0)

    def show_members(self) -> None:
        """Show Certificates (a double-click, Enter): the member list takes the focus."""
        name = self.selected_name()
        if name is None:
            return
        self._follow.stop()
        if name != self.members.group:
            self.members.show_group(name)
        self.members.take_focus()

    # -- changes ----------------------------------------------------------------------

    def create(self) -> GroupEditDialog | None:
        if not self.new_action.isEnabled():
            return None

        def submit(name, description, on_done, on_error) -> None:
            self._change(
                certificate_groups.create_group,
                name,
                description,
                on_done=on_done,
                on_error=on_error,
                certificates=(),
            )

        return self._open_editor(GroupEditDialog(self, "New certificate group", "Create", submit))

    def edit_selected(self) -> GroupEditDialog | None:
        group = self.selected()
        if group is None or not self.edit_action.isEnabled():
            return None

        def submit(name, description, on_done, on_error) -> None:
            # A rename changes the groups column of its members, whose ids the service
            # does not return: the certificates are all re-read.
            self._change(
                certificate_groups.edit_group,
                group.name,
                name,
                description,
                on_done=on_done,
                on_error=on_error,
                certificates=ALL if " ".join(name.split()) != group.name else (),
            )

        dialog = GroupEditDialog(
            self, "Edit certificate group", "Save", submit, group.name, group.description
        )
        return self._open_editor(dialog)

    def _open_editor(self, dialog: GroupEditDialog) -> GroupEditDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.editor = dialog
        return dialog

    def delete_selected(self) -> QMessageBox | None:
        """Delete the selected group; one with members is confirmed first (the box is
        returned, opened, not run)."""
        group = self.selected()
        if group is None or not self.delete_action.isEnabled():
            return None
        if not group.members:  # nothing to confirm
            self._change(certificate_groups.delete_group, group.name, certificates=())
            return None
        self.confirmation = confirm_destructive(
            self,
            "Delete group",
            f"Delete the group “{group.name}”? It holds {plural(group.members, 'certificate')}.",
            "The certificates stay in the store; policies naming this group stop reaching them.",
            "Delete Group",
            lambda: self._change(certificate_groups.delete_group, group.name),
        )
        return self.confirmation

    def _change(self, operation, *args, on_done=None, on_error=None, certificates=ALL) -> None:
        """A delete changes the groups column of its members, whose ids the service does
        not return: the certificates are all re-read. A group created or edited is
        selected once the list is read again."""

        def done(result) -> None:
            if isinstance(result, GroupRow):
                self.select_after_reload(result.name)
            if on_done is not None:
                on_done(result)

        self.write(
            operation,
            *args,
            on_done=done,
            on_error=on_error,
            groups=True,
            certificates=certificates,
        )
