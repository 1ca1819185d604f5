"""A certificate's own window: General (editable), Associates, Details, X.509 Attributes."""

import datetime as dt
import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.crypto.details import NamePart, validity_text
from app.errors import CertdeskError, ValidationError
from app.services import certificate_edits, certificates, users
from app.services.certificate_edits import GeneralChanges
from app.services.certificates import CertificateDetail
from app.services.operations import allowed, refusal
from app.services.session import Session
from ui.feedback import error_label, show_error
from ui.fonts import monospace
from ui.icons import icon

NO_OWNER = "(no owner)"
KEY_USAGE_OID = "2.5.29.15"
EXTENDED_KEY_USAGE_OID = "2.5.29.37"


def _selectable(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class CertificateWindow(QDialog):
    saved = Signal(object)  # the CertificateRow after a save
    groupRequested = Signal(str)  # open the Certificate Groups view on this group

    def __init__(self, session: Session, certificate_id: int, parent=None):
        super().__init__(parent)
        self._session = session
        self.detail: CertificateDetail = certificates.get_certificate(session, certificate_id)
        self.setWindowTitle(f"{self.detail.row.alias} — Certificate")
        self.setWindowIcon(icon("key" if self.detail.row.has_private_key else "certificate"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(800, 640)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._general_tab(), "General")
        self.tabs.addTab(self._associates_tab(), "Associates")
        self.tabs.addTab(self._details_tab(), "Details")
        self.tabs.addTab(self._attributes_tab(), "X.509 Attributes")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        reason = refusal(session, certificate_edits.edit_certificate)
        if reason:
            self.save_button.setToolTip(reason)

        layout = QVBoxLayout(self)
        layout.addWidget(self._heading())
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self._load_general()

    def _heading(self) -> QWidget:
        row = self.detail.row
        title = QLabel(f"<b>{html.escape(row.alias)}</b>", self)
        title.setTextFormat(Qt.TextFormat.RichText)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        title.setFont(font)
        subject = _selectable(row.subject, self)
        subject.setStyleSheet("color: palette(placeholder-text);")
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(title)
        column.addWidget(subject)
        return box

    # -- General ------------------------------------------------------------------

    def _general_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        # No max length: it would cut a pasted alias silently; the rule refuses it instead.
        self.alias = QLineEdit(page)
        self.alias_error = error_label(page)
        self.owner = QComboBox(page)
        self.owner.addItem(NO_OWNER)
        self.owner.addItems(users.user_names(self._session))
        self.owner_error = error_label(page)
        self.usage = QLabel(page)
        self.status = QLabel(page)
        self.description = QPlainTextEdit(page)
        self.description.setPlaceholderText("What this certificate signs, who to ask about it…")
        self.description.setTabChangesFocus(True)
        self.description_error = error_label(page)
        self.ask_reason = QCheckBox("Ask for a reason when used", page)
        self.ask_pin = QCheckBox("Always ask for PIN", page)
        self.pin_note = QLabel(page)
        self.pin_note.setWordWrap(True)
        self.pin = QLineEdit(page)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("New PIN (at least 4 characters)")
        self.pin_confirm = QLineEdit(page)
        self.pin_confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_confirm.setPlaceholderText("The same PIN again")
        self.pin_error = error_label(page)
        self.pin_box = QWidget(page)
        pin_layout = QVBoxLayout(self.pin_box)
        pin_layout.setContentsMargins(24, 0, 0, 0)
        for widget in (self.pin_note, self.pin, self.pin_confirm, self.pin_error):
            pin_layout.addWidget(widget)

        form.addRow("Certificate Alias:", self.alias)
        form.addRow("", self.alias_error)
        form.addRow("Owner:", self.owner)
        form.addRow("", self.owner_error)
        form.addRow("Usage Count:", self.usage)
        form.addRow("Status:", self.status)
        form.addRow("Description:", self.description)
        form.addRow("", self.description_error)
        form.addRow("", self.ask_reason)
        form.addRow("", self.ask_pin)
        form.addRow("", self.pin_box)

        self.ask_pin.toggled.connect(self._pin_toggled)
        for signal in (
            self.alias.textChanged,
            self.owner.currentIndexChanged,
            self.description.textChanged,
            self.ask_reason.toggled,
            self.ask_pin.toggled,
            self.pin.textChanged,
            self.pin_confirm.textChanged,
        ):
            signal.connect(self._update_save)
        editable = allowed(self._session, certificate_edits.edit_certificate)
        for widget in (self.alias, self.owner, self.ask_reason, self.ask_pin):
            widget.setEnabled(editable)
        self.description.setReadOnly(not editable)  # still readable and selectable
        return page

    def _load_general(self) -> None:
        row = self.detail.row
        self.alias.setText(row.alias)
        self.owner.setCurrentIndex(max(0, self.owner.findText(row.owner or NO_OWNER)))
        self.usage.setText(f"{row.usage_count:,}")
        self.status.setText(
            "Enabled" if row.enabled else "Disabled (change it from the certificate's ⋯ menu)"
        )
        self.description.setPlainText(self.detail.description)
        self.ask_reason.setChecked(row.ask_reason)
        self.ask_pin.setChecked(row.has_pin)
        self.pin.clear()
        self.pin_confirm.clear()
        self._pin_toggled(row.has_pin)
        for label in (self.alias_error, self.owner_error, self.description_error, self.pin_error):
            label.hide()
        self._update_save()

    def _pin_toggled(self, checked: bool) -> None:
        self.pin_box.setVisible(checked)
        if self.detail.row.has_pin:
            self.pin_note.setText(
                "A PIN is set. Type a new one to change it, or leave these empty to keep it."
            )
        else:
            self.pin_note.setText("Signers must type this PIN every time they use the key.")

    def changes(self) -> GeneralChanges:
        row = self.detail.row
        owner = self.owner.currentText()
        owner = None if owner == NO_OWNER else owner
        pin_wanted = self.ask_pin.isChecked()
        reason = self.ask_reason.isChecked()
        return GeneralChanges(
            alias=self.alias.text() if self.alias.text() != row.alias else None,
            owner=owner if owner is not None and owner != row.owner else None,
            clear_owner=owner is None and row.owner is not None,
            description=(
                self.description.toPlainText()
                if self.description.toPlainText() != self.detail.description
                else None
            ),
            ask_reason=reason if reason != row.ask_reason else None,
            pin=self.pin.text() if pin_wanted and self.pin.text() else None,
            clear_pin=not pin_wanted and row.has_pin,
        )

    def has_unsaved_changes(self) -> bool:
        return self.changes() != GeneralChanges() or bool(self.pin_confirm.text())

    def _update_save(self, *_args) -> None:
        editable = allowed(self._session, certificate_edits.edit_certificate)
        self.save_button.setEnabled(editable and self.has_unsaved_changes())

    def save(self) -> bool:
        """Check the fields, save; problems show under the field they concern."""
        for label in (self.alias_error, self.owner_error, self.description_error, self.pin_error):
            label.hide()
        changes = self.changes()
        if self.ask_pin.isChecked():
            needs_pin = not self.detail.row.has_pin
            if needs_pin and not self.pin.text():
                return self._refuse(ValidationError("pin", "type the PIN signers will need"))
            if self.pin.text() != self.pin_confirm.text():
                return self._refuse(ValidationError("pin", "the two PINs differ"))
        try:
            row = certificate_edits.edit_certificate(self._session, self.detail.row.id, changes)
        except ValidationError as exc:
            return self._refuse(exc)
        except CertdeskError as exc:
            QMessageBox.warning(self, "Certdesk", str(exc))
            return False
        self.detail = certificates.get_certificate(self._session, row.id)
        self.setWindowTitle(f"{row.alias} — Certificate")
        self._load_general()
        self.saved.emit(row)
        return True

    def _refuse(self, error: ValidationError) -> bool:
        label = {
            "alias": self.alias_error,
            "owner": self.owner_error,
            "description": self.description_error,
            "pin": self.pin_error,
        }.get(error.field, self.alias_error)
        show_error(label, error)
        self.tabs.setCurrentIndex(0)
        return False

    def reject(self) -> None:
        """Close, Escape and the title bar's close all come here (QDialog.closeEvent
        calls reject): unsaved changes are saved, discarded, or the window stays."""
        if self.has_unsaved_changes() and not self._settle_unsaved():
            return
        super().reject()

    def _settle_unsaved(self) -> bool:
        """Save, discard or stay; True when the window may close."""
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
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            self._load_general()
            return True
        return False

    # -- Associates ---------------------------------------------------------------

    def _associates_tab(self) -> QWidget:
        page = QWidget(self)
        grid = QGridLayout(page)
        row = self.detail.row
        self.group_list = self._associate_box(
            grid, 0, 0, "Certificate Groups", row.groups, "group", "Open in Certificate Groups"
        )
        self.group_list.itemActivated.connect(
            lambda item: self.groupRequested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        later = "Policies get their own view in a later version."
        self._associate_box(grid, 0, 1, "Related Policies", row.policies, "policy", later)
        self._associate_box(
            grid,
            1,
            0,
            "Associated Users",
            self.detail.associated_users,
            "owner",
            "Reaches this certificate through a policy. " + later,
        )
        self._associate_box(
            grid,
            1,
            1,
            "Associated User Groups",
            self.detail.associated_user_groups,
            "owner",
            "Reaches this certificate through a policy. " + later,
        )
        return page

    def _associate_box(self, grid, r, c, title, names, icon_name, tip) -> QListWidget:
        box = QGroupBox(title, self)
        box.setFlat(True)
        listing = QListWidget(box)
        listing.setIconSize(QSize(16, 16))
        for name in names:
            item = QListWidgetItem(icon(icon_name), name, listing)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(tip)
        if not names:
            item = QListWidgetItem("None", listing)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
        QVBoxLayout(box).addWidget(listing)
        grid.addWidget(box, r, c)
        return listing

    # -- Details ------------------------------------------------------------------

    def _details_tab(self) -> QWidget:
        details, row = self.detail.details, self.detail.row
        now = dt.datetime.now(dt.UTC)
        page = QWidget(self)
        form = QFormLayout(page)
        form.addRow(_heading_label("Subject", page))
        _name_rows(form, details.subject, page)
        form.addRow(_heading_label("Issuer", page))
        _name_rows(form, details.issuer, page)
        form.addRow(_heading_label("Certificate", page))
        form.addRow("Serial number:", _mono(details.serial, page))
        form.addRow("SHA-1 thumbprint:", self._copyable(details.sha1, "sha1"))
        form.addRow("SHA-256 thumbprint:", self._copyable(details.sha256, "sha256"))
        form.addRow(
            "Valid from:", _selectable(details.not_before.strftime("%Y-%m-%d %H:%M:%S UTC"), page)
        )
        form.addRow(
            "Valid to:",
            _selectable(
                f"{details.not_after.strftime('%Y-%m-%d %H:%M:%S UTC')}  "
                f"({validity_text(details.not_after, now)})",
                page,
            ),
        )
        form.addRow("Public key:", _selectable(details.public_key, page))
        form.addRow("Signature algorithm:", _selectable(details.signature_algorithm, page))
        form.addRow("Version:", _selectable(details.version, page))
        form.addRow("Key usage:", _selectable(self._extension_value(KEY_USAGE_OID), page))
        form.addRow(
            "Extended key usage:", _selectable(self._extension_value(EXTENDED_KEY_USAGE_OID), page)
        )
        form.addRow(
            "Private key:",
            _selectable(
                "Held in this store (sealed)" if row.has_private_key else "Not in this store", page
            ),
        )
        form.addRow("Chain:", _selectable(self._chain_text(), page))
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(page)
        return scroll

    def _copyable(self, text: str, name: str) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        # 32 bytes of colon hex do not fit beside the labels: two lines of 16.
        shown = text if len(text) <= 60 else f"{text[:48]}\n{text[48:]}"
        row.addWidget(_mono(shown, box), 1)
        button = QToolButton(box)
        button.setText("Copy")
        button.setObjectName(f"copy_{name}")
        button.setToolTip("Copy to the clipboard")
        button.clicked.connect(lambda: QGuiApplication.clipboard().setText(text))
        row.addWidget(button)
        return box

    def _extension_value(self, oid: str) -> str:
        for ext in self.detail.extensions:
            if ext.oid == oid:
                return ext.value + ("  (critical)" if ext.critical else "")
        return "—"

    def _chain_text(self) -> str:
        details = self.detail.details
        if details.self_issued:
            return "Self-issued: it is its own issuer."
        if not self.detail.chain:
            return "The issuer is not in this store."
        return "  →  ".join((self.detail.row.alias, *self.detail.chain))

    # -- X.509 Attributes ---------------------------------------------------------

    def _attributes_tab(self) -> QWidget:
        self.extensions = QTreeWidget(self)
        self.extensions.setHeaderLabels(["Extension", "OID", "Critical", "Value"])
        self.extensions.setRootIsDecorated(False)
        self.extensions.setColumnWidth(0, 270)
        self.extensions.setColumnWidth(1, 160)
        self.extensions.setColumnWidth(2, 60)
        for ext in self.detail.extensions:
            first = ext.value.splitlines()[0] if ext.value else ""
            more = " …" if "\n" in ext.value else ""
            critical = "yes" if ext.critical else "no"
            item = QTreeWidgetItem([ext.name, ext.oid, critical, first + more])
            item.setData(0, Qt.ItemDataRole.UserRole, ext.value)
            item.setToolTip(0, ext.name)
            self.extensions.addTopLevelItem(item)
        if not self.detail.extensions:
            empty = QTreeWidgetItem(["No extensions (an X.509 version 1 certificate has none)"])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.extensions.addTopLevelItem(empty)
            self.extensions.setFirstColumnSpanned(0, self.extensions.rootIndex(), True)

        self.extension_value = QPlainTextEdit(self)
        self.extension_value.setReadOnly(True)
        self.extension_value.setFont(monospace())
        self.extension_value.setPlaceholderText("Select an extension to read its whole value.")
        self.extensions.currentItemChanged.connect(self._show_extension)
        if self.detail.extensions:
            self.extensions.setCurrentItem(self.extensions.topLevelItem(0))

        self.pem = QPlainTextEdit(self.detail.pem, self)
        self.pem.setReadOnly(True)
        self.pem.setFont(monospace())
        self.copy_pem = QPushButton("Copy PEM", self)
        self.copy_pem.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.detail.pem))
        pem_box = QWidget(self)
        pem_layout = QVBoxLayout(pem_box)
        pem_layout.setContentsMargins(0, 0, 0, 0)
        pem_layout.addWidget(self.pem)
        pem_layout.addWidget(self.copy_pem, 0, Qt.AlignmentFlag.AlignRight)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.extensions)
        splitter.addWidget(self.extension_value)
        splitter.addWidget(pem_box)
        splitter.setSizes([240, 120, 160])
        return splitter

    def _show_extension(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        value = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else ""
        self.extension_value.setPlainText(value or "")


def _heading_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(f"<b>{text}</b>", parent)
    label.setContentsMargins(0, 8, 0, 0)
    return label


def _name_rows(form: QFormLayout, parts: tuple[NamePart, ...], parent: QWidget) -> None:
    if not parts:
        form.addRow("", _selectable("(empty)", parent))
    for part in parts:
        label = f"{part.label}:"
        widget = _selectable(part.value, parent)
        widget.setToolTip(part.oid)
        form.addRow(label, widget)


def _mono(text: str, parent: QWidget) -> QLabel:
    label = _selectable(text, parent)
    label.setFont(monospace())
    return label
