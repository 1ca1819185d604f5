"""The certificates QTableView: fixed row height, a checkbox column with a tri-state
header, the ⋯ actions column, the context menu, files dropped on it, a hint when empty."""

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QPainter
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ui.actions_delegate import ActionsDelegate
from ui.certificates_model import CertificatesModel
from ui.check_header import CheckHeader
from ui.status_delegate import StatusDelegate

M = CertificatesModel


class CertificatesTable(QTableView):
    filesDropped = Signal(list)
    menuRequested = Signal(int, QPoint)  # visible row, global position for the menu
    openRequested = Signal(int)  # visible row: show the certificate's window
    deleteRequested = Signal()

    def __init__(self, model: CertificatesModel, parent=None):
        super().__init__(parent)
        self.setHorizontalHeader(CheckHeader(M.COL_CHECK, M.UNSORTABLE, self))
        self.setModel(model)
        self.empty_hint = "Loading certificates…"
        self.setItemDelegateForColumn(M.COL_STATUS, StatusDelegate(self))
        self.actions_delegate = ActionsDelegate(self)
        self.actions_delegate.clicked.connect(self._actions_clicked)
        self.setItemDelegateForColumn(M.COL_ACTIONS, self.actions_delegate)
        self.setMouseTracking(True)  # the ⋯ button lights up under the pointer
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.doubleClicked.connect(self._double_clicked)
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
        header.setStretchLastSection(False)
        header.setSortIndicator(M.COL_NAME, Qt.SortOrder.AscendingOrder)
        header.setSectionResizeMode(M.COL_VALID_TO, QHeaderView.ResizeMode.Stretch)
        for column in M.UNSORTABLE:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        widths = (32, 250, 100, 90, 128, 130, 120, 200, 40)  # fits a 1280-pixel window
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        header.checkClicked.connect(self._header_check_clicked)
        model.checkedChanged.connect(self._sync_header_check)
        model.modelReset.connect(self._sync_header_check)

    # Checks: the header box, Space, Ctrl+A; the model keeps which rows are checked.

    def _header_check_clicked(self) -> None:
        model: CertificatesModel = self.model()
        model.check_visible(model.visible_check_state() != Qt.CheckState.Checked)

    def _sync_header_check(self, *_args) -> None:
        self.horizontalHeader().set_check_state(self.model().visible_check_state())

    def keyPressEvent(self, event) -> None:
        model: CertificatesModel = self.model()
        current = self.currentIndex()
        if event.key() == Qt.Key.Key_Space and current.isValid():
            model.toggle_checked(current.row())
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            model.check_visible(True)
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and current.isValid():
            self.openRequested.emit(current.row())
        elif event.key() == Qt.Key.Key_Delete:
            self.deleteRequested.emit()
        elif event.key() == Qt.Key.Key_Menu and current.isValid():
            rect = self.visualRect(current)
            self.menuRequested.emit(current.row(), self.viewport().mapToGlobal(rect.bottomLeft()))
        else:
            super().keyPressEvent(event)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() not in M.UNSORTABLE:  # those columns have clicks of their own
            self.openRequested.emit(index.row())

    # The quick-action menu: the ⋯ button and right-click open the same one.

    def _actions_clicked(self, index: QModelIndex, rect) -> None:
        self.setCurrentIndex(index)
        self.menuRequested.emit(index.row(), self.viewport().mapToGlobal(rect.bottomLeft()))

    def _context_menu(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        if index.isValid():
            if not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
                self.setCurrentIndex(index)
            self.menuRequested.emit(index.row(), self.viewport().mapToGlobal(pos))

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
