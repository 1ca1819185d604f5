"""Sign File…: a detached CMS signature of a file, saved as `<file>.p7s` beside it.

The dialog lists the certificates the signed-in user may sign with (and the one it was
opened on, even when something stops it, saying what), asks for the reason and the PIN
only when the certificate does, as the original product's desktop agent does, and signs
off the GUI thread with the file's progress shown. A refusal is said in the dialog; a
signature counted is announced (ui.store_events), so Usage Count and Last Use change at
once wherever they are shown."""

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import CertdeskError, ValidationError
from app.files import display_path
from app.services import policies, signing
from app.services.operations import allowed
from app.services.session import Session
from app.services.signing import SignedFile, SigningChoice
from ui.dialogs import Dialog, ok_cancel, opened
from ui.feedback import error_label, show_error
from ui.file_dialogs import remember_folder, start_folder
from ui.group_dialog import fit_height, fit_title
from ui.icons import icon
from ui.tasks import Task, say_in_status_bar

SIGN_FILE = "sign-file"  # the folder the file dialog remembers
READING = "Reading the certificates you may sign with…"
NONE_TO_SIGN = (
    "No certificate to sign with. An administrator gives you certificates to sign with "
    "through a policy, or makes you the owner of one."
)
# For one who may make policies: what to do themselves.
NONE_TO_SIGN_YET = (
    "No certificate to sign with yet. Make yourself the owner of one (its window's General "
    "tab), or name yourself in a policy on the Policies page."
)


def none_to_sign(session: Session) -> str:
    return NONE_TO_SIGN_YET if allowed(session, policies.add_policy) else NONE_TO_SIGN


CHOOSE_FILE = "Choose the file to sign."


def _choices(session: Session, certificate_id: int | None) -> list[SigningChoice]:
    """What the user may sign with, and the certificate asked for first, allowed or not."""
    choices = signing.signable_certificates(session)
    if certificate_id is None:
        return choices
    asked = next((c for c in choices if c.id == certificate_id), None)
    if asked is None:
        asked = signing.signing_choice(session, certificate_id)
    return [asked, *(c for c in choices if c.id != certificate_id)]


def choice_text(choice: SigningChoice) -> str:
    return f"{choice.alias} — {choice.blocked}" if choice.blocked else choice.alias


