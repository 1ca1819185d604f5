"""The Certificate Groups page: groups with their member counts; create, rename, delete."""

from PySide6.QtWidgets import QInputDialog, QMessageBox

from app.services import certificate_groups
from app.services.certificate_groups import GroupRow
from app.services.session import Session
from ui.dialogs import confirm_destructive
from ui.icons import icon
from ui.list_page import ListPage, PageAction
from ui.rows_model import Column, RowsModel
from ui.store_events import ALL

EMPTY_HINT = (
    "No certificate groups yet. Groups gather certificates so that one policy can name "
    "them all: create one with New Group…, or check certificates and use Add Groups."
)

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


class GroupsModel(RowsModel):
    def key_of(self, row: GroupRow) -> str:
        return row.name

    def haystack(self, row: GroupRow) -> str:
        return f"{row.name}\n{row.description}".casefold()


class GroupsView(ListPage):
    title = "Certificate Groups"
    icon_name = "group"
    noun = ("certificate group", "certificate groups")
    empty_hint = EMPTY_HINT
    search_hint = "Filter groups"
    reload_on = ("groups_changed",)

    def __init__(self, session: Session, parent=None):
        self.confirmation: QMessageBox | None = None
        super().__init__(session, GroupsModel(COLUMNS), parent)
        for column, width in ((0, 280), (1, 110)):
            self.table.setColumnWidth(column, width)

    def load(self, session: Session) -> list[GroupRow]:
        return certificate_groups.list_groups(session)

    def page_actions(self) -> tuple[PageAction, ...]:
        create = certificate_groups.create_group
        return (
            PageAction("new_action", "new", "New Group…", self.create, create),
            PageAction(
                "rename_action",
                "rename",
                "Rename…",
                self.rename_selected,
                certificate_groups.rename_group,
                needs_selection=True,
                shortcut="F2",
                default=True,
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

    def create(self) -> None:
        name, ok = QInputDialog.getText(self, "New certificate group", "Group name:")
        if ok:
            self._change(certificate_groups.create_group, name, select=name, certificates=())

    def rename_selected(self) -> None:
        old = self.selected_name()
        if old is None or not self.rename_action.isEnabled():
            return
        new, ok = QInputDialog.getText(
            self, "Rename certificate group", f"New name for “{old}”:", text=old
        )
        if ok:
            self._change(certificate_groups.rename_group, old, new, select=new)

    def delete_selected(self) -> QMessageBox | None:
        """Delete the selected group; one with members is confirmed first (the box is
        returned, opened, not run)."""
        group = self.selected()
        if group is None or not self.delete_action.isEnabled():
            return None
        if not group.members:  # nothing to confirm
            self._change(certificate_groups.delete_group, group.name, certificates=())
            return None
        noun = "certificate" if group.members == 1 else "certificates"
        self.confirmation = confirm_destructive(
            self,
            "Delete group",
            f"Delete the group “{group.name}”? It holds {group.members:,} {noun}.",
            "The certificates stay in the store; policies naming this group stop reaching them.",
            "Delete Group",
            lambda: self._change(certificate_groups.delete_group, group.name),
        )
        return self.confirmation

    def _change(self, operation, *args, select: str | None = None, certificates=ALL) -> None:
        """A rename or delete changes the groups column of its members, whose ids the
        service does not return: the certificates are all re-read."""

        def done(_result) -> None:
            if select is not None:
                self.select_after_reload(" ".join(select.split()))  # as the service stores it

        self.write(operation, *args, on_done=done, groups=True, certificates=certificates)
