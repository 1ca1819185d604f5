"""The model every list page shows: plain rows (the services' frozen dataclasses) in
Python lists, described by column specifications.

Filtering and sorting are done here over the list (a comprehension, `sorted()` with a
cached key): a QSortFilterProxyModel calling back into Python per comparison is ~80×
slower at 100,000 rows. Per column, the row indices in ascending order are computed once
and kept until the rows change, so that a sort or a filter is a walk over a list.
`data()` formats stored values; it never parses or queries.
"""

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

Row = Any
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


@dataclass(frozen=True)
class Column:
    """One column: its title and how a row shows, sorts and explains itself in it."""

    title: str
    display: Callable[[Row], str | None] = lambda row: None
    # None: the column does not sort (a checkbox, an actions button).
    sort_key: Callable[[Row], Any] | None = None
    tooltip: Callable[[Row], str | None] | None = None
    decoration: Callable[[Row], Any] | None = None
    align_right: bool = False
    checkable: bool = False  # the column of the row's checkbox
    header: str = ""  # a shorter title for the header, which then tips the full one


class RowsModel(QAbstractTableModel):
    """Rows with a key (`key_of`), a search over each row's haystack, an optional extra
    filter (`row_filter`), sorting by any sortable column, and checked keys that survive
    sorting. A row the search or the filter hides leaves the checks: what is checked is
    always in view, so an action on the checked rows never reaches one nobody sees."""

    ROW_ROLE = Qt.ItemDataRole.UserRole + 1
    # Removing more separate runs of rows than this resets the model instead: each
    # beginRemoveRows walks the view's persistent indexes.
    MAX_REMOVE_RUNS = 64

    checkedChanged = Signal(int)  # how many rows are checked

    def __init__(self, columns: Sequence[Column], parent=None):
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: list[Row] = []
        self._haystacks: list[str] = []
        self._visible: list[int] = []  # indices into _rows, filtered and sorted
        self._position: dict[Hashable, int] = {}  # key -> index into _rows
        self._checked: set[Hashable] = set()
        self._orders: dict[int, list[int]] = {}
        self._query = ""
        self._row_filter: Callable[[Row], bool] | None = None
        self._sort_column = 0
        self._sort_order = Qt.SortOrder.AscendingOrder

    # -- what a page's model says about its rows ------------------------------------

    def key_of(self, row: Row) -> Hashable:
        return row.id

    def haystack(self, row: Row) -> str:
        """The text the search looks in, lower-cased."""
        shown = (column.display(row) for column in self.columns)
        return "\n".join(text for text in shown if text).casefold()

    def tie_key(self, row: Row) -> Any:
        """What orders rows whose sort values are equal, so that the order is stable."""
        return self.key_of(row)

    def background(self, row: Row) -> Any:
        return None

    def prepare(self) -> None:
        """Called before the rows are (re)computed, e.g. to take the time once."""

    # -- contents -------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self.prepare()
        self._rows = list(rows)
        self._haystacks = [self.haystack(r) for r in self._rows]
        self._position = {self.key_of(r): i for i, r in enumerate(self._rows)}
        self._orders.clear()
        self._visible = self._filtered_sorted()
        self._checked &= self._position.keys()
        self._drop_hidden_checks()
        self.endResetModel()
        self.checkedChanged.emit(len(self._checked))

    def update_rows(self, rows: Sequence[Row]) -> None:
        """New values for rows already shown; they keep their place until the next sort
        or filter, so that the row the user acted on does not jump away."""
        changed = []
        for row in rows:
            i = self._position.get(self.key_of(row))
            if i is None:
                continue
            self._rows[i] = row
            self._haystacks[i] = self.haystack(row)
            changed.append(i)
        if not changed:
            return
        self._orders.clear()  # rebuilt at the next sort; the rows stay where they are
        where = {i: n for n, i in enumerate(self._visible)}
        shown = sorted(where[i] for i in changed if i in where)
        last = self.columnCount() - 1
        for first, end in runs(shown):
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def remove_keys(self, keys: Sequence[Hashable]) -> None:
        """Drop rows that are gone, keeping the rest of the view (selection, scroll)."""
        gone = {self._position[k] for k in keys if k in self._position}
        if not gone:
            return
        shown = [n for n, i in enumerate(self._visible) if i in gone]
        spans = list(runs(shown))
        reset = len(spans) > self.MAX_REMOVE_RUNS
        if reset:
            self.beginResetModel()
        for first, end in reversed([] if reset else spans):
            self.beginRemoveRows(QModelIndex(), first, end)
            del self._visible[first : end + 1]
            self.endRemoveRows()
        keep = [i for i in range(len(self._rows)) if i not in gone]
        renumber = {old: new for new, old in enumerate(keep)}
        self._rows = [self._rows[i] for i in keep]
        self._haystacks = [self._haystacks[i] for i in keep]
        self._orders = {
            c: [renumber[i] for i in order if i in renumber] for c, order in self._orders.items()
        }
        self._position = {self.key_of(r): n for n, r in enumerate(self._rows)}
        self._visible = [renumber[i] for i in self._visible if i in renumber]
        if reset:
            self.endResetModel()
        before = len(self._checked)
        self._checked.difference_update(keys)
        if len(self._checked) != before:
            self.checkedChanged.emit(len(self._checked))

    def total_count(self) -> int:
        return len(self._rows)

    def row_at(self, row: int) -> Row:
        return self._rows[self._visible[row]]

    def row_by_key(self, key: Hashable) -> Row | None:
        i = self._position.get(key)
        return None if i is None else self._rows[i]

    def visible_row_of(self, key: Hashable) -> int | None:
        i = self._position.get(key)
        if i is None:
            return None
        try:
            return self._visible.index(i)
        except ValueError:
            return None

    def visible_rows_of(self, keys: Iterable[Hashable]) -> list[int]:
        """The visible rows of those keys still shown, ascending: one walk over the view
        however many keys (`visible_row_of` per key would be quadratic)."""
        wanted = {self._position[k] for k in keys if k in self._position}
        return [n for n, i in enumerate(self._visible) if i in wanted] if wanted else []

    # -- checks ---------------------------------------------------------------------

    def checked_keys(self) -> list[Hashable]:
        """Checked rows in the order shown."""
        if not self._checked:
            return []
        checked, rows = self._checked, self._rows
        return [key for key in (self.key_of(rows[i]) for i in self._visible) if key in checked]

    def checked_rows(self) -> list[Row]:
        return [self._rows[self._position[k]] for k in self.checked_keys()]

    def set_checked(self, keys: Sequence[Hashable], checked: bool) -> None:
        if checked:
            self._checked.update(k for k in keys if k in self._position)
        else:
            self._checked.difference_update(keys)
        self._checks_changed()

    def toggle_checked(self, visible_row: int) -> None:
        key = self.key_of(self.row_at(visible_row))
        self.set_checked([key], key not in self._checked)

    def check_visible(self, checked: bool) -> None:
        """The header checkbox: all rows the search and filter show, and only those."""
        keys = [self.key_of(self._rows[i]) for i in self._visible]
        if checked:
            self._checked.update(keys)
        else:
            self._checked.difference_update(keys)
        self._checks_changed()

    def visible_check_state(self) -> Qt.CheckState:
        if not self._visible or not self._checked:
            return Qt.CheckState.Unchecked
        checked, rows = self._checked, self._rows
        count = sum(1 for i in self._visible if self.key_of(rows[i]) in checked)
        if count == 0:
            return Qt.CheckState.Unchecked
        if count == len(self._visible):
            return Qt.CheckState.Checked
        return Qt.CheckState.PartiallyChecked

    def _checks_changed(self) -> None:
        column = self._check_column()
        if self._visible and column is not None:
            self.dataChanged.emit(
                self.index(0, column),
                self.index(len(self._visible) - 1, column),
                [Qt.ItemDataRole.CheckStateRole],
            )
        self.checkedChanged.emit(len(self._checked))

    def _drop_hidden_checks(self) -> bool:
        """Uncheck the rows not in view; says whether there were any."""
        if not self._checked:
            return False
        shown = set(self._visible)
        hidden = {k for k in self._checked if self._position[k] not in shown}
        self._checked -= hidden
        return bool(hidden)

    def _check_column(self) -> int | None:
        return next((n for n, c in enumerate(self.columns) if c.checkable), None)

    # -- search, filter, sort ---------------------------------------------------------

    def set_query(self, query: str) -> None:
        self._refilter(query.strip().casefold(), self._row_filter)

    def set_row_filter(self, keep: Callable[[Row], bool] | None) -> None:
        self._refilter(self._query, keep)

    def _refilter(self, query: str, keep: Callable[[Row], bool] | None) -> None:
        if (query, keep) == (self._query, self._row_filter):
            return
        self.beginResetModel()
        self._query, self._row_filter = query, keep
        self.prepare()
        self._visible = self._filtered_sorted()
        unchecked = self._drop_hidden_checks()
        self.endResetModel()
        if unchecked:
            self.checkedChanged.emit(len(self._checked))

    def _filtered_sorted(self) -> list[int]:
        keep = self._row_filter
        query, hay, rows = self._query, self._haystacks, self._rows
        order = self._order(self._sort_column)
        if query or keep:
            visible = [
                i
                for i in order
                if (not query or query in hay[i]) and (keep is None or keep(rows[i]))
            ]
        else:
            visible = list(order)
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            visible.reverse()
        return visible

    def _order(self, column: int) -> list[int]:
        if column not in self._orders:
            sort_key = self.columns[column].sort_key or (lambda row: 0)
            tie = self.tie_key
            keys = [(sort_key(r), tie(r)) for r in self._rows]
            self._orders[column] = sorted(range(len(keys)), key=keys.__getitem__)
        return self._orders[column]

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if self.columns[column].sort_key is None:
            return
        self.layoutAboutToBeChanged.emit()
        self._sort_column, self._sort_order = column, order
        self._visible = self._filtered_sorted()
        self.layoutChanged.emit()

    # -- Qt model interface -----------------------------------------------------------

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._visible)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header or column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.header:
            return column.title
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[self._visible[index.row()]]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(row)
        if role == self.ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.CheckStateRole and column.checkable:
            checked = self.key_of(row) in self._checked
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.DecorationRole and column.decoration:
            return column.decoration(row)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.background(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return RIGHT
        return None

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not self.columns[index.column()].checkable:
            return False
        if role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.set_checked([self.key_of(self.row_at(index.row()))], checked)
        return True

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and self.columns[index.column()].checkable:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags


def runs(positions: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Sorted positions as (first, last) runs of consecutive numbers."""
    start = previous = None
    for p in positions:
        if start is None:
            start = previous = p
        elif p == previous + 1:
            previous = p
        else:
            yield start, previous
            start = previous = p
    if start is not None:
        yield start, previous
