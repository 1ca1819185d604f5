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
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from app import __version__
from app.services import logins, signing
from app.services.operations import refusal
from app.services.session import Session
from ui import import_flow
from ui.audit_view import AuditView
from ui.certificates_view import CertificatesView
from ui.dialogs import fit_to_screen
from ui.groups_view import GroupsView
from ui.icons import icon
from ui.policies_view import PoliciesView
from ui.requests_view import RequestsView
from ui.roles_view import RolesView
from ui.sign_dialog import SignFileDialog, open_sign_dialog
from ui.signing_view import SigningView
from ui.store_events import events
from ui.store_watch import StoreWatch
from ui.tasks import Task, wait_for_tasks
from ui.user_dialogs import ChangePasswordDialog
from ui.user_groups_view import UserGroupsView
from ui.users_view import UsersView

# The pages, in the sidebar's order; each declares its title and icon.
PAGES = (
    CertificatesView,
    GroupsView,
    RequestsView,
    SigningView,
    UsersView,
    UserGroupsView,
    RolesView,
    PoliciesView,
    AuditView,
)


class MainWindow(QMainWindow):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.sign_dialog: SignFileDialog | None = None
        self.setWindowTitle("Certdesk")
        self.setWindowIcon(icon("app"))
        self.sidebar = QListWidget(self)
        self.sidebar.setIconSize(QSize(16, 16))
        self.pages = QStackedWidget(self)
        self.page_by_title = {}
        for page_class in PAGES:
            self._add_page(page_class(session, self))
        self.certificates = self.page_by_title[CertificatesView.title]
        self.groups = self.page_by_title[GroupsView.title]
        self.requests = self.page_by_title[RequestsView.title]
        self.sidebar.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.pages.currentChanged.connect(lambda _index: self._show_counts())
        self.sidebar.setCurrentRow(0)
        self._fit_sidebar()

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
        store_label.setToolTip(str(session.folder))
        # A long folder name is cut at the window's edge; it never widens the window.
        store_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        user_label = QLabel(f"Signed in as {session.user_name} ({session.role})", self)
        self.statusBar().addWidget(store_label, 1)
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(user_label)
        # Each page re-reads what a write changed on its own (ui.store_events), and asks
        # for another page through the window (pageRequested), never wired to it.
        self.certificates.imported.connect(self._show_import_result)
        self.certificates.actions.message.connect(self._show_message)

        self.resize(1280, 760)
        self._fitted = False
        self._restore_state()
        self.store_watch = StoreWatch(session, self)  # what others change; before the reads
        for page in self.page_by_title.values():
            page.reload_when_shown()

    def _fit_sidebar(self) -> None:
        """As wide as its longest title, so that the pages keep the rest."""
        sidebar = self.sidebar
        titles = (sidebar.item(i).text() for i in range(sidebar.count()))
        text = max(sidebar.fontMetrics().horizontalAdvance(t) for t in titles)
        sidebar.setFixedWidth(text + sidebar.iconSize().width() + 2 * sidebar.frameWidth() + 24)

    def _add_page(self, page: QWidget) -> None:
        QListWidgetItem(icon(page.icon_name), page.title, self.sidebar)
        self.pages.addWidget(page)
        self.page_by_title[page.title] = page
        page.countsChanged.connect(lambda *_counts: self._show_counts())
        page.pageRequested.connect(self.open_page)

    def open_page(self, title: str, what: str = "", argument: object = None) -> QWidget:
        """Show the page `title` and hand it the request (`what`, `argument`)."""
        page = self.page_by_title[title]
        self.sidebar.setCurrentRow(self.pages.indexOf(page))
        if what:
            page.handle(what, argument)
        self.raise_()
        self.activateWindow()
        return page

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.certificates.import_action)
        self.sign_action = QAction(icon("signature"), "&Sign File…", self)
        self.sign_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.sign_action.triggered.connect(self.sign_file)
        why_not = refusal(self.session, signing.sign_data)
        self.sign_action.setEnabled(why_not is None)
        self.sign_action.setToolTip(why_not or "Sign a file with a certificate you may use")
        file_menu.addAction(self.sign_action)
        file_menu.addSeparator()
        password = QAction(icon("password"), "Change My &Password…", self)
        password.triggered.connect(self.change_password)
        file_menu.addAction(password)
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

    def sign_file(self) -> SignFileDialog | None:
        if not self.sign_action.isEnabled():
            return None
        self.sign_dialog = open_sign_dialog(self.session, self)
        return self.sign_dialog

    def change_password(self) -> ChangePasswordDialog:
        def submit(current, new, on_done, on_error) -> None:
            (
                Task(self, logins.change_password, self.session, current, new)
                .writes()
                .busy(self, "Changing your password…")
                .on_done(on_done)
                .on_error(on_error)
                .start()
            )

        dialog = ChangePasswordDialog(self, submit, self.session.user_name)
        dialog.accepted.connect(
            lambda: self._show_message(f"Changed the password of {self.session.user_name}.")
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.password_dialog = dialog
        return dialog

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

    def _show_counts(self) -> None:
        """The counts of the page shown, in its own words."""
        page = self.pages.currentWidget()
        self.count_label.setText(page.counts_text() if page is not None else "")

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _show_import_result(self, report) -> None:
        self.statusBar().showMessage(import_flow.headline(report), 8000)

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.certificates.restore_state(settings)

    def showEvent(self, event) -> None:
        if not self._fitted:  # the default size, or the saved one, on a smaller screen
            self._fitted = True
            fit_to_screen(self)
        super().showEvent(event)

    def closeEvent(self, event) -> None:
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        self.certificates.save_state(settings)
        self.store_watch.stop()
        for page in self.page_by_title.values():
            events.forget(page)
            page.shutdown()
        wait_for_tasks()  # the workers use the session being closed
        self.session.close()
        super().closeEvent(event)
