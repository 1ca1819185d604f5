"""The Policies page: every policy by priority, with what it allows or denies to whom
and when; New Policy… and Edit… open the policy editor, Enable and Disable act from the
list, Delete… confirms. A change announces the certificates (their Policies column) and
who may sign, so every page showing either reads again at once."""

from PySide6.QtWidgets import QMessageBox

from app.services import policies
from app.services.policies import PolicyRow
from app.services.session import Session
from ui.dialogs import confirm_destructive, opened
from ui.icons import icon
from ui.list_page import ListPage, PageAction
from ui.policy_editor import PolicyEditor
from ui.rows_model import Column, RowsModel
from ui.store_events import ALL
from ui.tasks import say_in_status_bar

EMPTY_HINT = (
    "No policies yet. A policy lets users or user groups sign with certificates or "
    "certificate groups, at all times or on a schedule; a Deny policy stops them, even "
    "the owner. New Policy… makes one."
)


def what_text(p: PolicyRow) -> str:
    return ", ".join([*p.certificates, *(f"group {g}" for g in p.certificate_groups)])


def who_text(p: PolicyRow) -> str:
    return ", ".join([*p.users, *(f"user group {g}" for g in p.user_groups)])


def when_text(p: PolicyRow) -> str:
    parts = []
    if p.weekdays:
        parts.append(p.weekdays.replace(",", " "))
    if p.hours:
        parts.append(f"{p.hours} UTC")
    if p.date_from or p.date_until:
        start = f"{p.date_from:%Y-%m-%d}" if p.date_from else "…"
        end = f"{p.date_until:%Y-%m-%d}" if p.date_until else "…"
        parts.append(f"{start} to {end}")
    return ", ".join(parts) or "Always"


def _what_it_does(p: PolicyRow) -> str:
    if p.deny:
        return f"It stops {who_text(p)} from signing with {what_text(p)}."
    return f"It lets {who_text(p)} sign with {what_text(p)}."


COLUMNS = (
    Column(
        "Priority",
        display=lambda p: f"{p.priority:,}",
        sort_key=lambda p: (p.priority, p.effect != "deny", p.name.casefold()),
        align_right=True,
    ),
    Column(
        "Name",
        display=lambda p: p.name,
        sort_key=lambda p: p.name.casefold(),
        decoration=lambda p: icon("policy" if p.enabled else "disabled"),
        tooltip=lambda p: p.description or None,
    ),
    Column(
        "Effect",
        display=lambda p: p.effect.capitalize(),
        sort_key=lambda p: p.effect,
        decoration=lambda p: icon("expired" if p.deny else "enabled"),
    ),
    Column(
        "Status",
        display=lambda p: "Enabled" if p.enabled else "Disabled",
        sort_key=lambda p: p.enabled,
    ),
    Column(
        "What", display=what_text, sort_key=lambda p: what_text(p).casefold(), tooltip=what_text
    ),
    Column("Who", display=who_text, sort_key=lambda p: who_text(p).casefold(), tooltip=who_text),
    Column("When", display=when_text, sort_key=when_text),
    Column(
        "Description", display=lambda p: p.description, sort_key=lambda p: p.description.casefold()
    ),
)


class PoliciesModel(RowsModel):
    def key_of(self, row: PolicyRow) -> str:
        return row.name


class PoliciesView(ListPage):
    title = "Policies"
    icon_name = "policy"
    noun = ("policy", "policies")
    empty_hint = EMPTY_HINT
    search_hint = "Filter policies"
    # Names of certificates, groups and users show in the rows.
    reload_on = ("access_changed", "certificates_changed", "groups_changed")
    reads_when_shown = True  # not at the window's start: they are seldom opened

    def __init__(self, session: Session, parent=None):
        self.editor: PolicyEditor | None = None
        self.confirmation: QMessageBox | None = None
        super().__init__(session, PoliciesModel(COLUMNS), parent)
        for column, width in ((0, 64), (1, 170), (2, 70), (3, 76), (4, 200), (5, 200), (6, 150)):
            self.table.setColumnWidth(column, width)

    def load(self, session: Session) -> list[PolicyRow]:
        return policies.list_policies(session)

    def page_actions(self) -> tuple[PageAction, ...]:
        return (
            PageAction("new_action", "new", "New Policy…", self.new_policy, policies.add_policy),
            PageAction(
                "edit_action",
                "rename",
                "Edit…",
                self.edit_selected,
                policies.edit_policy,
                needs_selection=True,
                default=True,
            ),
            PageAction(
                "enable_action",
                "enabled",
                "Enable",
                lambda: self._set_enabled(True),
                policies.enable_policy,
                needs_selection=True,
                row_refusal=lambda p: "Enabled already." if p.enabled else None,
            ),
            PageAction(
                "disable_action",
                "disabled",
                "Disable",
                lambda: self._set_enabled(False),
                policies.disable_policy,
                needs_selection=True,
                row_refusal=lambda p: None if p.enabled else "Disabled already.",
            ),
            PageAction(
                "delete_action",
                "delete",
                "Delete…",
                self.delete_selected,
                policies.delete_policy,
                needs_selection=True,
                shortcut="Del",
            ),
        )

    def handle(self, what: str, argument: object) -> None:
        if what == "show":
            self.select(argument)

    def new_policy(self) -> PolicyEditor | None:
        if not self.new_action.isEnabled():
            return None

        def submit(spec, on_done, on_error) -> None:
            self._change(
                policies.add_policy, spec, on_done=on_done, on_error=on_error, select=spec.name
            )

        return self._open(PolicyEditor(self._session, self, submit))

    def edit_selected(self) -> PolicyEditor | None:
        policy = self.selected()
        if policy is None or not self.edit_action.isEnabled():
            return None

        def submit(spec, on_done, on_error) -> None:
            self._change(
                policies.edit_policy,
                policy.name,
                spec,
                on_done=on_done,
                on_error=on_error,
                select=spec.name,
            )

        return self._open(PolicyEditor(self._session, self, submit, policy))

    def _open(self, editor: PolicyEditor) -> PolicyEditor:
        self.editor = opened(editor)
        return editor

    def _set_enabled(self, enabled: bool) -> None:
        policy = self.selected()
        if policy is not None:
            operation = policies.enable_policy if enabled else policies.disable_policy
            state = "Enabled" if enabled else "Disabled"
            self._change(operation, policy.name, done=f"{state} the policy “{policy.name}”.")

    def delete_selected(self) -> QMessageBox | None:
        policy = self.selected()
        if policy is None or not self.delete_action.isEnabled():
            return None
        keys = (
            "The keys only it handed on are taken away from its users."
            if not policy.deny
            else "What it denied is then decided by the other policies and the owner rule."
        )
        self.confirmation = confirm_destructive(
            self,
            "Delete policy",
            f"Delete the policy “{policy.name}”?",
            f"{_what_it_does(policy)} {keys} This cannot be undone.",
            "Delete Policy",
            lambda: self._change(
                policies.delete_policy, policy.name, done=f"Deleted the policy “{policy.name}”."
            ),
        )
        return self.confirmation

    def _change(
        self, operation, *args, on_done=None, on_error=None, done: str = "", select=None
    ) -> None:
        """The Policies column of any certificate may change, and who may sign."""

        def finished(result) -> None:
            say_in_status_bar(self, done)
            if on_done is not None:
                on_done(result)

        self.write(
            operation,
            *args,
            on_done=finished,
            on_error=on_error,
            select=None if select is None else " ".join(select.split()),
            certificates=ALL,
            access=True,
        )
