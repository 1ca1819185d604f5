"""The template every list page is built on: a rows model with column specifications
(ui.rows_model), a tool bar and a context menu built from the page's actions, each gated
by the service operation it runs (the operation registry says whether the signed-in user
may), a debounced search, an empty-state hint, loading through the background runner,
and reloading when the store events say that what the page shows changed.

A page declares its columns, its actions and how it loads; the template does the rest.
"""

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.services.operations import refusal
from app.services.session import Session
from ui.icons import icon
from ui.rows_model import RowsModel, RowsPart
from ui.store_events import events
from ui.tasks import Task

SEARCH_DELAY_MS = 150  # a search waits for a pause in the typing
NO_MATCH_HINT = "Nothing matches the search."


def counts_text(shown: int, total: int, noun: tuple[str, str]) -> str:
    """What the status bar says of a page: "3 certificate groups", "1 of 3 … shown"."""
    name = noun[0] if total == 1 else noun[1]
    return f"{total:,} {name}" if shown == total else f"{shown:,} of {total:,} {name} shown"


def page_toolbar(parent: QWidget) -> QToolBar:
    """The bar of a page's buttons, alike on every page: flat buttons, icon and text. It
    folds the actions it has no room for behind a » button, so that a page never forces
    the window wider than the screen."""
    bar = QToolBar(parent)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    bar.setIconSize(QSize(16, 16))
    return bar


class SearchBox(QLineEdit):
    """A page's search field: Escape clears it, and on an empty one goes back to the list."""

    def __init__(self, placeholder: str, back_to: QWidget, parent: QWidget):
        super().__init__(parent)
        self._back_to = back_to
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            if self.text():
                self.clear()
            else:
                self._back_to.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        super().keyPressEvent(event)


class HintedTable(QTableView):
    """The table of every page: rows of one fixed height (the view never measures
    100,000 of them), Tab and Shift+Tab leave it instead of walking its cells, and when it
    has no rows it says why (`empty_hint`) in the middle of its viewport, so that no
    widget takes its place and nothing around it moves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.empty_hint = ""
        self.setTabKeyNavigation(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.setShowGrid(False)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.horizontalHeader().setHighlightSections(False)

    def set_empty_hint(self, text: str) -> None:
        if text != self.empty_hint:
            self.empty_hint = text
            self.viewport().update()

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


def list_table(model: RowsModel, sort: tuple[int, Qt.SortOrder], parent: QWidget) -> HintedTable:
    """A page's read-only list: one row selected at a time, sortable, opening on `sort`."""
    table = HintedTable(parent)
    table.setModel(model)
    table.setSortingEnabled(True)
    table.sortByColumn(*sort)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    return table


@dataclass(frozen=True)
class PageAction:
    """One thing a page offers, in its tool bar and its context menu."""

    name: str  # the attribute the QAction is kept under, e.g. "delete_action"
    icon: str
    text: str
    slot: Callable[[], object]
    # The service operation it runs: the action is greyed out, with the reason, when the
    # signed-in user may not run it. None: anyone may (saving a CSR already read).
    operation: Callable | None = None
    needs_selection: bool = False
    shortcut: str | QKeySequence.StandardKey = ""
    default: bool = False  # what a double-click or Enter on a row does
    # Why the selected row refuses it ("That is you"), in words for the tooltip; None
    # when it does not. The operation checks again when it runs.
    row_refusal: Callable[[object], str | None] | None = None


class ReadsWhenShown:
    """Mixed into a page, before QWidget: `reload_when_shown()` re-reads now, or, for a
    page whose read is dear (`reads_when_shown`), once it is shown if it is hidden: a
    burst of changes costs one read, and the window's start none of those a user may
    never open (the Signing page decides every certificate's policies). The page
    implements `reload()`."""

    reads_when_shown = False
    _stale = False  # a change came while the page was hidden

    def reload_when_shown(self, *_changed) -> None:
        if self.reads_when_shown and self.isHidden():
            self._stale = True
        else:
            self.reload()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()


