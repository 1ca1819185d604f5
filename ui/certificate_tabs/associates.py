"""Associates: the groups a certificate is in (which it can join and leave here), the
policies naming it, and who reaches it through them."""

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services import certificate_groups
from app.services.certificates import CertificateDetail
from app.services.operations import refusal
from app.services.session import Session
from app.services.targets import BulkResult
from ui.dialogs import show_message
from ui.group_dialog import GroupPicker, groups_to_add
from ui.icons import icon
from ui.tasks import Task
from ui.wording import ADD_TO_GROUPS, failures_text

OPEN_POLICY = "Open in Policies"
THROUGH_POLICY = (
    "Reaches this certificate through a policy: the Who Can Sign tab says whether it may sign now."
)
CHOOSE_GROUP = "Select the group to take this certificate out of."


class AssociatesTab(QWidget):
    groupRequested = Signal(str)  # open the Certificate Groups view on this group
    policyRequested = Signal(str)  # open the Policies page on this policy

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._detail: CertificateDetail | None = None
        self._writing = False
        self.picker: GroupPicker | None = None  # the last one opened
        grid = QGridLayout(self)
        self.group_list, groups_box = self._box(grid, 0, 0, "Certificate Groups")
        self.policy_list, _ = self._box(grid, 0, 1, "Related Policies")
        self.user_list, _ = self._box(grid, 1, 0, "Associated Users")
        self.user_group_list, _ = self._box(grid, 1, 1, "Associated User Groups")
        self.group_list.itemActivated.connect(self._group_activated)
        self.policy_list.itemActivated.connect(self._policy_activated)
        self.group_list.currentItemChanged.connect(self._update_buttons)

        self.add_button = QPushButton(icon("group-add"), ADD_TO_GROUPS, self)
        self.add_button.clicked.connect(self.add_to_groups)
        self.remove_button = QPushButton(icon("group-remove"), "Remove from Group", self)
        self.remove_button.clicked.connect(self.remove_from_group)
        self._add_refusal = refusal(session, certificate_groups.add_to_groups)
        self._remove_refusal = refusal(session, certificate_groups.remove_from_groups)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        groups_box.layout().addLayout(buttons)
        self._update_buttons()

    def _box(self, grid: QGridLayout, r: int, c: int, title: str) -> tuple[QListWidget, QGroupBox]:
        box = QGroupBox(title, self)
        box.setFlat(True)
        listing = QListWidget(box)
        listing.setIconSize(QSize(16, 16))
        QVBoxLayout(box).addWidget(listing)
        grid.addWidget(box, r, c)
        return listing, box

    def show_detail(self, detail: CertificateDetail) -> None:
        self._detail = detail
        row = detail.row
        _fill(self.group_list, row.groups, "group", "Open in Certificate Groups")
        _fill(self.policy_list, row.policies, "policy", OPEN_POLICY)
        for i in range(self.policy_list.count()):
            item = self.policy_list.item(i)
            name = item.data(Qt.ItemDataRole.UserRole)
            if name:  # each says whether it allows or denies, and whether it decides now
                deny = name in detail.denying_policies
                disabled = name in detail.disabled_policies
                state = " (disabled)" if disabled else ""
                item.setText(f"{name} — {'Deny' if deny else 'Allow'}{state}")
                item.setIcon(icon("disabled" if disabled else "expired" if deny else "enabled"))
        _fill(self.user_list, detail.associated_users, "owner", THROUGH_POLICY)
        _fill(self.user_group_list, detail.associated_user_groups, "owner", THROUGH_POLICY)
        self._update_buttons()

    def _policy_activated(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if name:
            self.policyRequested.emit(name)

    def _group_activated(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if name:  # not the "None" placeholder
            self.groupRequested.emit(name)

    # -- joining and leaving groups ---------------------------------------------------

    def selected_group(self) -> str | None:
        item = self.group_list.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _update_buttons(self, *_args) -> None:
        ready = self._detail is not None and not self._writing
        _offer(self.add_button, self._add_refusal, ready, "Put this certificate in groups")
        chosen = self.selected_group() is not None
        _offer(
            self.remove_button,
            self._remove_refusal,
            ready and chosen,
            "Take this certificate out of the selected group" if chosen else CHOOSE_GROUP,
        )

    def add_to_groups(self) -> GroupPicker | None:
        """The group picker, opened (not run) and returned; OK adds to the groups."""
        if not self.add_button.isEnabled():
            return None
        alias = self._detail.row.alias
        dialog = groups_to_add(self, self._session, f"Put “{alias}” in the groups checked below.")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: (
                self._write(certificate_groups.add_to_groups, dialog.chosen())
                if dialog.chosen()
                else None
            )
        )
        dialog.open()
        self.picker = dialog
        return dialog

    def remove_from_group(self) -> Task | None:
        name = self.selected_group()
        if name is None or not self.remove_button.isEnabled():
            return None
        return self._write(certificate_groups.remove_from_groups, [name])

    def _write(self, operation, group_names: list[str]) -> Task:
        """The window reads the certificate again when the store events name it."""
        self._writing = True
        self._update_buttons()
        return (
            Task(self, operation, self._session, [self._detail.row.id], group_names)
            .writes()
            .changes(certificates=lambda result: result.changed_ids, groups=True)
            .busy(self, "Changing the groups…")
            .on_done(self._written)
            .always(self._write_ended)
            .start()
        )

    def _written(self, result: BulkResult) -> None:
        if result.failures:  # e.g. its last group, which only an Administrator removes
            show_message(self, failures_text(result))

    def _write_ended(self) -> None:
        self._writing = False
        self._update_buttons()


def _offer(button: QPushButton, refused: str | None, ready: bool, tip: str) -> None:
    button.setEnabled(refused is None and ready)
    button.setToolTip(refused or tip)


def _fill(listing: QListWidget, names, icon_name: str, tip: str) -> None:
    listing.clear()
    for name in names:
        item = QListWidgetItem(icon(icon_name), name, listing)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setToolTip(tip)
    if not names:
        item = QListWidgetItem("None", listing)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
