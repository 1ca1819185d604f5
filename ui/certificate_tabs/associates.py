"""Associates: the groups a certificate is in, the policies naming it, and who reaches
it through them."""

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.certificates import CertificateDetail
from ui.icons import icon

LATER = "Policies get their own view in a later version."
THROUGH_POLICY = "Reaches this certificate through a policy. " + LATER


class AssociatesTab(QWidget):
    groupRequested = Signal(str)  # open the Certificate Groups view on this group

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        self.group_list = self._box(grid, 0, 0, "Certificate Groups")
        self.policy_list = self._box(grid, 0, 1, "Related Policies")
        self.user_list = self._box(grid, 1, 0, "Associated Users")
        self.user_group_list = self._box(grid, 1, 1, "Associated User Groups")
        self.group_list.itemActivated.connect(self._group_activated)

    def _box(self, grid: QGridLayout, r: int, c: int, title: str) -> QListWidget:
        box = QGroupBox(title, self)
        box.setFlat(True)
        listing = QListWidget(box)
        listing.setIconSize(QSize(16, 16))
        QVBoxLayout(box).addWidget(listing)
        grid.addWidget(box, r, c)
        return listing

    def show_detail(self, detail: CertificateDetail) -> None:
        row = detail.row
        _fill(self.group_list, row.groups, "group", "Open in Certificate Groups")
        _fill(self.policy_list, row.policies, "policy", LATER)
        _fill(self.user_list, detail.associated_users, "owner", THROUGH_POLICY)
        _fill(self.user_group_list, detail.associated_user_groups, "owner", THROUGH_POLICY)

    def _group_activated(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if name:  # not the "None" placeholder
            self.groupRequested.emit(name)


def _fill(listing: QListWidget, names, icon_name: str, tip: str) -> None:
    listing.clear()
    for name in names:
        item = QListWidgetItem(icon(icon_name), name, listing)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setToolTip(tip)
    if not names:
        item = QListWidgetItem("None", listing)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
