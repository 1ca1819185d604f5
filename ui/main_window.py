"""The main window: a sidebar beside the pages, a status bar with the store and the user."""

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
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
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.services import dashboard, logins, signing
from app.services.operations import refusal
from app.services.session import Session
from ui import import_flow
from ui.audit_view import AuditView
from ui.banner import ExpiryBanner
from ui.certificates_model import FILTER_EXPIRING
from ui.certificates_view import CertificatesView
from ui.dashboard_view import DashboardView
from ui.dialogs import fit_to_screen, opened
from ui.groups_view import GroupsView
from ui.icons import icon
from ui.idle import IdleLock
from ui.policies_view import PoliciesView
from ui.requests_view import RequestsView
from ui.roles_view import RolesView
from ui.settings import SettingsDialog, settings_events, warning_days
from ui.sign_dialog import SignFileDialog, open_sign_dialog
from ui.signing_view import SigningView
from ui.store_actions import StoreActions
from ui.store_events import events
from ui.store_watch import StoreWatch
from ui.tasks import Task, wait_for_tasks
from ui.user_dialogs import ChangePasswordDialog
from ui.user_groups_view import UserGroupsView
from ui.users_view import UsersView

# The pages, in the sidebar's order; each declares its title and icon.
PAGES = (
    DashboardView,
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
    """The console of one session. Lock and Switch User close it (and its session: the
    keys and the store's key leave memory) and ask for another sign-in
    (`signInRequested`, which ui.application answers); so does an idle time."""

    # Sign in again, to this folder: the user to offer ("" for any), why ("locked").
    signInRequested = Signal(object, str, str)
    closed = Signal()  # the window and its session are closed

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.sign_dialog: SignFileDialog | None = None
        self.dialog: QWidget | None = None  # the last dialog the window opened
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
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        self.banner = ExpiryBanner(self)
        self.banner.showRequested.connect(
            lambda: self.open_page("Certificates", "filter", FILTER_EXPIRING)
        )
        right.addWidget(self.banner)
        right.addWidget(self.pages, 1)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)

        self.store_actions = StoreActions(session, self)
        self.store_actions.openRequested.connect(
            lambda folder: self._sign_in_again(folder, "", "restored")
        )
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
        self.signing_in_again = False  # closed by Lock or Switch User, not to quit
        self.idle = IdleLock(self)
        self.idle.idle.connect(
            lambda: self._sign_in_again(session.folder, session.user_name, "idle")
        )
        settings_events.changed.connect(self._settings_changed)
        # Certificates imported, deleted or changed: counted again once they settle.
        self._recount = QTimer(self, singleShot=True, interval=500)
        self._recount.timeout.connect(self.check_expiring)
        events.certificates_changed.connect(self._certificates_changed)
        self.check_expiring()

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
        file_menu.addAction(self.page_by_title["Dashboard"].calendar_action)
        file_menu.addSeparator()
        password = QAction(icon("password"), "Change My &Password…", self)
        password.triggered.connect(self.change_password)
        file_menu.addAction(password)
        settings = QAction("Se&ttings…", self)
        settings.setShortcut(QKeySequence.StandardKey.Preferences)
        settings.triggered.connect(self.open_settings)
        file_menu.addAction(settings)
        file_menu.addSeparator()
        self.lock_action = QAction(icon("lock"), "&Lock", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(self.lock)
        file_menu.addAction(self.lock_action)
        switch = QAction(icon("users"), "S&witch User…", self)
        switch.triggered.connect(self.switch_user)
        file_menu.addAction(switch)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.certificates.find_action)
        store_menu = self.menuBar().addMenu("&Store")
        for action in self.store_actions.menu_actions():
            store_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Certdesk", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # -- locking, switching, settings -----------------------------------------------

    def lock(self) -> None:
        """Back to the sign-in, for the same user: the window and its session close,
        so the keys and the store's key leave memory."""
        self._sign_in_again(self.session.folder, self.session.user_name, "locked")

    def switch_user(self) -> None:
        self._sign_in_again(self.session.folder, "", "switch")

    def _sign_in_again(self, folder, user: str, why: str) -> None:
        self.signing_in_again = True
        self.close()
        self.signInRequested.emit(folder, user, why)

    def open_settings(self) -> SettingsDialog:
        self.dialog = opened(SettingsDialog(self))
        return self.dialog

    def _settings_changed(self) -> None:
        self.idle.restart()
        self.check_expiring()

    def _certificates_changed(self, _ids) -> None:
        self._recount.start()

    def check_expiring(self) -> Task:
        """The banner over the pages, when certificates expire within the warning period."""
        days = warning_days()
        return (
            Task(self, dashboard.expiring, self.session, days)
            .on_done(lambda count: self.banner.show_count(count, days))
            .start()
        )

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
        self.password_dialog = opened(dialog)
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
        self.idle.stop()
        self._recount.stop()
        events.forget(self)  # nothing more to count with the session closing
        settings_events.forget(self)
        settings = QSettings()
        settings.setValue("main/geometry", self.saveGeometry())
        self.certificates.save_state(settings)
        self.store_watch.stop()
        for page in self.page_by_title.values():
            events.forget(page)
            settings_events.forget(page)
            page.shutdown()
        wait_for_tasks()  # the workers use the session being closed
        self.session.close()
        super().closeEvent(event)
        self.closed.emit()
