"""The Signing page: the certificates the signed-in user may sign with, the policy that
allows each, what a signature with it asks for, and why it cannot sign when the
certificate itself stops it; Sign File… (Enter, a double-click) signs with the one
selected."""

from PySide6.QtCore import Qt

from app.services import certificates, signing
from app.services.operations import refusal
from app.services.session import Session
from app.services.signing import SigningChoice
from ui.icons import icon
from ui.list_page import ListPage, PageAction
from ui.rows_model import Column, RowsModel
from ui.sign_dialog import SignFileDialog, none_to_sign, open_sign_dialog

OWNER = "You own it"
READY = "Ready"


COLUMNS = (
    Column(
        "Alias",
        display=lambda r: r.alias,
        sort_key=lambda r: r.alias.casefold(),
        decoration=lambda r: icon("certificate"),
    ),
    Column(
        "Allowed by",
        display=lambda r: r.policy or OWNER,
        sort_key=lambda r: (r.policy or OWNER).casefold(),
        decoration=lambda r: icon("policy" if r.policy else "owner"),
    ),
    Column(
        "PIN",
        display=lambda r: "Asked" if r.needs_pin else "",
        sort_key=lambda r: r.needs_pin,
        decoration=lambda r: icon("pin") if r.needs_pin else None,
        tooltip=lambda r: "Each signature asks for the certificate's PIN." if r.needs_pin else None,
    ),
    Column(
        "Reason",
        display=lambda r: "Asked" if r.asks_reason else "",
        sort_key=lambda r: r.asks_reason,
        decoration=lambda r: icon("reason") if r.asks_reason else None,
        tooltip=lambda r: "Each signature asks for a reason." if r.asks_reason else None,
    ),
    Column(
        "Valid To",
        display=lambda r: f"{r.not_after:%Y-%m-%d}",
        sort_key=lambda r: r.not_after,
    ),
    Column(
        "Can sign",
        display=lambda r: r.blocked or READY,
        sort_key=lambda r: (bool(r.blocked), r.blocked.casefold(), r.alias.casefold()),
        decoration=lambda r: icon("disabled" if r.blocked else "enabled"),
        tooltip=lambda r: r.why_not or "Nothing stops a signature with it.",
    ),
)

CAN_SIGN = 5


class SigningView(ListPage):
    title = "Signing"
    icon_name = "signature"
    noun = ("certificate", "certificates")
    search_hint = "Filter certificates"
    sort = (CAN_SIGN, Qt.SortOrder.AscendingOrder)  # the ready ones first
    # A policy names certificates and certificate groups; what a certificate asks for
    # (PIN, reason), its state and its owner change with it.
    reload_on = ("certificates_changed", "groups_changed")
    reads_when_shown = True  # it decides each certificate's policies: not for every Disable

    def __init__(self, session: Session, parent=None):
        # A role that may not sign is told so where the list would be.
        self._refused = refusal(session, signing.signable_certificates)
        self.empty_hint = self._refused or none_to_sign(session)
        self.sign_dialog: SignFileDialog | None = None
        super().__init__(session, RowsModel(COLUMNS), parent)
        for column, width in ((0, 260), (1, 160), (2, 76), (3, 76), (4, 96)):
            self.table.setColumnWidth(column, width)

    def load(self, session: Session) -> list[SigningChoice]:
        return [] if self._refused else signing.signable_certificates(session)

    def counts_text(self) -> str:
        """Most listed certificates may be stopped (disabled, no key): say how many sign."""
        if not self.loaded:
            return super().counts_text()
        ready = sum(not self.model.row_at(i).blocked for i in range(self.model.rowCount()))
        return f"{super().counts_text()}, {ready:,} ready to sign"

    def page_actions(self) -> list[PageAction]:
        return [
            PageAction(
                "sign_action",
                "signature",
                "Sign File…",
                self.sign_selected,
                signing.sign_data,
                needs_selection=True,
                default=True,
            ),
            PageAction(
                "properties_action",
                "certificate",
                "Properties…",
                self.open_selected,
                certificates.get_certificate,
                needs_selection=True,
            ),
        ]

    def sign_selected(self) -> SignFileDialog | None:
        choice = self.selected()
        if choice is None:
            return None
        self.sign_dialog = open_sign_dialog(self._session, self, choice.id)
        return self.sign_dialog

    def open_selected(self) -> None:
        """The certificate's window, opened by the Certificates page (one per certificate)."""
        choice = self.selected()
        if choice is not None:
            self.pageRequested.emit("Certificates", "open", choice.id)
