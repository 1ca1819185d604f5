"""The certificates QTableView: fixed row height, files dropped on it, a hint when empty."""

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ui.certificates_model import CertificatesModel
from ui.status_delegate import StatusDelegate


class CertificatesTable(QTableView):
    filesDropped = Signal(list)

    def __init__(self, model: CertificatesModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.empty_hint = "Loading certificates…"
        self.setItemDelegateForColumn(CertificatesModel.COL_STATUS, StatusDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSortingEnabled(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSortIndicator(CertificatesModel.COL_NAME, Qt.SortOrder.AscendingOrder)
        widths = (300, 112, 96, 140, 180, 160, 190)
        for column, width in enumerate(widths):
            header.resizeSection(column, width)

    # Drops: local files only; folders and everything else are refused at the door.

    def _local_files(self, event) -> list[str]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [
            u.toLocalFile() for u in urls if u.isLocalFile() and Path(u.toLocalFile()).is_file()
        ]

    def dragEnterEvent(self, event) -> None:
        if self._local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if self._local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        files = self._local_files(event)
        if files:
            event.acceptProposedAction()
            self.filesDropped.emit(files)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.model().rowCount() == 0 and self.empty_hint:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            rect = self.viewport().rect().adjusted(24, 24, -24, -24)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_hint
            )
            painter.end()
