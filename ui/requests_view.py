"""The Requests page: pending certificate signing requests and what can be done with them."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.services import certificate_import, signing_requests
from app.services.session import Session
from app.services.signing_requests import RequestInfo
from ui.csr_wizard import CsrWizard, save_csr
from ui.dialogs import confirm_destructive, show_failure
from ui.file_dialogs import IMPORT_ISSUED, open_file_names
from ui.icons import icon
from ui.import_flow import ISSUED_FILTER, ImportFlow
from ui.list_page import ListPage, PageAction
from ui.rows_model import Column, RowsModel

EMPTY_HINT = (
    "No pending requests. New Request… generates a key pair in the store and a CSR to "
    "send to your CA; CSR / Renew on a certificate does the same for a renewal."
)

COLUMNS = (
    Column(
        "Alias",
        display=lambda r: r.alias,
        sort_key=lambda r: r.alias.casefold(),
        decoration=lambda r: icon("renew" if r.renews else "key"),
    ),
    Column(
        "Subject",
        display=lambda r: r.subject,
        sort_key=lambda r: r.subject.casefold(),
        tooltip=lambda r: r.subject,
    ),
    Column("Key", display=lambda r: r.key_algorithm, sort_key=lambda r: r.key_algorithm),
    Column(
        "Created (UTC)",
        display=lambda r: r.created_at.strftime("%Y-%m-%d %H:%M"),
        sort_key=lambda r: r.created_at,
    ),
    Column(
        "Renews", display=lambda r: r.renews or "", sort_key=lambda r: (r.renews or "").casefold()
    ),
)
CREATED = 3


class RequestsView(ListPage):
    title = "Requests"
    icon_name = "key"
    noun = ("pending request", "pending requests")
    empty_hint = EMPTY_HINT
    search_hint = "Filter requests"
    reload_on = ("requests_changed",)
    sort = (CREATED, Qt.SortOrder.DescendingOrder)

    def __init__(self, session: Session, parent=None):
        self.wizard: CsrWizard | None = None
        self.confirmation: QMessageBox | None = None
        self.import_flow: ImportFlow | None = None
        super().__init__(session, RowsModel(COLUMNS), parent)
        for column, width in ((0, 220), (1, 260), (2, 110), (3, 140)):
            self.table.setColumnWidth(column, width)

    def load(self, session: Session) -> list[RequestInfo]:
        # Whole requests, CSR included: saving one needs no read on the GUI thread.
        return signing_requests.list_requests(session)

    def page_actions(self) -> tuple[PageAction, ...]:
        return (
            PageAction(
                "new_action",
                "new",
                "New Request…",
                self.new_request,
                signing_requests.create_request,
            ),
            PageAction(
                "save_action",
                "download",
                "Save CSR…",
                self.save_selected,
                needs_selection=True,
                default=True,
            ),
            PageAction(
                "import_action",
                "import",
                "Import Issued Certificate…",
                self.import_issued,
                certificate_import.import_files,
            ),
            PageAction(
                "cancel_action",
                "delete",
                "Cancel Request…",
                self.cancel_selected,
                signing_requests.cancel_request,
                needs_selection=True,
            ),
        )

    def handle(self, what: str, argument: object) -> None:
        if what == "renew":
            self.new_request(renews=argument)

    # -- actions ------------------------------------------------------------------

    def new_request(self, renews: int | None = None) -> CsrWizard:
        """The wizard; with `renews` (a certificate id) in renew mode. It reads what it
        starts from off the GUI thread, and says so here if the certificate is gone."""
        self.wizard = CsrWizard(self._session, self, renews=renews)
        self.wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.wizard.show()
        return self.wizard

    def save_selected(self) -> Path | None:
        """The request as the last reload read it; one cancelled or completed elsewhere
        since is refused by the service when acted on."""
        info = self.selected()
        return None if info is None else save_csr(self, info.alias, info.csr_pem)

    def import_issued(self) -> ImportFlow | None:
        """Choose the certificates the CA issued and import them; the summary says which
        request each completed, or that it matched none."""
        paths = open_file_names(self, IMPORT_ISSUED, "Import Issued Certificate", ISSUED_FILTER)
        return self.import_paths(paths) if paths else None

    def import_paths(self, paths: list[str]) -> ImportFlow | None:
        if not self.import_action.isEnabled():
            return None
        self.import_flow = ImportFlow(self, self._session, issued=True)
        self.import_flow.start(list(paths))
        return self.import_flow

    def shutdown(self) -> None:
        if self.import_flow is not None:
            self.import_flow.cancel()

    def cancel_selected(self) -> QMessageBox | None:
        """Confirm, then cancel the selected request; the box is returned (opened)."""
        info = self.selected()
        if info is None or not self.cancel_action.isEnabled():
            return None
        self.confirmation = confirm_destructive(
            self,
            "Cancel request",
            f"Cancel the request “{info.alias}”?",
            "Its private key, generated for this request and never used, is destroyed. A "
            "certificate the CA issues for it later cannot be used. This cannot be undone.",
            "Cancel Request",
            lambda: self._cancel(info),
            keep="Keep",
        )
        return self.confirmation

    def _cancel(self, info: RequestInfo) -> None:
        # Off the GUI thread: destroying the key ends with a checkpoint that may wait
        # for a reader.
        self.write(signing_requests.cancel_request, info.id, on_error=self._failed, requests=True)

    def _failed(self, error: BaseException) -> None:
        show_failure(self, error)
        self.reload()  # it may have been cancelled or completed elsewhere meanwhile
