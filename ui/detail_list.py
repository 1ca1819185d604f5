"""The rows that belong to the row selected in a page's list, shown under it: a group's
certificates, what a user may sign, a user group's members. A page declares one with
`ListPage.detail_list()`; the template puts it in a splitter under its table, follows the
selection and reads it again on the store events the page names (`detail_reload_on`).
"""

from collections.abc import Callable, Hashable, Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.errors import NotFoundError
from app.services.session import Session
from ui.list_page import list_table
from ui.rows_model import Column, RowsModel
from ui.tasks import Task


class DetailList(QWidget):
    """`read(session, key)` gives the rows of the selected row, off the GUI thread.
    `heading(row)` titles them, `empty(row)` says why there are none; `none_chosen` is
    the hint while nothing is selected, under `default_heading`; `model` one keying its
    rows otherwise than by their `id` (a user by name). Enter or a double-click
    on a row emits `opened(row)`. The page's own keys (Del, F2) do nothing here."""

    opened = Signal(object)

    def __init__(
        self,
        session: Session,
        columns: Sequence[Column],
        read: Callable[[Session, Hashable], Sequence],
        heading: Callable[[object], str],
        empty: Callable[[object], str],
        none_chosen: str,
        default_heading: str,
        parent: QWidget | None = None,
        model: RowsModel | None = None,
    ):
        super().__init__(parent)
        self._session = session
        self._read, self._heading, self._empty = read, heading, empty
        self._none_chosen, self._default_heading = none_chosen, default_heading
        self._generation = 0
        self.key: Hashable | None = None  # whose rows are shown
        self._row: object = None
        self._focus_first = False  # the first row becomes current once read
        self.model = model or RowsModel(columns)  # one of its own for rows keyed otherwise
        self.model.setParent(self)
        self.heading = QLabel(default_heading, self)
        self.table = list_table(self.model, (0, Qt.SortOrder.AscendingOrder), self)
        self.table.activated.connect(lambda index: self.opened.emit(self.model.row_at(index.row())))
        self.table.installEventFilter(self)
        self.table.set_empty_hint(none_chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in (
            Qt.Key.Key_Delete,
            Qt.Key.Key_F2,
        ):
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def show_for(self, key: Hashable | None, row: object = None) -> None:
        """Show the rows of `key` (the page's row `row`), or the hint for none chosen."""
        self.key, self._row = key, row
        self._generation += 1  # a read under way shows nothing now
        self.model.set_rows([])  # not the last one's rows under this one's heading
        if key is None:
            self.heading.setText(self._default_heading)
            self.table.set_empty_hint(self._none_chosen)
            return
        self.heading.setText(self._heading(row))
        self.table.set_empty_hint("Reading…")
        self.refresh()

    def set_row(self, row: object) -> None:
        """The page's row of the key shown, read again: the heading and the hint say
        what it says now (a user disabled)."""
        if self.key is None:
            return
        self._row = row
        self.heading.setText(self._heading(row))
        if not self.model.rowCount() and self.table.empty_hint != "Reading…":
            self.table.set_empty_hint(self._empty(row))

    def refresh(self, *_changed) -> Task | None:
        """Read the rows shown again (they stay until the new ones come)."""
        if self.key is None:
            return None
        self._generation += 1
        generation, key = self._generation, self.key
        return (
            Task(self, self._read, self._session, key)
            .on_done(lambda rows: self._show(rows) if generation == self._generation else None)
            .on_error(lambda _error: None, NotFoundError)  # gone: the page reloads
            .start()
        )

    def take_focus(self) -> None:
        """The first row becomes current, now or once the rows are read."""
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        self._focus_first = True
        self._make_current()

    def _make_current(self) -> None:
        if self._focus_first and self.model.rowCount():
            self._focus_first = False
            if not self.table.currentIndex().isValid():
                self.table.setCurrentIndex(self.model.index(0, 0))

    def _show(self, rows: Sequence) -> None:
        self.model.set_rows(rows)
        self._make_current()
        if not rows:
            self.table.set_empty_hint(self._empty(self._row))
