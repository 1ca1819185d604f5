"""Starting the GUI: first run or login, then the main window."""

import getpass
import os
import sys
import traceback

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QDialog

from app import memory
from app.errors import CertdeskError
from app.services.store_folders import resolve_store_dir, store_exists
from app.sqlite_errors import store_problem
from ui import palette
from ui.dialogs import show_message
from ui.icons import icon
from ui.login import LoginDialog

GIL_SWITCH_S = 0.001


def create_application(argv: list[str] | None = None) -> QApplication:
    memory.map_large_blocks()  # before the first large read
    # A worker holding the GIL keeps it until another thread has waited this long, and
    # the window waits that long each time Qt calls into Python: at the default 5 ms, a
    # million rows loading made it 90 ms late at every hundredth tick, at 1 ms 50 ms.
    sys.setswitchinterval(GIL_SWITCH_S)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setOrganizationName("Certdesk")
    app.setApplicationName("Certdesk")
    app.setWindowIcon(icon("app"))
    palette.install(app)  # the desktop's dark mode, and readable check boxes
    return app


def open_session_dialog(folder) -> QDialog:
    if store_exists(folder):
        return LoginDialog(folder)
    # Only here: creating a store needs the store's code, which the login dialog shows
    # before (see ui.login).
    from ui.first_run import FirstRunDialog

    try:
        login = getpass.getuser()
    except Exception:
        login = ""
    return FirstRunDialog(folder, default_admin=login)


def _show_uncaught(kind, error, trace) -> None:
    """A slot that raises would otherwise only print to a terminal nobody watches: say
    it in one box (the trace only with CERTDESK_DEBUG, as in the CLI)."""
    if os.environ.get("CERTDESK_DEBUG"):
        traceback.print_exception(kind, error, trace)
    error = store_problem(error) or error
    if isinstance(error, CertdeskError):
        text = str(error)
    else:
        text = f"Something went wrong: {kind.__name__}: {error}\nThe store is unchanged."
    show_message(QApplication.activeWindow(), text)  # opened: no event loop in the hook


AGAIN = {
    "locked": "Certdesk is locked: its keys left memory. Sign in again to go on.",
    "idle": "Certdesk locked itself after a time without input (Settings…). Sign in again "
    "to go on.",
    "switch": "Sign in as another user.",
    "restored": "The restored store: sign in with a password it holds.",
}


class Console(QObject):
    """The GUI's sessions, one after another: a sign-in, then the main window; Lock,
    Switch User and an idle time close the window (and with it the session) and ask for
    a sign-in again. Closing the window otherwise, or a sign-in, quits."""

    def __init__(self, app: QApplication):
        super().__init__()
        self._app = app
        app.setQuitOnLastWindowClosed(False)  # between a window and the next sign-in
        self.dialog: QDialog | None = None
        self.window = None

    def sign_in(self, folder, user: str = "", why: str = "") -> QDialog:
        dialog = (
            LoginDialog(folder, user=user, note=AGAIN[why]) if why else open_session_dialog(folder)
        )
        dialog.accepted.connect(lambda: self._open(dialog.session))
        dialog.rejected.connect(self._app.quit)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.dialog = dialog
        return dialog

    def _open(self, session) -> None:
        if session is None:
            self._app.quit()
            return
        # Only now: the main window brings every page, and with them most of the
        # services and cryptography, which the login dialog would otherwise wait for.
        from ui.main_window import MainWindow

        window = MainWindow(session)
        window.signInRequested.connect(self.sign_in)
        window.closed.connect(lambda: None if window.signing_in_again else self._app.quit())
        window.show()
        self.window = window
        for notice in session.notices:  # what the sign-in found (an older store)
            show_message(window, notice[:1].upper() + notice[1:])


def run_gui(store: str | None = None) -> int:
    app = create_application()
    sys.excepthook = _show_uncaught
    console = Console(app)
    console.sign_in(resolve_store_dir(store))
    return app.exec()
