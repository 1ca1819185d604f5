"""The Certificate Groups page: groups with their member counts and descriptions above,
the selected group's certificates below; create, edit (name and description), delete.
A certificate in the member list opens on the Certificates page."""

from PySide6.QtWidgets import QMessageBox

from app.services import certificate_groups
from app.services.certificate_groups import GroupRow
from app.services.session import Session
from ui.certificates_model import status_text
from ui.detail_list import DetailList
from ui.dialogs import confirm_destructive, opened
from ui.group_dialog import GroupEditDialog
from ui.icons import icon
from ui.list_page import ListPage, PageAction
from ui.rows_model import Column, RowsModel
from ui.store_events import ALL
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


def _members_empty(group: GroupRow) -> str:
    return (
        f"“{group.name}” holds no certificates yet. Check certificates on the Certificates "
        f"page and use {ADD_TO_GROUPS} to put them in it."
    )


class GroupsView(ListPage):
    title = "Certificate Groups"
    icon_name = "group"
    noun = ("certificate group", "certificate groups")
    empty_hint = EMPTY_HINT
    search_hint = "Filter groups"
    reload_on = ("groups_changed",)

    # Members join and leave, and change their alias or status.
    detail_reload_on = ("groups_changed", "certificates_changed")

    def __init__(self, session: Session, parent=None):
        self.confirmation: QMessageBox | None = None
        self.editor: GroupEditDialog | None = None  # the last one opened
        super().__init__(session, GroupsModel(COLUMNS), parent)
        for column, width in ((0, 280), (1, 110)):
            self.table.setColumnWidth(column, width)
        self.table.activated.connect(lambda _index: self._run_default())  # Enter

    def detail_list(self) -> DetailList:
        members = DetailList(
            self._session,
            MEMBER_COLUMNS,
            certificate_groups.list_members,
            lambda group: f"Certificates in “{group.name}”",
            _members_empty,
            NO_GROUP_CHOSEN,
            MEMBERS_HEADING,
            self,
        )
        for column, width in ((0, 280), (1, 80), (2, 90), (3, 100)):
            members.table.setColumnWidth(column, width)
        members.table.setToolTip("Double-click or Enter opens the certificate.")
        members.opened.connect(lambda row: self.pageRequested.emit("Certificates", "open", row.id))
        return members

    @property
    def members(self) -> DetailList:
        return self.detail

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

    def show_members(self) -> None:
        """Show Certificates (a double-click, Enter): the member list takes the focus."""
        self.focus_detail()

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
        self.editor = opened(dialog)
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
