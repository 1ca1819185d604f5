"""Who Can Sign: each user the owner rule or a policy decides for on this certificate
now, whether they may sign with it, and the policy (or ownership) that decides."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.services.policies import Signer
from ui.icons import icon
from ui.list_page import list_table
from ui.rows_model import Column, RowsModel

OWNER = "Owner"
NOBODY = (
    "Nobody may sign with this certificate now: it has no owner and no enabled policy "
    "names a user for it at this time. The Policies page gives users certificates to sign "
    "with."
)

COLUMNS = (
    Column(
        "User",
        display=lambda s: s.user,
        sort_key=lambda s: s.user.casefold(),
        decoration=lambda s: icon("user"),
    ),
    Column("Display Name", display=lambda s: s.display_name, sort_key=lambda s: s.display_name),
    Column(
        "May Sign",
        display=lambda s: "Yes" if s.allowed else "No",
        sort_key=lambda s: not s.allowed,
        decoration=lambda s: icon("enabled" if s.allowed else "expired"),
    ),
    Column(
        "Decided By",
        display=lambda s: s.policy or OWNER,
        sort_key=lambda s: (s.policy or OWNER).casefold(),
        decoration=lambda s: icon("policy" if s.policy else "owner"),
        tooltip=lambda s: s.why[:1].upper() + s.why[1:] + ".",
    ),
)


class SignersModel(RowsModel):
    def key_of(self, row: Signer) -> str:
        return row.user


class SignersTab(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        note = QLabel(
            "Who may sign with this certificate now, and what decides it. A Deny policy "
            "stops even the owner; the policies' hours are in UTC.",
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        self.model = SignersModel(COLUMNS)
        self.table = list_table(self.model, (2, Qt.SortOrder.AscendingOrder), self)
        for column, width in ((0, 150), (1, 170), (2, 90)):
            self.table.setColumnWidth(column, width)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)

    def show_signers(self, signers: list[Signer]) -> None:
        self.model.set_rows(signers)
        self.table.set_empty_hint(NOBODY)
