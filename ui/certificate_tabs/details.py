"""Details: what the certificate says — subject, issuer, serial, thumbprints, validity,
key, usages and its chain in this store."""

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QScrollArea, QToolButton, QWidget

from app.crypto.details import NamePart, validity_text
from app.services.certificates import CertificateDetail
from ui.certificate_tabs.common import mono, selectable

KEY_USAGE_OID = "2.5.29.15"
EXTENDED_KEY_USAGE_OID = "2.5.29.37"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


class DetailsTab(QScrollArea):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def show_detail(self, detail: CertificateDetail) -> None:
        """A new page each time: the number of subject and issuer rows varies."""
        details, row = detail.details, detail.row
        now = dt.datetime.now(dt.UTC)
        page = QWidget(self)
        form = QFormLayout(page)
        form.addRow(_heading("Subject", page))
        _name_rows(form, details.subject, page)
        form.addRow(_heading("Issuer", page))
        _name_rows(form, details.issuer, page)
        form.addRow(_heading("Certificate", page))
        form.addRow("Serial number:", mono(details.serial, page))
        form.addRow("SHA-1 thumbprint:", _copyable(details.sha1, "sha1", page))
        form.addRow("SHA-256 thumbprint:", _copyable(details.sha256, "sha256", page))
        form.addRow("Valid from:", selectable(details.not_before.strftime(TIME_FORMAT), page))
        form.addRow(
            "Valid to:",
            selectable(
                f"{details.not_after.strftime(TIME_FORMAT)}  "
                f"({validity_text(details.not_after, now)})",
                page,
            ),
        )
        form.addRow("Public key:", selectable(details.public_key, page))
        form.addRow("Signature algorithm:", selectable(details.signature_algorithm, page))
        form.addRow("Version:", selectable(details.version, page))
        form.addRow("Key usage:", selectable(_extension_value(detail, KEY_USAGE_OID), page))
        form.addRow(
            "Extended key usage:",
            selectable(_extension_value(detail, EXTENDED_KEY_USAGE_OID), page),
        )
        form.addRow(
            "Private key:",
            selectable(
                "Held in this store (sealed)" if row.has_private_key else "Not in this store", page
            ),
        )
        form.addRow("Chain:", selectable(_chain_text(detail), page))
        old = self.takeWidget()
        self.setWidget(page)
        if old is not None:
            old.deleteLater()


def _copyable(text: str, name: str, parent: QWidget) -> QWidget:
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    # 32 bytes of colon hex do not fit beside the labels: two lines of 16.
    shown = text if len(text) <= 60 else f"{text[:48]}\n{text[48:]}"
    row.addWidget(mono(shown, box), 1)
    button = QToolButton(box)
    button.setText("Copy")
    button.setObjectName(f"copy_{name}")
    button.setToolTip("Copy to the clipboard")
    button.clicked.connect(lambda: QGuiApplication.clipboard().setText(text))
    row.addWidget(button)
    return box


def _extension_value(detail: CertificateDetail, oid: str) -> str:
    for ext in detail.extensions:
        if ext.oid == oid:
            return ext.value + ("  (critical)" if ext.critical else "")
    return "—"


def _chain_text(detail: CertificateDetail) -> str:
    if detail.details.self_issued:
        return "Self-issued: it is its own issuer."
    if not detail.chain:
        return "The issuer is not in this store."
    return "  →  ".join((detail.row.alias, *detail.chain))


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(f"<b>{text}</b>", parent)
    label.setContentsMargins(0, 8, 0, 0)
    return label


def _name_rows(form: QFormLayout, parts: tuple[NamePart, ...], parent: QWidget) -> None:
    if not parts:
        form.addRow("", selectable("(empty)", parent))
    for part in parts:
        widget = selectable(part.value, parent)
        widget.setToolTip(part.oid)
        form.addRow(f"{part.label}:", widget)
