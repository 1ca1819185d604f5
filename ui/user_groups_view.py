"""The User Groups page: the user groups with their members and the policies that name
them; below, the selected group's members. New User Group…, Edit… (name and
description), Add Members…, Remove Members… and Delete…; a policy naming a group reaches
its members, so each change of members hands keys on or takes them away (the service
does, in the same transaction)."""

from PySide6.QtWidgets import QMessageBox

from app.services import user_groups, users
from app.services.session import Session
from app.services.user_groups import UserGroupRow
from ui.detail_list import DetailList
from ui.dialogs import confirm_destructive, opened
from ui.group_dialog import GroupEditDialog, GroupPicker
from ui.icons import icon
from ui.list_page import ListPage, PageAction
from ui.rows_model import Column, RowsModel
from ui.tasks import Task, say_in_status_bar
from ui.users_view import COLUMNS as USER_COLUMNS
from ui.users_view import UsersModel
from ui.wording import plural

EMPTY_HINT = (
    "No user groups yet. A user group gathers users so that one policy can name them all: "
    "create one with New User Group…, or give a new user groups as you add them."
)
NO_GROUP_CHOSEN = "Select a user group to see its members."
MEMBERS_HEADING = "Members"

COLUMNS = (
    Column(
        "Name",
        display=lambda g: g.name,
        sort_key=lambda g: g.name.casefold(),
        decoration=lambda g: icon("users"),
    ),
    Column(
        "Members",
        display=lambda g: f"{len(g.members):,}",
        sort_key=lambda g: len(g.members),
        align_right=True,
        tooltip=lambda g: "\n".join(g.members) or None,
    ),
    Column(
        "Policies",
        display=lambda g: ", ".join(g.policies),
        sort_key=lambda g: ", ".join(g.policies).casefold(),
        decoration=lambda g: icon("policy") if g.policies else None,
        tooltip=lambda g: "\n".join(g.policies) or None,
    ),
    Column(
        "Description",
        display=lambda g: g.description,
        sort_key=lambda g: g.description.casefold(),
        tooltip=lambda g: g.description or None,
    ),
)


class UserGroupsModel(RowsModel):
    def key_of(self, row: UserGroupRow) -> str:
        return row.name

    def haystack(self, row: UserGroupRow) -> str:
        return "\n".join((row.name, row.description, *row.members, *row.policies)).casefold()


