"""The Users page: the store's users with their role, state, user groups and the
certificates they own; below, what the selected user may sign now and which policy (or
ownership) decides it. New User…, Enable, Disable, Change Role…, Reset Password… and
Delete… are in the tool bar and on right-click, each greyed out with the reason where
the role lacks it or the row is the signed-in user's own."""

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from app.services import key_change, roles, signing, user_groups, users
from app.services.session import Session
from app.services.store_folders import close_thread_connection
from app.services.users import UserRow
from ui import tasks
from ui.detail_list import DetailList
from ui.dialogs import confirm_destructive, opened, show_message
from ui.icons import icon
from ui.list_page import ListPage, PageAction
from ui.rows_model import Column, RowsModel
from ui.signing_view import COLUMNS as SIGNING_COLUMNS
from ui.tasks import Task, say_in_status_bar
from ui.user_dialogs import FormDialog, NewUserDialog, ResetPasswordDialog, RoleDialog
from ui.wording import plural

EMPTY_HINT = "No users yet. New User… adds one, with a key slot and a password of their own."
NO_USER_CHOSEN = "Select a user to see what they may sign."
MAY_SIGN_HEADING = "What may this user sign?"
YOURSELF = "That is you: another Administrator does this for you."


def _state(row: UserRow) -> str:
    return "Enabled" if row.enabled else "Disabled"


COLUMNS = (
    Column(
        "User",
        display=lambda u: u.name,
        sort_key=lambda u: u.name.casefold(),
        decoration=lambda u: icon("user" if u.enabled else "disabled"),
    ),
    Column(
        "Display Name",
        display=lambda u: u.display_name,
        sort_key=lambda u: u.display_name.casefold(),
    ),
    Column("Role", display=lambda u: u.role, sort_key=lambda u: u.role.casefold()),
    Column(
        "Status",
        display=_state,
        sort_key=lambda u: u.enabled,
        tooltip=lambda u: None if u.enabled else "Cannot sign in, and holds no key.",
    ),
    Column(
        "User Groups",
        display=lambda u: ", ".join(u.user_groups),
        sort_key=lambda u: ", ".join(u.user_groups).casefold(),
        tooltip=lambda u: "\n".join(u.user_groups) or None,
    ),
    Column(
        "Owns",
        display=lambda u: f"{u.owned:,}" if u.owned else "",
        sort_key=lambda u: u.owned,
        align_right=True,
        tooltip=lambda u: plural(u.owned, "certificate") if u.owned else None,
    ),
    Column(
        "Added (UTC)",
        display=lambda u: f"{u.created_at:%Y-%m-%d}" if u.created_at else "",
        sort_key=lambda u: u.created_at.timestamp() if u.created_at else 0,
    ),
)


class UsersModel(RowsModel):
    def key_of(self, row: UserRow) -> str:
        return row.name


def _builtin_roles() -> list[tuple[str, str]]:
    return [(name, words) for name, (words, _permissions) in roles.BUILTIN_ROLES.items()]


