"""The main window: a sidebar beside the pages, a status bar with the store and the user."""

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app import __version__
from app.services.session import Session
from ui.certificates_view import CertificatesView
from ui.groups_view import GroupsView
from ui.icons import icon
from ui.requests_view import RequestsView
from ui.store_events import events


class MainWindow(QMainWindow):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Certdesk")
        self.setWindowIcon(icon("app"))
        self.certificates = CertificatesView(session, self)
        self.groups = GroupsView(session, self)
        self.requests = RequestsView(session, self)

        self.sidebar = QListWidget(self)
        self.sidebar.setIconSize(QSize(16, 16))
        self.sidebar.setFixedWidth(170)
        self.pages = QStackedWidget(self)
        self._add_page("Certificates", "certificate", self.certificates)
        self._add_page("Certificate Groups", "group", self.groups)
        self._add_page("Requests", "key", self.requests)
        self.sidebar.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sidebar.setCurrentRow(0)

        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self.count_label = QLabel(self)
        self.count_label.setMinimumWidth(self.count_label.fontMetrics().horizontalAdvance("0" * 28))
        store_label = QLabel(f"Store: {session.folder}", self)
        store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        user_label = QLabel(f"Signed in as {session.user_name} ({session.role})", self)
        self.statusBar().addWidget(store_label, 1)
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(user_label)
        self.certificates.countsChanged.connect(self._show_counts)
        self.certificates.imported.connect(self._show_import_result)
        self.certificates.actions.message.connect(self._show_message)
        # Each page re-reads what a write changed on its own (ui.store_events).
        self.certificates.groupRequested.connect(self.show_group)
        self.certificates.renewRequested.connect(self.renew)
        self.requests.importRequested.connect(self.certificates.choose_files)

        self.resize(1280, 760)
        self._restore_state()
        self.certificates.reload()
        self.groups.reload()
        self.requests.reload()

    def _add_page(self, title: str, icon_name: str, page: QWidget) -> None:
        QListWidgetItem(icon(icon_name), title, self.sidebar)
        self.pages.addWidget(page)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.certificates.import_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.certificates.find_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Certdesk", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> QMessageBox:
        """Opened, not exec()'d (QMessageBox.about would run its own event loop)."""
        box = QMessageBox(self)
        box.setWindowTitle("About Certdesk")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setText(
            f"Certdesk {__version__}\n\nSigning certificates and their private keys in an "
            "encrypted store on this workstation.\n\nNothing recovers a lost password: keep "
            "backups of the store folder."
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _show_counts(self, shown: int, total: int) -> None:
        noun = "certificate" if total == 1 else "certificates"
        text = f"{total:,} {noun}" if shown == total else f"{shown:,} of {total:,} {noun} shown"
        self.count_label.setText(text)

    def renew(self, certificate_id: int) -> None:
        """CSR / Renew: the wizard in renew mode; the Requests page shows the result."""
        self.requests.new_request(renews=certificate_id)

    def show_group(self, name: str) -> None:
        self.sidebar.setCurrentRow(self.pages.indexOf(self.groups))
        self.groups.select(name)
        self.raise_()
        self.activateWindow()

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _show_import_result(self, report) -> None:
        self.statusBar().showMessage(
            f"Imported {report.imported} certificate(s); {report.duplicates} already present; "
            f"{len(report.failed)} file(s) failed.",
            8000,
        )

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.certificates.restore_state(settings)

    def closeEvent(self, event) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        self.certificates.save_state(settings)
        for page in (self.certificates, self.groups, self.requests):
            events.forget(page)
        self.certificates.shutdown()
        self.session.close()
        super().closeEvent(event)