class UserGroupsView(ListPage):
    title = "User Groups"
    icon_name = "users"
    noun = ("user group", "user groups")
    empty_hint = EMPTY_HINT
    search_hint = "Filter user groups"
    reload_on = ("access_changed",)
    reads_when_shown = True  # not at the window's start: they are seldom opened
    detail_reload_on = ("access_changed",)

    def __init__(self, session: Session, parent=None):
        self.editor: GroupEditDialog | None = None
        self.picker: GroupPicker | None = None
        self.confirmation: QMessageBox | None = None
        super().__init__(session, UserGroupsModel(COLUMNS), parent)
        for column, width in ((0, 220), (1, 80), (2, 260)):
            self.table.setColumnWidth(column, width)

    def load(self, session: Session) -> list[UserGroupRow]:
        return user_groups.list_user_groups(session)

    def detail_list(self) -> DetailList:
        members = DetailList(
            self._session,
            USER_COLUMNS[:4],
            user_groups.list_members,
            lambda group: f"Members of “{group.name}”",
            lambda group: f"“{group.name}” has no members yet: Add Members… puts users in it.",
            NO_GROUP_CHOSEN,
            MEMBERS_HEADING,
            self,
            UsersModel(USER_COLUMNS[:4]),
        )
        for column, width in ((0, 160), (1, 200), (2, 160)):
            members.table.setColumnWidth(column, width)
        members.table.setToolTip("Double-click or Enter shows the user on the Users page.")
        members.opened.connect(lambda user: self.pageRequested.emit("Users", "show", user.name))
        return members

    def page_actions(self) -> tuple[PageAction, ...]:
        def no_members(group: UserGroupRow) -> str | None:
            return None if group.members else "The group has no members."

        return (
            PageAction(
                "new_action", "new", "New User Group…", self.create, user_groups.create_user_group
            ),
            PageAction(
                "edit_action",
                "rename",
                "Edit…",
                self.edit_selected,
                user_groups.edit_user_group,
                needs_selection=True,
                shortcut="F2",
                default=True,
            ),
            PageAction(
                "add_members_action",
                "group-add",
                "Add Members…",
                self.add_members,
                user_groups.change_members,
                needs_selection=True,
            ),
            PageAction(
                "remove_members_action",
                "group-remove",
                "Remove Members…",
                self.remove_members,
                user_groups.change_members,
                needs_selection=True,
                row_refusal=no_members,
            ),
            PageAction(
                "delete_action",
                "delete",
                "Delete…",
                self.delete_selected,
                user_groups.delete_user_group,
                needs_selection=True,
                shortcut="Del",
            ),
        )

    def handle(self, what: str, argument: object) -> None:
        if what == "show":
            self.select(argument)

    # -- changes ------------------------------------------------------------------

    def create(self) -> GroupEditDialog | None:
        if not self.new_action.isEnabled():
            return None

        def submit(name, description, on_done, on_error) -> None:
            self._change(
                user_groups.create_user_group,
                name,
                description,
                on_done=on_done,
                on_error=on_error,
                select=" ".join(name.split()),
            )

        return self._open_editor(
            GroupEditDialog(
                self, "New user group", "Create", submit, example="e.g. Release Engineers"
            )
        )

    def edit_selected(self) -> GroupEditDialog | None:
        group = self.selected()
        if group is None or not self.edit_action.isEnabled():
            return None

        def submit(name, description, on_done, on_error) -> None:
            self._change(
                user_groups.edit_user_group,
                group.name,
                name,
                description,
                on_done=on_done,
                on_error=on_error,
                select=" ".join(name.split()),
            )

        dialog = GroupEditDialog(
            self, "Edit user group", "Save", submit, group.name, group.description
        )
        return self._open_editor(dialog)

    def _open_editor(self, dialog: GroupEditDialog) -> GroupEditDialog:
        self.editor = opened(dialog)
        return dialog

    def add_members(self) -> GroupPicker | None:
        group = self.selected()
        if group is None or not self.add_members_action.isEnabled():
            return None
        picker = self._picker(
            f"Add members to {group.name}", "Add", f"Put in “{group.name}” the users checked below."
        )

        def show(rows) -> None:
            others = [(u.name, u.display_name) for u in rows if u.name not in group.members]
            picker.show_groups(others, f"Every user is in “{group.name}” already.")

        Task(picker, users.list_users, self._session).on_done(show).on_error(
            picker.show_failure
        ).start()
        picker.accepted.connect(
            lambda: self._members(group.name, add=picker.chosen()) if picker.chosen() else None
        )
        return picker

    def remove_members(self) -> GroupPicker | None:
        group = self.selected()
        if group is None or not self.remove_members_action.isEnabled():
            return None
        picker = self._picker(
            f"Remove members from {group.name}",
            "Remove",
            f"Take out of “{group.name}” the users checked below. The policies naming the "
            "group stop reaching them.",
        )
        picker.show_groups([(name, "") for name in group.members], "The group has no members.")
        picker.accepted.connect(
            lambda: self._members(group.name, remove=picker.chosen()) if picker.chosen() else None
        )
        return picker

    def _picker(self, title: str, ok_text: str, prompt: str) -> GroupPicker:
        picker = GroupPicker(self, title, prompt, ok_text, items=("user", "users"))
        self.picker = opened(picker)
        return picker

    def _members(self, name: str, add=(), remove=()) -> None:
        def done(counts: tuple[int, int]) -> None:
            added, removed = counts
            say_in_status_bar(self, f"User group “{name}”: {added} put in, {removed} taken out.")

        self.write(
            user_groups.change_members, name, list(add), list(remove), on_done=done, access=True
        )

    def delete_selected(self) -> QMessageBox | None:
        group = self.selected()
        if group is None or not self.delete_action.isEnabled():
            return None
        reach = (
            f"The {plural(len(group.policies), 'policy', 'policies')} naming it "
            f"({', '.join(group.policies)}) stop reaching its members, and the keys only "
            "they gave them are taken away."
            if group.policies
            else "No policy names it."
        )
        self.confirmation = confirm_destructive(
            self,
            "Delete user group",
            f"Delete the user group “{group.name}”?",
            f"Its {plural(len(group.members), 'member')} stay users. {reach}",
            "Delete User Group",
            lambda: self._change(user_groups.delete_user_group, group.name),
        )
        return self.confirmation

    def _change(self, operation, *args, on_done=None, on_error=None, select=None) -> None:
        """Who a policy reaches changes: every page showing users, groups, policies and
        what may be signed reads again."""
        self.write(operation, *args, on_done=on_done, on_error=on_error, select=select, access=True)