class UsersView(ListPage):
    title = "Users"
    icon_name = "users"
    noun = ("user", "users")
    empty_hint = EMPTY_HINT
    search_hint = "Filter users"
    reload_on = ("access_changed", "certificates_changed")  # owners change with a certificate
    reads_when_shown = True  # not at the window's start: they are seldom opened
    # What a user may sign follows the policies, the groups and the certificates.
    detail_reload_on = ("access_changed", "certificates_changed", "groups_changed")

    def __init__(self, session: Session, parent=None):
        self.dialog: FormDialog | None = None  # the last one opened
        self.confirmation: QMessageBox | None = None
        self.roles = _builtin_roles()  # and the custom ones, once read
        super().__init__(session, UsersModel(COLUMNS), parent)
        for column, width in ((0, 120), (1, 150), (2, 130), (3, 76), (4, 170), (5, 56)):
            self.table.setColumnWidth(column, width)

    def load(self, session: Session) -> list[UserRow]:
        return users.list_users(session)

    def reload(self, *changed) -> Task:
        """The users, and the roles the dialogs offer (custom ones come and go)."""
        Task(self, roles.list_roles, self._session).on_done(self._show_roles).start()
        return super().reload(*changed)

    def _show_roles(self, rows) -> None:
        self.roles = [(r.name, r.description or _permission_words(r)) for r in rows]

    def detail_list(self) -> DetailList:
        may_sign = DetailList(
            self._session,
            SIGNING_COLUMNS,
            signing.signable_by,
            lambda user: f"What may {user.name} sign?",
            _signs_nothing,
            NO_USER_CHOSEN,
            MAY_SIGN_HEADING,
            self,
        )
        for column, width in ((0, 260), (1, 160), (2, 76), (3, 76), (4, 96)):
            may_sign.table.setColumnWidth(column, width)
        may_sign.table.setToolTip("Double-click or Enter opens the certificate.")
        may_sign.opened.connect(
            lambda choice: self.pageRequested.emit("Certificates", "open", choice.id)
        )
        return may_sign

    def page_actions(self) -> tuple[PageAction, ...]:
        me = self._session.user_name
        not_me = lambda row: YOURSELF if row.name == me else None  # noqa: E731
        return (
            PageAction("new_action", "new", "New User…", self.new_user, users.add_user),
            PageAction(
                "enable_action",
                "enabled",
                "Enable",
                lambda: self._set_enabled(True),
                users.enable_user,
                needs_selection=True,
                row_refusal=lambda row: "Enabled already." if row.enabled else None,
            ),
            PageAction(
                "disable_action",
                "disabled",
                "Disable",
                lambda: self._set_enabled(False),
                users.disable_user,
                needs_selection=True,
                row_refusal=lambda row: (
                    not_me(row) or (None if row.enabled else "Disabled already.")
                ),
            ),
            PageAction(
                "role_action",
                "role",
                "Change Role…",
                self.change_role,
                users.set_user_role,
                needs_selection=True,
                row_refusal=not_me,
                default=True,
            ),
            PageAction(
                "reset_action",
                "password",
                "Reset Password…",
                self.reset_password,
                users.reset_password,
                needs_selection=True,
                row_refusal=lambda row: (
                    "Change your own with File → Change My Password…" if row.name == me else None
                ),
            ),
            PageAction(
                "delete_action",
                "delete",
                "Delete…",
                self.delete_selected,
                users.delete_users,
                needs_selection=True,
                shortcut="Del",
                row_refusal=not_me,
            ),
        )

    def handle(self, what: str, argument: object) -> None:
        if what == "show":
            self.select(argument)

    # -- changes ------------------------------------------------------------------

    def new_user(self) -> NewUserDialog | None:
        if not self.new_action.isEnabled():
            return None

        def submit(name, display_name, role, chosen_groups, password, on_done, on_error):
            self._change(
                users.add_user,
                name,
                password,
                role,
                chosen_groups,
                display_name,
                on_done=on_done,
                on_error=on_error,
                done=f"Added the user “{' '.join(name.split())}” ({role}).",
                select=" ".join(name.split()),
            )

        dialog = NewUserDialog(self, submit, self.roles, roles.SIGNER)
        Task(dialog, user_groups.list_user_groups, self._session).on_done(
            lambda rows: dialog.show_groups([r.name for r in rows])
        ).start()
        return self._open(dialog)

    def change_role(self) -> RoleDialog | None:
        user = self.selected()
        if user is None or not self.role_action.isEnabled():
            return None

        def submit(role, on_done, on_error):
            self._change(
                users.set_user_role,
                user.name,
                role,
                on_done=on_done,
                on_error=on_error,
                done=f"“{user.name}” is now {role}, from their next sign-in.",
            )

        return self._open(RoleDialog(self, submit, user.name, self.roles, user.role))

    def reset_password(self) -> ResetPasswordDialog | None:
        user = self.selected()
        if user is None or not self.reset_action.isEnabled():
            return None

        def submit(password, on_done, on_error):
            self._change(
                users.reset_password,
                user.name,
                password,
                on_done=on_done,
                on_error=on_error,
                done=lambda waits: (
                    f"Set a new password for “{user.name}”, with new keys; "
                    + users.key_change_words("their old password", waits)
                ),
            )

        return self._open(ResetPasswordDialog(self, submit, user.name))

    def delete_selected(self) -> QMessageBox | None:
        user = self.selected()
        if user is None or not self.delete_action.isEnabled():
            return None
        owned = (
            f"They own {plural(user.owned, 'certificate')}, which will have no owner: only "
            "the policies that name them decide who signs with them. "
            if user.owned
            else ""
        )
        self.confirmation = confirm_destructive(
            self,
            "Delete user",
            f"Delete the user “{user.name}”?",
            f"{owned}Their key slot and every key wrapped to them go, they leave their user "
            "groups and policies, and the store's key changes, so that a copy of their "
            "slot opens nothing of it. Their name stays in the audit log. Renew the "
            "certificates whose keys they could sign with: they may have copied them. This "
            "cannot be undone.",
            "Delete User",
            lambda: self._change(
                users.delete_users,
                [user.name],
                done=lambda waits: (
                    f"Deleted “{user.name}”; "
                    + users.key_change_words("a copy of their key slot", waits)
                ),
            ),
        )
        return self.confirmation

    def _set_enabled(self, enabled: bool) -> None:
        user = self.selected()
        if user is None:
            return
        operation = users.enable_user if enabled else users.disable_user
        state = "Enabled" if enabled else "Disabled"
        self._change(operation, user.name, done=f"{state} the user “{user.name}”.")

    def _open(self, dialog: FormDialog) -> FormDialog:
        self.dialog = opened(dialog)
        return dialog

    def _change(self, operation, *args, on_done=None, on_error=None, done, select=None) -> Task:
        """A change of who may do what: the pages showing users, groups, policies and
        what may be signed read again. A delete or a password reset whose change of the
        store's key waited (for this window's own readers, most often) is finished once
        the readers are done; one that still waits is said in a box."""

        def finished(result) -> None:
            if callable(done) and isinstance(result, str):
                self._status("Changing the store's key…")
                self._finish_key_change(done)
            else:
                self._status(done(result) if callable(done) else done)
            if on_done is not None:
                on_done(result)

        return self.write(
            operation,
            *args,
            on_done=finished,
            on_error=on_error,
            select=select,
            access=True,
            certificates=(),
        )

    def _status(self, text: str) -> None:
        say_in_status_bar(self, text, 10_000)

    def _finish_key_change(self, done, tries: int = 25) -> None:
        """Once no read of this window holds the store open (the pages re-read what the
        change announced), this thread's connection is closed and the change finished on
        the writer, alone: as the next sign-in would, but now."""
        if tasks.reading() and tries > 0:
            # With the page as context: a page closed meanwhile is not called.
            QTimer.singleShot(200, self, lambda: self._finish_key_change(done, tries - 1))
            return
        close_thread_connection()

        def finished(waits: str | None) -> None:
            text = done(waits)
            self._status(text)
            if waits is not None:
                show_message(self, text)

        self.write(key_change.finish_waiting, on_done=finished)


def _permission_words(role) -> str:
    """A custom role without a description, said by what it may do."""
    words = [roles.PERMISSION_WORDS[p] for p in sorted(role.permissions)]
    return f"May {', '.join(words)}."


def _signs_nothing(user: UserRow) -> str:
    if not user.enabled:
        return f"{user.name} is disabled: they sign nothing."
    return (
        f"{user.name} may sign with nothing now: no policy allows them a certificate and they "
        "own none (or every policy that would is outside its hours). The Policies page "
        "gives users certificates to sign with."
    )
