"""Noticing what others change in the open store (a `certdesk` command, a second
window), so that the pages show it without a restart.

Every POLL_MS a short read on the runner (`store_changes.changes_since`) asks the audit
journal what was written since the last event seen, leaving out what this window wrote
itself (its own tasks announced that already), and announces it through
ui.store_events: each page then refreshes as it does after the window's own writes.

A reload of the certificates keeps the place in the table (`kept_place`): the row at
the top, the selected rows and the current one, as the model keeps the checks.
"""

from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, QTimer
from PySide6.QtWidgets import QAbstractItemView, QTableView

from app.errors import StoreBusyError
from app.services import store_changes
from app.services.operations import allowed
from app.services.session import Session
from ui.dialogs import show_failure
from ui.rows_model import RowsModel, runs
from ui.store_events import ALL, events
from ui.tasks import Task

POLL_MS = 2000


class StoreWatch(QObject):
    """Polls while its window is open; `stop()` when it closes. A poll is skipped while
    the one before it is still running."""

    def __init__(self, session: Session, parent: QObject):
        super().__init__(parent)
        self._session = session
        self._polling = False
        self.last_event: int | None = None  # the last event of the journal looked at
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)
        if allowed(session, store_changes.changes_since):
            # On the GUI thread, one read of the last id: before the pages' first reads,
            # so that nothing written between those and the first poll is missed.
            self.last_event = store_changes.watch(session)
            self._timer.start()

    @property
    def watching(self) -> bool:
        return self._timer.isActive()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> Task | None:
        if self._polling or not self.watching:
            return None
        self._polling = True
        return (
            Task(self, store_changes.changes_since, self._session, self.last_event)
            .changes(
                certificates=lambda c: ALL if c.certificates is None else c.certificates,
                groups=lambda c: c.groups,
                requests=lambda c: c.requests,
                access=lambda c: c.access,
            )
            .on_done(self._looked)
            .on_error(self._failed)
            .always(self._ended)
            .start()
        )

    def _looked(self, changes: store_changes.Changes) -> None:
        grew = changes.last_event != self.last_event
        self.last_event = changes.last_event
        if grew:
            events.audit_changed.emit()

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, StoreBusyError):
            return  # the next poll asks again
        self.stop()  # one box, not one every POLL_MS
        show_failure(self.parent(), error)

    def _ended(self) -> None:
        self._polling = False


@contextmanager
def kept_place(table: QTableView) -> Iterator[None]:
    """Around replacing the rows of `table`'s RowsModel (a reload): the row at the top,
    the selected rows and the current one stay, found again by their keys, as the model
    keeps the checked ones. (Not around a search: its results show from their top.)"""
    model: RowsModel = table.model()
    top = _key(model, table.rowAt(0))
    selected = _selected_keys(table)
    current = table.currentIndex()
    current_key, current_column = _key(model, current.row()), current.column()
    yield
    selection = QItemSelection()
    last = model.columnCount() - 1
    for first, end in runs(model.visible_rows_of(selected)):
        selection.select(model.index(first, 0), model.index(end, last))
    flags = QItemSelectionModel.SelectionFlag
    for row in model.visible_rows_of([current_key]):
        table.selectionModel().setCurrentIndex(model.index(row, current_column), flags.NoUpdate)
    table.selectionModel().select(selection, flags.ClearAndSelect)
    for row in model.visible_rows_of([top]):
        table.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)


def _key(model: RowsModel, row: int) -> Hashable | None:
    return model.key_of(model.row_at(row)) if 0 <= row < model.rowCount() else None


def _selected_keys(table: QTableView) -> list[Hashable]:
    """The keys of the selected rows, read range by range: a Shift-click over 40,000 rows
    is one range, not 40,000 indexes."""
    model: RowsModel = table.model()
    rows = (
        row
        for span in table.selectionModel().selection()
        for row in range(span.top(), span.bottom() + 1)
    )
    return [model.key_of(model.row_at(row)) for row in sorted(set(rows))]