class SignFileDialog(Dialog):
    signed = Signal(object)  # the SignedFile

    def __init__(self, session: Session, parent: QWidget, certificate_id: int | None = None):
        super().__init__(parent)
        self._session = session
        self._asked = certificate_id
        self.choices: list[SigningChoice] = []
        self.signing = False
        self.setWindowTitle("Sign File")
        self.setWindowIcon(icon("signature"))
        self.setAcceptDrops(True)
        fit_title(self, 520)

        self.certificate = QComboBox(self)
        self.certificate.setEnabled(False)
        self.certificate.setPlaceholderText(READING)
        self.certificate.currentIndexChanged.connect(lambda _i: self._chosen())
        self.file = QLineEdit(self)
        self.file.setPlaceholderText("The file to sign (or drop it here)")
        self.file.textChanged.connect(lambda _text: self._update())
        self.browse_button = QPushButton("Browse…", self)
        self.browse_button.clicked.connect(self.browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.browse_button)
        file_label = QLabel("&File:", self)
        file_label.setBuddy(self.file)  # a row of a layout gets no buddy of its own
        self.signature = QLabel(self)
        self.signature.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signature.setWordWrap(True)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(signing.MAX_REASON)
        self.reason.setPlaceholderText("Why you sign it, for the audit log")
        self.reason.textChanged.connect(lambda _text: self._update())
        self.pin = QLineEdit(self)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.textChanged.connect(lambda _text: self._update())

        self.form = QFormLayout()
        self.form.addRow("&Certificate:", self.certificate)
        self.form.addRow(file_label, file_row)
        self.form.addRow("Signature:", self.signature)
        self.form.addRow("&Reason:", self.reason)
        self.form.addRow("&PIN:", self.pin)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.error = error_label(self)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.buttons = ok_cancel(self, "Sign")
        self.sign_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.disconnect()
        self.buttons.accepted.connect(self.sign)

        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._show_fields(None)
        self._update()
        Task(self, _choices, session, certificate_id).on_done(self._show_choices).on_error(
            self._not_read, CertdeskError
        ).start()

    # -- what to sign with --------------------------------------------------------

    def _show_choices(self, choices: list[SigningChoice]) -> None:
        self.choices = choices
        self.certificate.clear()
        for choice in choices:
            self.certificate.addItem(
                icon("disabled" if choice.blocked else "certificate"), choice_text(choice)
            )
        self.certificate.setEnabled(bool(choices))
        if not choices:
            self.certificate.setPlaceholderText("None")
            self.note.setText(none_to_sign(self._session))
        first_ready = next((i for i, c in enumerate(choices) if not c.blocked), 0)
        self.certificate.setCurrentIndex(0 if self._asked is not None else first_ready)
        self._chosen()

    def _not_read(self, error: BaseException) -> None:
        self.certificate.setPlaceholderText("None")
        show_error(self.error, error)
        fit_height(self)

    def chosen(self) -> SigningChoice | None:
        index = self.certificate.currentIndex()
        return self.choices[index] if 0 <= index < len(self.choices) else None

    def choose(self, alias: str) -> None:
        aliases = [c.alias for c in self.choices]
        self.certificate.setCurrentIndex(aliases.index(alias))

    def _chosen(self) -> None:
        choice = self.chosen()
        self._show_fields(choice)
        if choice is not None:
            self.note.setText(choice.why_not or _asks(choice))
        self.error.hide()
        self._update()

    def _show_fields(self, choice: SigningChoice | None) -> None:
        self.form.setRowVisible(self.reason, choice is not None and choice.asks_reason)
        self.form.setRowVisible(self.pin, choice is not None and choice.needs_pin)
        self.pin.clear()

    # -- the file -----------------------------------------------------------------

    def browse(self) -> None:
        path, _chosen = QFileDialog.getOpenFileName(
            self, "Choose the file to sign", str(start_folder(SIGN_FILE)), "All files (*)"
        )
        if path:
            remember_folder(SIGN_FILE, path)
            self.set_file(path)

    def set_file(self, path: str | Path) -> None:
        self.file.setText(str(path))

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if len(urls) == 1 and urls[0].isLocalFile() and not self.signing:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.set_file(event.mimeData().urls()[0].toLocalFile())
        event.acceptProposedAction()

    def _update(self) -> None:
        path = self.file.text().strip()
        self.signature.setText(
            display_path(signing.signature_path(path)) if path else "Saved beside the file"
        )
        choice = self.chosen()
        ready = (
            choice is not None
            and not choice.blocked
            and bool(path)
            and not (choice.asks_reason and not self.reason.text().strip())
            and not (choice.needs_pin and not self.pin.text())
            and not self.signing
        )
        self.sign_button.setEnabled(ready)
        self.sign_button.setToolTip("" if ready else self._missing(choice, path))

    def _missing(self, choice: SigningChoice | None, path: str) -> str:
        if choice is None:
            return "Choose a certificate to sign with."
        if choice.blocked:
            return choice.why_not
        if not path:
            return CHOOSE_FILE
        if choice.asks_reason and not self.reason.text().strip():
            return "This certificate asks for a reason for each signature."
        if choice.needs_pin and not self.pin.text():
            return "This certificate asks for its PIN."
        return ""

    # -- signing ------------------------------------------------------------------

    def sign(self) -> Task | None:
        choice = self.chosen()
        if choice is None or not self.sign_button.isEnabled():
            return None
        path = self.file.text().strip()
        reason = self.reason.text() if choice.asks_reason else None
        pin = self.pin.text() if choice.needs_pin else None
        self._busy(True)
        return (
            Task(self, signing.sign_file, self._session, choice.id, path, reason, pin)
            .changes(certificates=lambda _result: [choice.id])
            .on_progress(self._progressed)
            .on_done(self._signed)
            .on_error(self._refused, CertdeskError)
            .always(lambda: self._busy(False))
            .start()
        )

    def _busy(self, busy: bool) -> None:
        self.signing = busy
        for widget in (self.certificate, self.file, self.browse_button, self.reason, self.pin):
            widget.setEnabled(not busy and (widget is not self.certificate or bool(self.choices)))
        self.buttons.setEnabled(not busy)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)  # until the file's size is known
        if busy:
            self.error.hide()
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
        self._update()

    def _progressed(self, done: int, total: int, _text: str) -> None:
        # Percent: a QProgressBar counts in int, which a file over 2 GiB would overflow.
        self.progress.setRange(0, 100)
        self.progress.setValue(100 * done // total if total else 100)
        self.progress.setFormat(f"Reading the file: %p% of {total / 1024 / 1024:,.1f} MiB")

    def _signed(self, result: SignedFile) -> None:
        self.pin.clear()
        choice = self.chosen()
        if choice is not None:
            say_in_status_bar(
                self.parentWidget(),
                f"Signed with “{choice.alias}”: {display_path(result.signature.name)}, "
                "beside the file.",
            )
        self.signed.emit(result)
        self.accept()

    def _refused(self, error: BaseException) -> None:
        show_error(self.error, error)
        if isinstance(error, ValidationError) and error.field == "pin":
            self.pin.clear()
            self.pin.setFocus(Qt.FocusReason.OtherFocusReason)
        fit_height(self)

    def reject(self) -> None:
        if not self.signing:  # a signature under way finishes: it is counted and saved
            super().reject()


def _asks(choice: SigningChoice) -> str:
    asked = (("a reason", choice.asks_reason), ("its PIN", choice.needs_pin))
    asks = [what for what, yes in asked if yes]
    allowed = f"allowed by the policy “{choice.policy}”" if choice.policy else "yours: you own it"
    text = f"“{choice.alias}” is {allowed}."
    if asks:
        text += f" Each signature with it asks for {' and '.join(asks)}."
    return text


def open_sign_dialog(
    session: Session, parent: QWidget, certificate_id: int | None = None
) -> SignFileDialog:
    """Opened (not exec()'d) and deleted when closed; returned."""
    return opened(SignFileDialog(session, parent, certificate_id))
