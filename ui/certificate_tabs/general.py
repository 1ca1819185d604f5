"""General: the fields a user edits (alias, owner, description, reason, PIN)."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.crypto.pins import MIN_PIN_LENGTH
from app.errors import ValidationError
from app.services.certificate_edits import GeneralChanges
from app.services.certificates import CertificateDetail
from ui.feedback import error_label, show_error

NO_OWNER = "(no owner)"


class GeneralTab(QWidget):
    edited = Signal()  # any field changed: whether there is something to save changed

    def __init__(self, editable: bool, access_refusal: str | None = None, parent=None):
        """`editable`: whether the registry lets the signed-in user edit certificates;
        `access_refusal`: why they may not change the owner, reason or PIN, if not."""
        super().__init__(parent)
        self.detail: CertificateDetail | None = None
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        # No max length: it would cut a pasted alias silently; the rule refuses it instead.
        self.alias = QLineEdit(self)
        self.alias_error = error_label(self)
        self.owner = QComboBox(self)
        self.owner.addItem(NO_OWNER)
        self.owner_error = error_label(self)
        self.usage = QLabel(self)
        self.status = QLabel(self)
        self.description = QPlainTextEdit(self)
        self.description.setPlaceholderText("What this certificate signs, who to ask about it…")
        self.description.setTabChangesFocus(True)
        self.description_error = error_label(self)
        self.ask_reason = QCheckBox("Ask for a reason when used", self)
        self.ask_pin = QCheckBox("Always ask for PIN", self)
        self.pin_note = QLabel(self)
        self.pin_note.setWordWrap(True)
        self.pin_note.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.pin = QLineEdit(self)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText(f"New PIN (at least {MIN_PIN_LENGTH} characters)")
        self.pin_confirm = QLineEdit(self)
        self.pin_confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_confirm.setPlaceholderText("The same PIN again")
        self.pin_error = error_label(self)
        self.pin_box = QWidget(self)
        pin_layout = QVBoxLayout(self.pin_box)
        pin_layout.setContentsMargins(24, 0, 0, 0)
        for widget in (self.pin_note, self.pin, self.pin_confirm, self.pin_error):
            pin_layout.addWidget(widget)
        self.pin_box.hide()

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
        if editable and access_refusal is not None:
            # Said beside the greyed fields, not only in their tooltips.
            self.access_note = QLabel(
                f"Owner, reason and PIN decide who may sign. {access_refusal}"
            )
            self.access_note.setWordWrap(True)
            # Across the field's width, as the PIN note: a word-wrapped label alone in a
            # form row keeps to its narrow size hint otherwise.
            self.access_note.setSizePolicy(
                QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred
            )
            self.access_note.setStyleSheet("color: palette(placeholder-text);")
            form.addRow("", self.access_note)

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
            signal.connect(lambda *_: self.edited.emit())
        self.alias.setEnabled(editable)
        self._may_set_pin = editable and access_refusal is None
        for widget in (self.owner, self.ask_reason, self.ask_pin, self.pin, self.pin_confirm):
            widget.setEnabled(self._may_set_pin)
            if editable and access_refusal is not None:
                widget.setToolTip(access_refusal)
        self.description.setReadOnly(not editable)  # still readable and selectable

    def set_owner_names(self, names: list[str]) -> None:
        current = self.owner.currentText()
        self.owner.clear()
        self.owner.addItem(NO_OWNER)
        self.owner.addItems(names)
        self.owner.setCurrentIndex(max(0, self.owner.findText(current)))

    def show_detail(self, detail: CertificateDetail) -> None:
        """The saved values, replacing whatever was typed."""
        self.detail = detail
        row = detail.row
        self.alias.setText(row.alias)
        self.owner.setCurrentIndex(max(0, self.owner.findText(row.owner or NO_OWNER)))
        self.usage.setText(f"{row.usage_count:,}")
        self.status.setText(
            "Enabled" if row.enabled else "Disabled (change it from the certificate's ⋯ menu)"
        )
        self.description.setPlainText(detail.description)
        self.ask_reason.setChecked(row.ask_reason)
        self.ask_pin.setChecked(row.has_pin)
        self.pin.clear()
        self.pin_confirm.clear()
        self._pin_toggled(row.has_pin)
        self.clear_errors()
        self.edited.emit()

    def _pin_toggled(self, checked: bool) -> None:
        self.pin_box.setVisible(checked)
        # No fields to type into for who may not set a PIN: only what is set.
        for field in (self.pin, self.pin_confirm):
            field.setVisible(self._may_set_pin)
        if not self._may_set_pin:
            self.pin_note.setText("A PIN is set: signers must type it every time they use the key.")
        elif self.detail is not None and self.detail.row.has_pin:
            self.pin_note.setText(
                "A PIN is set. Type a new one to change it, or leave these empty to keep it."
            )
        else:
            self.pin_note.setText("Signers must type this PIN every time they use the key.")

    def changes(self) -> GeneralChanges:
        if self.detail is None:
            return GeneralChanges()
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

    def pin_problem(self) -> ValidationError | None:
        """What the two PIN fields get wrong between themselves; the service checks the
        PIN itself."""
        if not self.ask_pin.isChecked():
            return None
        if not self.detail.row.has_pin and not self.pin.text():
            return ValidationError("pin", "type the PIN signers will need")
        if self.pin.text() != self.pin_confirm.text():
            return ValidationError("pin", "the two PINs differ")
        return None

    def refuse(self, error: ValidationError) -> None:
        """The message under the field it concerns."""
        label = {
            "alias": self.alias_error,
            "owner": self.owner_error,
            "description": self.description_error,
            "pin": self.pin_error,
        }.get(error.field, self.alias_error)
        show_error(label, error)

    def clear_errors(self) -> None:
        for label in (self.alias_error, self.owner_error, self.description_error, self.pin_error):
            label.hide()
