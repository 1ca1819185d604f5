"""A certificate's own window: a heading over the tabs (ui.certificate_tabs), Save and
Close. It reads the certificate and saves it off the GUI thread: saving a PIN hashes it
with Argon2id, which takes long enough to freeze the window."""

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFrame,
    QLabel,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import NotFoundError, ValidationError
from app.services import certificate_edits, certificates, policies, signing, users
from app.services.certificate_edits import GeneralChanges
from app.services.certificates import CertificateDetail
from app.services.operations import allowed, refusal
from app.services.policies import Signer
from app.services.session import Session
from ui.certificate_tabs import AssociatesTab, DetailsTab, ExtensionsTab, GeneralTab, SignersTab
from ui.certificate_tabs.common import selectable
from ui.dialogs import Dialog, show_failure
from ui.icons import icon
from ui.sign_dialog import SignFileDialog, open_sign_dialog
from ui.store_events import ALL, events
from ui.tasks import Task
from ui.wording import NO_KEY


def _read_certificate(
    session: Session, certificate_id: int
) -> tuple[CertificateDetail, list[str], list[Signer]]:
    return (
        certificates.get_certificate(session, certificate_id),
        users.user_names(session),
        policies.who_can_sign(session, certificate_id),
    )


def _save_certificate(
    session: Session, certificate_id: int, changes: GeneralChanges
) -> CertificateDetail:
    row = certificate_edits.edit_certificate(session, certificate_id, changes)
    return certificates.get_certificate(session, row.id)


