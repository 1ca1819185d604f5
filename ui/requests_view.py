"""The Requests page: pending certificate signing requests and what can be done with them."""

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMessageBox,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import CertdeskError
from app.services import certificate_import, signing_requests
from app.services.operations import refusal
from app.services.session import Session
from app.services.signing_requests import RequestInfo
from ui.csr_wizard import CsrWizard, save_csr
from ui.dialogs import confirm_destructive, show_failure
from ui.feedback import hint_label
from ui.icons import icon
from ui.store_events import events
from ui.tasks import Task

EMPTY_HINT = (
    "No pending requests. New Request… generates a key pair in the store and a CSR to "
    "send to your CA; CSR / Renew on a certificate does the same for a renewal."
)


class RequestsView(QWidget):
    importRequested = Signal()  # the certificates page imports (and completes requests)
    requestCreated = Signal(object)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self._session = session
        self._generation = 0  # of reload(): a slower, older read must not win
        self.wizard: CsrWizard | None = None
        self.confirmation: QMessageBox | None = None
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Alias", "Subject", "Key", "Created (UTC)", "Renews"])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 220), (2, 110), (3, 140), (4, 200)):
            self.tree.setColumnWidth(column, width)
        self.tree.itemSelectionChanged.connect(self._update_actions)

        self.new_action = self._action("new", "New Request…", self.new_request)
        self.save_action = self._action("download", "Save CSR…", self.save_selected)
        self.import_action = self._action("import", "Import Issued Certificate…", self._import)
        self.cancel_action = self._action("delete", "Cancel Request…", self.cancel_selected)
        self._request_refusal = refusal(session, signing_requests.create_request)
        self._import_refusal = refusal(session, certificate_import.import_files)

        # A tool bar folds the actions it has no room for behind a » button, so the page
        # does not force the window wider.
        bar = QToolBar(self)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setIconSize(QSize(16, 16))
        for action in (self.new_action, self.save_action, self.import_action, self.cancel_action):
            bar.addAction(action)
        self.empty = hint_label(EMPTY_HINT, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addWidget(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)
        self._update_actions()
        events.requests_changed.connect(self.reload)

    def _action(self, icon_name: str, text: str, slot) -> QAction:
        action = QAction(icon(icon_name), text, self)
        action.triggered.connect(slot)
        return action

    def reload(self) -> None:
        """Read the pending requests off the GUI thread."""
        self._generation += 1
        generation = self._generation
        (
            Task(self, signing_requests.list_requests, self._session)
            .on_done(lambda infos: self._show(infos) if generation == self._generation else None)
            .start()
        )

    def _show(self, infos: list[RequestInfo]) -> None:
        selected = self.selected()
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for info in infos:
            item = QTreeWidgetItem(
                [
                    info.alias,
                    info.subject,
                    info.key_algorithm,
                    info.created_at.strftime("%Y-%m-%d %H:%M"),
                    info.renews or "",
                ]
            )
            item.setIcon(0, icon("renew" if info.renews else "key"))
            # The whole request, CSR included: saving it needs no read on the GUI thread.
            item.setData(0, Qt.ItemDataRole.UserRole, info)
            item.setToolTip(1, info.subject)
            self.tree.addTopLevelItem(item)
            item.setSelected(selected is not None and info.id == selected.id)
        self.tree.setSortingEnabled(True)
        self.empty.setVisible(self.tree.topLevelItemCount() == 0)
        self._update_actions()

    def selected(self) -> RequestInfo | None:
        """As the last reload read it; a request cancelled or completed elsewhere since
        is refused by the service when acted on."""
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def _update_actions(self) -> None:
        chosen = bool(self.tree.selectedItems())
        for action, applicable, reason in (
            (self.new_action, True, self._request_refusal),
            (self.save_action, chosen, None),
            (self.import_action, True, self._import_refusal),
            (self.cancel_action, chosen, self._request_refusal),
        ):
            action.setEnabled(applicable and reason is None)
            action.setToolTip(reason or action.text().rstrip("…"))

    # -- actions ------------------------------------------------------------------

    def new_request(self, renews: int | None = None) -> CsrWizard | None:
        """The wizard; with `renews` (a certificate id) in renew mode."""
        try:
            self.wizard = CsrWizard(self._session, self, renews=renews)
        except CertdeskError as exc:
            show_failure(self, exc)
            return None
        self.wizard.created.connect(self.requestCreated)
        self.wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.wizard.show()
        return self.wizard

    def save_selected(self) -> Path | None:
        info = self.selected()
        return None if info is None else save_csr(self, info.alias, info.csr_pem)

    def _import(self) -> None:
        self.importRequested.emit()

    def cancel_selected(self) -> QMessageBox | None:
        """Confirm, then cancel the selected request; the box is returned (opened)."""
        info = self.selected()
        if info is None or self._request_refusal:
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
        (
            Task(self, signing_requests.cancel_request, self._session, info.id)
            .writes()
            .changes(requests=True)
            .on_error(self._failed)
            .start()
        )

    def _failed(self, error: BaseException) -> None:
        show_failure(self, error)
        self.reload()  # it may have been cancelled or completed elsewhere meanwhile