class ListPage(ReadsWhenShown, QWidget):
    """Subclasses set `title`, `icon_name`, `noun`, `empty_hint`, `search_hint`, `sort`
    and `reload_on` (store event names), and implement `load(session)` (run off the GUI
    thread) and `page_actions()`."""

    title = ""
    icon_name = ""
    noun = ("item", "items")
    empty_hint = ""
    search_hint = "Filter"
    reload_on: tuple[str, ...] = ()
    detail_reload_on: tuple[str, ...] = ()  # the store events its detail list reads again on
    sort = (0, Qt.SortOrder.AscendingOrder)  # the column and order a page opens with

    countsChanged = Signal(int, int)  # rows shown, rows in all
    # Asks the main window for another page: (page title, what to do, its argument).
    pageRequested = Signal(str, str, object)

    def __init__(self, session: Session, model: RowsModel, parent=None):
        super().__init__(parent)
        self._session = session
        self.model = model
        self._generation = 0  # of reload(): a slower, older read must not win
        self._select_next: Hashable | None = None
        self.loaded = False
        self.menu: QMenu | None = None  # the context menu last shown

        self.table = list_table(model, self.sort, self)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(lambda _index: self._run_default())
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        model.modelReset.connect(self._update_actions)
        model.layoutChanged.connect(self._update_actions)

        self._actions = list(self.page_actions())
        self._refusals: dict[str, str | None] = {}
        bar = page_toolbar(self)
        for spec in self._actions:
            action = QAction(icon(spec.icon), spec.text, self)
            action.triggered.connect(lambda _checked=False, s=spec: s.slot())
            if spec.shortcut:
                action.setShortcut(spec.shortcut)
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.addAction(action)
            setattr(self, spec.name, action)
            self._refusals[spec.name] = (
                refusal(session, spec.operation) if spec.operation is not None else None
            )
            bar.addAction(action)

        self.search = SearchBox(self.search_hint, self.table, self)
        self.search.setMaximumWidth(320)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())

        top = QHBoxLayout()
        top.addWidget(bar, 1)
        top.addWidget(self.search)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.addLayout(top)
        bar = self.filter_bar()
        if bar is not None:
            layout.addWidget(bar)
        layout.addWidget(self.table, 1)
        self.detail = self.detail_list()
        if self.detail is not None:
            self._place_detail(layout)
        self._show_state()
        for name in self.reload_on:
            getattr(events, name).connect(self.reload_when_shown)

    # -- what a page declares ---------------------------------------------------------

    def load(self, session: Session) -> Sequence:
        raise NotImplementedError

    def page_actions(self) -> Sequence[PageAction]:
        return ()

    def detail_list(self):
        """A ui.detail_list.DetailList of the selected row's own rows (a group's
        certificates), shown under the table; None for none."""
        return None

    def filter_bar(self) -> QWidget | None:
        """What the page narrows its rows by before they are read (the Audit Log's user,
        action, outcome and time), placed under the tool bar; None for none."""
        return None

    def shutdown(self) -> None:
        """The window is closing: stop long work (the window then waits for the workers,
        which use the session being closed)."""

    def handle(self, what: str, argument: object) -> None:
        """Another page asked for something of this one (through the main window)."""

    # -- the detail list ----------------------------------------------------------------

    def _place_detail(self, layout: QVBoxLayout) -> None:
        """The list above, its selected row's rows below, in a splitter that takes the
        table's place. A reload resets the list and selects the same row again at once:
        the detail follows the selection once it has settled, so it is not read twice."""
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setChildrenCollapsible(False)
        layout.insertWidget(layout.indexOf(self.table), self.splitter, 1)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setSizes([1, 1])  # halves, whatever the page's height
        self._follow = QTimer(self, singleShot=True, interval=0)
        self._follow.timeout.connect(self._follow_selection)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._follow.start())
        self.countsChanged.connect(self._show_detail)
        for name in self.detail_reload_on:
            getattr(events, name).connect(self.detail.refresh)

    def _follow_selection(self) -> None:
        selected = self.selected()
        key = None if selected is None else self.model.key_of(selected)
        if key != self.detail.key:
            self.detail.show_for(key, selected)
        else:
            self.detail.set_row(selected)  # the same row, read again: its words may change

    def _show_detail(self, *_counts) -> None:
        """With no rows at all there is nothing to detail: the list's hint ("No
        certificate groups yet") has the page to itself."""
        self.detail.setVisible(self.model.total_count() > 0)

    def focus_detail(self) -> None:
        """The detail of the selected row takes the focus (its first row current)."""
        selected = self.selected()
        if selected is None or self.detail is None:
            return
        self._follow.stop()
        key = self.model.key_of(selected)
        if key != self.detail.key:
            self.detail.show_for(key, selected)
        self.detail.take_focus()

    # -- loading ----------------------------------------------------------------------

    def reload(self, *_changed) -> Task:
        """Read the rows off the GUI thread; the selection is kept."""
        self._generation += 1
        generation = self._generation
        return (
            Task(self, self._read, self._session)
            .on_done(lambda rows: self._show(rows) if generation == self._generation else None)
            .start()
        )

    def _read(self, session: Session):
        """Off the GUI thread: the rows, with what the model keeps of them (their search
        text, RowsModel.part), so that showing 100,000 of them does not stall the window."""
        return self.model.part(self.load(session))

    def _show(self, rows: RowsPart) -> None:
        keep = self._select_next
        if keep is None:
            selected = self.selected()
            keep = None if selected is None else self.model.key_of(selected)
        asked, self._select_next = self._select_next is not None, None
        self.model.set_rows(rows)
        self.loaded = True
        if keep is not None:
            # A row asked for is shown even if the search hides it; the row that was
            # selected stays selected only while the search still shows it.
            self.select(keep, reveal=asked)
        if self.detail is not None:
            self._follow.start()  # a row gone (deleted) leaves no selection to follow
        self._show_state()

    def select_after_reload(self, key: Hashable) -> None:
        self._select_next = key

    # -- selection, search, state -------------------------------------------------------

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select(self, key: Hashable, reveal: bool = True) -> bool:
        """Select the row of `key`; one the search hides is shown by clearing the search
        (`reveal`), or else left unselected."""
        row = self.model.visible_row_of(key)
        if row is None and reveal and self.search.text() and self.model.row_by_key(key) is not None:
            self.search.clear()
            self.apply_search()
            row = self.model.visible_row_of(key)
        if row is None:
            self.table.clearSelection()
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def apply_search(self) -> None:
        """The search applied now; the selected row stays selected while it matches."""
        self._search_timer.stop()
        selected = self.selected()
        self.model.set_query(self.search.text())
        if selected is not None:
            row = self.model.visible_row_of(self.model.key_of(selected))
            if row is not None:
                self.table.selectRow(row)
        self._show_state()

    def _show_state(self) -> None:
        total, shown = self.model.total_count(), self.model.rowCount()
        if total:
            self.table.set_empty_hint(NO_MATCH_HINT)
        else:
            self.table.set_empty_hint(self.empty_hint if self.loaded else "")
        self._update_actions()
        self.countsChanged.emit(shown, total)

    def counts_text(self) -> str:
        if not self.loaded:  # a page that reads when first shown says so, not "0"
            return f"Reading {self.noun[1]}…"
        return counts_text(self.model.rowCount(), self.model.total_count(), self.noun)

    def _update_actions(self, *_args) -> None:
        selected = self.selected()
        for spec in self._actions:
            action = getattr(self, spec.name)
            reason = self._refusals[spec.name]
            if reason is None and selected is not None and spec.row_refusal is not None:
                reason = spec.row_refusal(selected)
            if reason is None and selected is None and spec.needs_selection:
                action.setEnabled(False)
                action.setToolTip(f"Select a {self.noun[0]} first.")
                continue
            action.setEnabled(reason is None)
            action.setToolTip(reason or spec.text.rstrip("…"))

    def _run_default(self) -> None:
        for spec in self._actions:
            action = getattr(self, spec.name)
            if spec.default and action.isEnabled():
                action.trigger()
                return

    def _context_menu(self, position) -> None:
        index = self.table.indexAt(position)
        if index.isValid():
            self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for spec in self._actions:
            menu.addAction(getattr(self, spec.name))
        menu.popup(self.table.viewport().mapToGlobal(position))
        self.menu = menu

    # -- changes --------------------------------------------------------------------------

    def write(
        self, operation: Callable, *args, on_done=None, on_error=None, select=None, **changes
    ) -> Task:
        """Run a change on the writer thread; the store events it announces (`changes`,
        as for Task.changes) make every page showing it reload. `select` is the key of
        the row to select once the rows are read again, once the change is done (a read
        under way before it does not take it). A failure not handled by `on_error` gets
        the runner's message box."""

        def done(result) -> None:
            if select is not None:
                self.select_after_reload(select)
            if on_done is not None:
                on_done(result)

        task = Task(self, operation, self._session, *args).writes().changes(**changes)
        task.on_done(done)
        if on_error is not None:
            task.on_error(on_error)
        return task.start()