class CertificateWindow(Dialog):
    saved = Signal(object)  # the CertificateRow after a save
    loaded = Signal()  # the certificate is read and shown
    groupRequested = Signal(str)  # open the Certificate Groups view on this group
    policyRequested = Signal(str)  # open the Policies page on this policy

    def __init__(self, session: Session, certificate_id: int, parent=None):
        super().__init__(parent)
        self._session = session
        self._certificate_id = certificate_id
        self.detail: CertificateDetail | None = None
        self._saving = False
        self.unsaved_box: QMessageBox | None = None
        self.setWindowTitle("Certificate")
        self.setWindowIcon(icon("certificate"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(800, 640)

        self.general_tab = GeneralTab(
            allowed(session, certificate_edits.edit_certificate),
            certificate_edits.access_refusal(session),
            self,
        )
        self.associates_tab = AssociatesTab(session, self)
        self.signers_tab = SignersTab(self)
        self.details_tab = DetailsTab(self)
        self.extensions_tab = ExtensionsTab(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.general_tab, "General")
        self.tabs.addTab(self.associates_tab, "Associates")
        self.tabs.addTab(self.signers_tab, "Who Can Sign")
        self.tabs.addTab(self.details_tab, "Details")
        self.tabs.addTab(self.extensions_tab, "X.509 Attributes")
        self.tabs.setEnabled(False)  # until the certificate is read
        self.general_tab.edited.connect(self._update_save)
        self.associates_tab.groupRequested.connect(self.groupRequested)
        self.associates_tab.policyRequested.connect(self.policyRequested)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        reason = refusal(session, certificate_edits.edit_certificate)
        if reason:
            self.save_button.setToolTip(reason)
        self.sign_button = self.buttons.addButton(
            "Sign File…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.sign_button.setIcon(icon("signature"))
        self.sign_button.clicked.connect(self.sign_file)
        self.sign_button.setEnabled(False)  # until the certificate is read
        self._sign_refusal = refusal(session, signing.sign_data)
        self.sign_dialog: SignFileDialog | None = None

        self.title = QLabel("Reading the certificate…", self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.subject = selectable("", self)
        self.subject.setStyleSheet("color: palette(placeholder-text);")
        heading = QWidget(self)
        column = QVBoxLayout(heading)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.title)
        column.addWidget(self.subject)

        # The tabs scroll, rather than make the window larger than a small or scaled
        # screen (1024x700 at twice the scale is 512x350); with room they just fill it.
        room = QScrollArea(self)
        room.setFrameShape(QFrame.Shape.NoFrame)
        room.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a Tab stop of its own
        room.setWidgetResizable(True)
        room.setWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(room, 1)
        layout.addWidget(self.buttons)
        self._update_save()
        self.load()
        # A change to this certificate made elsewhere (its Associates tab, the table, a
        # group renamed) is shown here too.
        events.certificates_changed.connect(self._store_changed)
        events.access_changed.connect(self._access_changed)

    # -- reading ------------------------------------------------------------------

    def load(self) -> None:
        (
            Task(self, _read_certificate, self._session, self._certificate_id)
            .busy(self, "Reading the certificate…")
            .on_done(self._loaded)
            .on_error(self._unreadable)
            .start()
        )

    def _loaded(self, result: tuple[CertificateDetail, list[str], list[Signer]]) -> None:
        detail, owners, signers = result
        self.general_tab.set_owner_names(owners)
        self.signers_tab.show_signers(signers)
        self._show(detail)
        self.tabs.setEnabled(True)
        focus = self.focusWidget()
        if focus is None or self.buttons.isAncestorOf(focus):
            # Focus went to Close while the tabs were disabled; Enter would close.
            self.tabs.setFocus()
        self.loaded.emit()

    def _access_changed(self) -> None:
        """Who may sign changed: the Who Can Sign tab and the associates are read again."""
        self._store_changed(ALL)

    def _store_changed(self, ids) -> None:
        if ids is not ALL and self._certificate_id not in ids:
            return
        (
            Task(self, _read_certificate, self._session, self._certificate_id)
            .on_done(self._reread)
            .on_error(lambda _error: self._close(), NotFoundError)  # deleted meanwhile
            .start()
        )

    def _reread(self, result: tuple[CertificateDetail, list[str], list[Signer]]) -> None:
        """What was typed on the General tab and not saved stays; the rest is shown anew."""
        detail, _owners, signers = result
        self.signers_tab.show_signers(signers)
        if self._saving or self.has_unsaved_changes():
            self.associates_tab.show_detail(detail)
        else:
            self._show(detail)

    def _unreadable(self, error: BaseException) -> None:
        """Deleted or unreadable since the table was read: say so where the window was
        opened from, and close."""
        show_failure(self.parentWidget(), error)
        self._close()

    def _show(self, detail: CertificateDetail) -> None:
        self.detail = detail
        row = detail.row
        self.setWindowTitle(f"{row.alias} — Certificate")
        self.setWindowIcon(icon("key" if row.has_private_key else "certificate"))
        self.title.setText(f"<b>{html.escape(row.alias)}</b>")
        self.subject.setText(row.subject)
        for tab in (self.general_tab, self.associates_tab, self.details_tab, self.extensions_tab):
            tab.show_detail(detail)
        self._update_save()
        why_not = self._sign_refusal or (None if row.has_private_key else NO_KEY)
        self.sign_button.setEnabled(why_not is None)
        self.sign_button.setToolTip(why_not or "Sign a file with this certificate")

    def sign_file(self) -> SignFileDialog | None:
        if self.detail is None or not self.sign_button.isEnabled():
            return None
        self.sign_dialog = open_sign_dialog(self._session, self, self.detail.row.id)
        return self.sign_dialog

    # -- saving -------------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        return self.general_tab.has_unsaved_changes()

    def changes(self) -> GeneralChanges:
        return self.general_tab.changes()

    def _update_save(self) -> None:
        editable = allowed(self._session, certificate_edits.edit_certificate)
        self.save_button.setEnabled(
            editable and not self._saving and self.detail is not None and self.has_unsaved_changes()
        )

    def save(self, close_after: bool = False) -> Task | None:
        """Check the fields, then save on the writer thread; problems show under the
        field they concern. The task is returned (None when the fields are refused)."""
        if self.detail is None or self._saving:
            return None
        self.general_tab.clear_errors()
        problem = self.general_tab.pin_problem()
        if problem is not None:
            self._refuse(problem)
            return None
        self._saving = True
        self.general_tab.setEnabled(False)  # what is typed now would be lost to the reload
        self._update_save()
        return (
            Task(self, _save_certificate, self._session, self.detail.row.id, self.changes())
            .writes()
            .changes(certificates=lambda detail: [detail.row.id])
            .busy(self, f"Saving {self.detail.row.alias}…")
            .on_done(lambda detail: self._saved(detail, close_after))
            .on_error(self._refuse, ValidationError)
            .always(self._save_ended)
            .start()
        )

    def _saved(self, detail: CertificateDetail, close_after: bool) -> None:
        self._show(detail)
        self.saved.emit(detail.row)
        if close_after:
            self._close()

    def _save_ended(self) -> None:
        self._saving = False
        self.general_tab.setEnabled(True)
        self._update_save()

    def _refuse(self, error: ValidationError) -> None:
        self.general_tab.refuse(error)
        self.tabs.setCurrentWidget(self.general_tab)

    # -- closing ------------------------------------------------------------------

    def reject(self) -> None:
        """Close, Escape and the title bar's close all come here (QDialog.closeEvent
        calls reject): unsaved changes are saved, discarded, or the window stays. While
        a save runs the window stays: it shows the save's outcome."""
        if self._saving:
            return
        if self.detail is not None and self.has_unsaved_changes():
            self._ask_unsaved()
            return
        self._close()

    def _close(self) -> None:
        super().reject()

    def _ask_unsaved(self) -> QMessageBox:
        """Save, discard or stay, asked with open(): the answer comes back in `finished`."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"Save the changes to “{self.detail.row.alias}”?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            answer = box.standardButton(box.clickedButton())
            if answer == QMessageBox.StandardButton.Save:
                self.save(close_after=True)
            elif answer == QMessageBox.StandardButton.Discard:
                self.general_tab.show_detail(self.detail)
                self._close()

        box.finished.connect(answered)
        box.open()
        self.unsaved_box = box
        return box
