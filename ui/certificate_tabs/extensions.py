"""X.509 Attributes: every extension with its whole value, and the PEM."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.certificates import CertificateDetail
from ui.fonts import monospace


class ExtensionsTab(QSplitter):
    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.extensions = QTreeWidget(self)
        self.extensions.setHeaderLabels(["Extension", "OID", "Critical", "Value"])
        self.extensions.setRootIsDecorated(False)
        self.extensions.setColumnWidth(0, 270)
        self.extensions.setColumnWidth(1, 160)
        self.extensions.setColumnWidth(2, 60)
        self.extensions.currentItemChanged.connect(self._show_extension)

        self.extension_value = QPlainTextEdit(self)
        self.extension_value.setReadOnly(True)
        self.extension_value.setFont(monospace())
        self.extension_value.setPlaceholderText("Select an extension to read its whole value.")

        pem_box = QWidget(self)
        self.pem = QPlainTextEdit(pem_box)
        self.pem.setReadOnly(True)
        self.pem.setFont(monospace())
        self.copy_pem = QPushButton("Copy PEM", pem_box)
        self.copy_pem.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.pem.toPlainText())
        )
        pem_layout = QVBoxLayout(pem_box)
        pem_layout.setContentsMargins(0, 0, 0, 0)
        pem_layout.addWidget(self.pem)
        pem_layout.addWidget(self.copy_pem, 0, Qt.AlignmentFlag.AlignRight)

        self.addWidget(self.extensions)
        self.addWidget(self.extension_value)
        self.addWidget(pem_box)
        self.setSizes([240, 120, 160])

    def show_detail(self, detail: CertificateDetail) -> None:
        """The extensions again; the one being read stays selected after a save."""
        current = self.extensions.currentItem()
        keep = current.text(1) if current is not None else None
        self.extensions.clear()
        for ext in detail.extensions:
            first = ext.value.splitlines()[0] if ext.value else ""
            more = " …" if "\n" in ext.value else ""
            critical = "yes" if ext.critical else "no"
            item = QTreeWidgetItem([ext.name, ext.oid, critical, first + more])
            item.setData(0, Qt.ItemDataRole.UserRole, ext.value)
            item.setToolTip(0, ext.name)
            self.extensions.addTopLevelItem(item)
            if ext.oid == keep:
                self.extensions.setCurrentItem(item)
        if not detail.extensions:
            empty = QTreeWidgetItem(["No extensions (an X.509 version 1 certificate has none)"])
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.extensions.addTopLevelItem(empty)
            self.extensions.setFirstColumnSpanned(0, self.extensions.rootIndex(), True)
        elif self.extensions.currentItem() is None:
            self.extensions.setCurrentItem(self.extensions.topLevelItem(0))
        self.pem.setPlainText(detail.pem)

    def _show_extension(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        value = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else ""
        self.extension_value.setPlainText(value or "")
