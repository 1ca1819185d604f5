"""The certificates table: a checkbox column with a tri-state header, the ⋯ actions
column, the header's menu of columns to show, the context menu, files dropped on it, and
the page template's fixed rows and hint when empty (ui.list_page.HintedTable)."""

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QStyle, QStyleOptionViewItem

from ui.actions_delegate import ActionsDelegate
from ui.certificates_model import CertificatesModel
from ui.check_header import CheckHeader
from ui.list_page import HintedTable
from ui.status_delegate import StatusDelegate

M = CertificatesModel
# Samples of the common widest values, so that the default widths follow the font; at
# 1024 pixels the default columns all fit up to an 11 pt font, and what is wider is cut
# with its tooltip.
SAMPLES = {
    M.COL_USAGE: "99999",
    M.COL_LAST_USE: "2026-11-11 13:31",
    M.COL_GROUPS: "Release",
    M.COL_POLICIES: "Release",
    M.COL_SUBJECT: "CN=Example Release Signing, O=Example",
    M.COL_ISSUER: "CN=Example Issuing CA, O=Example",
    M.COL_SERIAL: "4F:1A:00:00:00:00:00:00:9C",
    M.COL_KEY: "RSA 4096",
    M.COL_VALID_FROM: "2026-11-11",
}
# The widest Valid To texts: with the icon of an expiring or expired row, or without.
VALID_TO_DECORATED = ("2026-11-11 (28 days left)", "2026-11-11 (expired)")
VALID_TO_PLAIN = ("2026-11-11 (not yet valid)",)
NAME_SAMPLE = "Build Agent"  # the least the Name column is given
TITLE_ROOM = 14  # a header section's margins


class CertificatesTable(HintedTable):
    filesDropped = Signal(list)
    menuRequested = Signal(int, QPoint)  # visible row, global position for the menu
    openRequested = Signal(int)  # visible row: show the certificate's window
    deleteRequested = Signal()

    def __init__(self, model: CertificatesModel, parent=None):
        super().__init__(parent)
        self.setHorizontalHeader(CheckHeader(M.COL_CHECK, M.UNSORTABLE, self))
        self.setModel(model)
        self.empty_hint = "Loading certificates…"
        self.columns_menu: QMenu | None = None  # the header's menu last shown
        self.setItemDelegateForColumn(M.COL_STATUS, StatusDelegate(self))
        self.actions_delegate = ActionsDelegate(self)
        self.actions_delegate.clicked.connect(self._actions_clicked)
        self.setItemDelegateForColumn(M.COL_ACTIONS, self.actions_delegate)
        self.setMouseTracking(True)  # the ⋯ button lights up under the pointer
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.doubleClicked.connect(self._double_clicked)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSortingEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSortIndicator(M.COL_NAME, Qt.SortOrder.AscendingOrder)
        for column in M.UNSORTABLE:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        widths = self._default_widths()
        # The default least size grows with the font: the checkbox column would too.
        header.setMinimumSectionSize(min(header.minimumSectionSize(), widths[M.COL_CHECK]))
        for column, width in widths.items():
            header.resizeSection(column, width)
        for column in M.OPTIONAL:
            header.hideSection(column)
        self._name_min = self._cell_width(NAME_SAMPLE, decorated=True)
        header.sectionResized.connect(self._other_resized)
        # After the header's own handler (connected by setModel), which lays every section
        # out again, hidden ones shown and hidden, and meanwhile reports a length that
        # lags behind the sizes: fitted in between, Name grew to twice a narrow viewport.
        model.layoutChanged.connect(self._fit_name)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        header.checkClicked.connect(self._header_check_clicked)
        model.checkedChanged.connect(self._sync_header_check)
        model.modelReset.connect(self._sync_header_check)

    # Columns: widths from the font, Name takes the room the others leave; the header's
    # menu shows and hides them (the header's saved state keeps which).

    def _default_widths(self) -> dict[int, int]:
        indicator = self.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        widths = {
            M.COL_CHECK: indicator + 12,
            M.COL_STATUS: StatusDelegate.WIDTH,
            M.COL_ACTIONS: ActionsDelegate.WIDTH,
        }
        for column, sample in SAMPLES.items():
            widths[column] = self._cell_width(sample)
        widths[M.COL_VALID_TO] = max(
            *(self._cell_width(text, decorated=True) for text in VALID_TO_DECORATED),
            *(self._cell_width(text) for text in VALID_TO_PLAIN),
        )
        title = self.horizontalHeader().fontMetrics().horizontalAdvance
        shown = self.model().headerData
        for column in range(M.COL_STATUS, M.COL_ACTIONS):  # the titles fit, unsorted
            text = shown(column, Qt.Orientation.Horizontal)
            widths[column] = max(widths.get(column, 0), title(text) + TITLE_ROOM)
        return widths

    def _cell_width(self, text: str, decorated: bool = False) -> int:
        """The width the style gives a cell of `text` (and an icon): its margins exactly,
        not a guess that grows with the font."""
        option = QStyleOptionViewItem()
        option.initFrom(self)
        option.font = self.font()
        option.text = text
        features = QStyleOptionViewItem.ViewItemFeature.HasDisplay
        if decorated:
            features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
            small = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
            shown = self.iconSize()  # invalid unless set: the views then use the small size
            option.decorationSize = shown if shown.isValid() else QSize(small, small)
        option.features = features
        item = QStyle.ContentsType.CT_ItemViewItem
        return self.style().sizeFromContents(item, option, QSize(), self).width()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)  # the viewport's size, as for every scroll area
        self._fit_name()

    def _other_resized(self, column: int, _old: int, _new: int) -> None:
        if column != M.COL_NAME:  # a column resized, shown or hidden
            self._fit_name()

    def _fit_name(self) -> None:
        header = self.horizontalHeader()
        others = header.length() - header.sectionSize(M.COL_NAME)
        header.resizeSection(M.COL_NAME, max(self._name_min, self.viewport().width() - others))

    def build_columns_menu(self) -> QMenu:
        """A checkable entry per column, in the order shown; Name is always shown."""
        header = self.horizontalHeader()
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for visual in range(header.count()):
            column = header.logicalIndex(visual)
            title = M.HEADERS[column]
            if not title:  # the checkbox and ⋯ columns
                continue
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda shown, c=column: header.setSectionHidden(c, not shown))
            if column == M.COL_NAME:
                action.setEnabled(False)
                action.setToolTip("The name is always shown.")
        return menu

    def _header_menu(self, position: QPoint) -> None:
        if self.columns_menu is not None:
            self.columns_menu.deleteLater()
        self.columns_menu = self.build_columns_menu()
        self.columns_menu.popup(self.horizontalHeader().mapToGlobal(position))

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
        elif event.key() == Qt.Key.Key_Escape and model.checked_ids():
            model.set_checked(model.checked_ids(), False)
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
