"""The model every list page shows: plain rows (the services' frozen dataclasses) in
Python lists, described by column specifications.

Filtering and sorting are done here over the list (a comprehension, `sorted()` with a
cached key): a QSortFilterProxyModel calling back into Python per comparison is ~80×
slower at 100,000 rows. Each sortable column keeps one scalar key per row (built once,
extended as rows arrive, updated for changed rows), and a sort is one stable `sorted()`
of the tie order by `keys.__getitem__` (of the row numbers, where the keys all differ):
no Python call per comparison, and ties stay in the tie order without tuple keys. Per
column, the row indices in ascending order are kept until the rows change, so that a
sort or a filter is a walk over a list. A search that only grows narrows the rows the
previous one kept. `data()` formats stored values; it never parses or queries.
"""

from array import array
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, count, islice
from operator import eq
from typing import Any, NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QModelRoleDataSpan, Qt, Signal

from ui.positions import Positions

Row = Any
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked
# What QAbstractTableModel.flags() gives a valid cell.
CELL_FLAGS = (
    Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
)


@dataclass(frozen=True)
class Column:
    """One column: its title and how a row shows, sorts and explains itself in it."""

    title: str
    display: Callable[[Row], str | None] = lambda row: None
    # None: the column does not sort (a checkbox, an actions button).
    sort_key: Callable[[Row], Any] | None = None
    # The keys of many rows at once, where a comprehension or map() makes them faster
    # than a call of sort_key per row (a list, or an array of numbers).
    sort_keys: Callable[[Sequence[Row]], Sequence] | None = None
    # Where sort_keys are coarse (floats that may round two values to one, which sort
    # faster than the strings or big numbers they stand for): the exact keys, which
    # order the rows whose coarse keys are equal.
    exact_keys: Callable[[Sequence[Row]], list] | None = None
    # Its keys are made with the rows as they load (off the GUI thread, `RowsModel.part`)
    # rather than at its first sort: for keys slow to make but small to keep.
    keys_with_rows: bool = False
    # Its keys nearly all differ (thumbprints, serials, times): a loading worker checks
    # whether they all do (`distinct_keys`), and then its sorts need no tie order.
    distinct_likely: bool = False
    tie_order: bool = False  # the column sorts as the model's tie order itself
    tooltip: Callable[[Row], str | None] | None = None
    decoration: Callable[[Row], Any] | None = None
    align_right: bool = False
    checkable: bool = False  # the column of the row's checkbox
    header: str = ""  # a shorter title for the header, which then tips the full one


# Keys looked at between two chances for another thread to take the GIL.
_CHECKED_AT_ONCE = 20_000
# Keys one set holds at most while the keys of a column are checked for equal ones: a
# set resizes with the GIL held, and one of a million held it for up to 190 ms (the
# window froze); one of this many for a few ms.
_SET_AT_MOST = 65_536


class RowsPart(NamedTuple):
    """Rows with what the model keeps of them, made off the GUI thread (`RowsModel.part`)
    so that the GUI thread only extends its lists."""

    rows: list
    haystacks: list[str]
    ties: list | None  # None: made when needed
    keys: dict[int, Sequence]  # of the columns that make their keys with the rows
    # `RowsModel.in_tie_order` of these rows, asked on the worker: at a million rows the
    # walk would hold the GUI thread for 60 ms when the load finishes.
    tie_ordered: bool


class RowsModel(QAbstractTableModel):
    """Rows with a key (`key_of`), a search over each row's haystack, an optional extra
    filter (`row_filter`), sorting by any sortable column, and checked keys that survive
    sorting. A row the search or the filter hides leaves the checks: what is checked is
    always in view, so an action on the checked rows never reaches one nobody sees."""

    ROW_ROLE = Qt.ItemDataRole.UserRole + 1
    # Removing more separate runs of rows than this resets the model instead: each
    # beginRemoveRows walks the view's persistent indexes. Updating more runs than this
    # announces one span over them.
    MAX_REMOVE_RUNS = 64

    checkedChanged = Signal(int)  # how many rows are checked

    def __init__(self, columns: Sequence[Column], parent=None):
        super().__init__(parent)
        self.columns = tuple(columns)
        self._rows: list[Row] = []
        self._haystacks: list[str] = []
        self._visible: list[int] = []  # indices into _rows, filtered and sorted
        self._arrived: list[int] = []  # appended and kept, not yet told to the view
        self._holding = False  # rows came out of order: they wait for finish_rows
        self._position = self.positions()  # key -> index into _rows
        self._checked: set[Hashable] = set()
        self._orders: dict[int, list[int]] = {}  # column -> indices, ascending
        self._keys: dict[int, list] = {}  # column -> one sort key per row
        # Columns whose keys are known to differ all (`distinct_keys`): they sort the
        # row numbers in their own order (twice as fast as the tie order, scattered,
        # at a million rows) and need no look for equal coarse keys.
        self._distinct: set[int] = set()
        self._keys_changed: set[int] = set()  # columns, since a load began: not distinct
        # One tie key per row while rows load; once their tie order is known they are
        # made again only if it is lost (a rename), not kept (a million casefolded names).
        self._ties: list | None = []
        self._tie_order: list[int] | None = None  # indices by tie key; None: to sort
        # Every row held is `in_tie_order`, as their parts said (`RowsPart.tie_ordered`).
        self._source_tie_ordered = False
        self._query = ""
        self._row_filter: Callable[[Row], bool] | None = None
        self._sort_column = 0
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._answers = self._role_answers()
        self._flags = tuple(
            CELL_FLAGS | Qt.ItemFlag.ItemIsUserCheckable if c.checkable else CELL_FLAGS
            for c in self.columns
        )

    # -- what a page's model says about its rows ------------------------------------

    # The keys are a store's row ids (small non-negative integers): their places are kept
    # in an array indexed by them (ui.positions).
    dense_ids = False

    def key_of(self, row: Row) -> Hashable:
        return row.id

    def haystack(self, row: Row) -> str:
        """The text the search looks in, lower-cased."""
        shown = (column.display(row) for column in self.columns)
        return "\n".join(text for text in shown if text).casefold()

    def tie_keys(self, rows: Sequence[Row]) -> list:
        """What orders rows whose sort values are equal (one scalar per row), so that
        the order is stable; rows with equal tie keys keep the order they came in."""
        return [self.key_of(r) for r in rows]

    def haystacks(self, rows: Sequence[Row]) -> list[str]:
        """The haystacks of many rows; pure, so a worker thread can make them."""
        return [self.haystack(r) for r in rows]

    def part(self, rows: Sequence[Row], in_order: bool = True) -> RowsPart:
        """Rows with their haystacks, the keys made with them and (for rows `in_order`,
        which `append_rows` checks by them) their tie keys; pure, so a worker thread
        makes it while a load streams in."""
        keys = {
            column: self._column_keys(column, rows)
            for column, spec in enumerate(self.columns)
            if spec.keys_with_rows
        }
        ties = self.tie_keys(rows) if in_order else None
        return RowsPart(list(rows), self.haystacks(rows), ties, keys, self.in_tie_order(rows))

    def distinct_keys(self, keys: dict[int, Sequence]) -> set[int]:
        """Of these columns' keys (every row's, by column), the columns whose keys all
        differ; pure, so that the worker that made them checks them."""
        return {column for column, made in keys.items() if _all_differ(made)}

    def add_distinct(self, columns: Iterable[int]) -> None:
        """The columns whose keys a worker found all different (`distinct_keys`) once
        the rows that made them were in (`finish_rows`, `set_rows`), less those whose
        keys changed since: their sorts are then the faster kind. Sorts before are the
        same, only slower."""
        self._distinct |= set(columns) - self._keys_changed

    @property
    def distinct_columns(self) -> frozenset[int]:
        """The columns known to have no two keys alike (`add_distinct`)."""
        return frozenset(self._distinct)

    def positions(self) -> Positions:
        """An empty key -> place map of the kind this model keeps; pure, so that a
        worker streaming rows in notes where each will be (`finish_rows`' `places`)."""
        return Positions(self.dense_ids)

    def in_tie_order(self, rows: Sequence[Row]) -> bool:
        """Whether the order these rows' source lists them in (`finish_rows`, `set_rows`)
        is the tie order already, so that no tie keys need be made to check it; pure,
        asked of each part as the worker makes it (`part`)."""
        return False

    def background(self, row: Row) -> Any:
        return None

    def prepare(self) -> None:
        """Called before the rows are (re)computed, e.g. to take the time once."""

    # -- contents -------------------------------------------------------------------

    def set_rows(
        self,
        rows: Sequence[Row] | RowsPart,
        order: Sequence[Hashable] | None = None,
        places: list[int] | None = None,
    ) -> None:
        """All the rows at once (a part: with what a worker made of them). `order`: their
        keys in the tie order as their source has it, which the model then only checks,
        or instead `places`, the rows' indices in that order (`Positions.places` of the
        worker that made the part)."""
        part = rows if isinstance(rows, RowsPart) else self.part(rows)
        self.beginResetModel()
        self.prepare()
        self._arrived, self._holding = [], False
        self._rows, self._haystacks, self._ties = part.rows, part.haystacks, part.ties
        self._source_tie_ordered = part.tie_ordered
        self._position = self._placed(self._rows)
        self._tie_order = self._tie_order_of(order, places)
        self._orders.clear()
        self._keys = {column: _extendable(made) for column, made in part.keys.items()}
        self._distinct, self._keys_changed = set(), set()
        self._visible = self._filtered_sorted()
        self._ties = None  # the tie order is made (_filtered_sorted)
        self._checked = {k for k in self._checked if k in self._position}
        self._drop_hidden_checks()
        self.endResetModel()
        self.checkedChanged.emit(len(self._checked))

    def append_rows(self, rows: Sequence[Row] | RowsPart, in_order: bool = True) -> None:
        """More rows of a load under way: a chunk's cost is the chunk's, whatever is in
        already. Rows `in_order` (the tie order) show below those in (those the search
        and filter keep); others wait out of view, since they may belong anywhere, until
        `finish_rows` puts all in the sort order when the last is in."""
        part = rows if isinstance(rows, RowsPart) else self.part(rows, in_order)
        if not part.rows:
            return
        start = len(self._rows)
        self._distinct.clear()  # until a worker says (add_distinct)
        if start == 0:
            self._position = self.positions()
            self._keys = {column: _extendable(made) for column, made in part.keys.items()}
            self._keys_changed = set()
            self._ties, self._tie_order = [], []
            self._source_tie_ordered = part.tie_ordered
        else:
            self._source_tie_ordered = self._source_tie_ordered and part.tie_ordered
            for column, kept in self._keys.items():
                made = part.keys.get(column)
                kept.extend(made if made is not None else self._column_keys(column, part.rows))
        self._rows.extend(part.rows)
        self._haystacks.extend(part.haystacks)
        self._position.append(list(map(self.key_of, part.rows)))
        ties = part.ties
        if (
            in_order
            and ties is not None
            and self._ties is not None
            and self._tie_order is not None
            and sorted(ties) == ties
            and not (self._ties and ties[0] < self._ties[-1])
        ):
            self._ties.extend(ties)
            self._tie_order.extend(range(start, len(self._rows)))
        else:
            # Out of order: the ties are made again when next needed, in one go (made
            # here chunk by chunk, they would sit among the rows, a heap nothing frees).
            self._ties = self._tie_order = None
        self._orders.clear()
        self._arrived.extend(self._kept(range(start, len(self._rows))))
        self._holding = self._holding or not in_order
        if not self._holding:
            self._show_arrived()

    def _show_arrived(self) -> None:
        """The rows appended and kept since the view last heard, below those shown."""
        if self._arrived:
            first = len(self._visible)
            self.beginInsertRows(QModelIndex(), first, first + len(self._arrived) - 1)
            if first < len(self._arrived):
                # The few shown go before the many that waited, in the list that holds
                # these: extended, the shown ones' list would take a million places of
                # fresh memory at once (50 ms of page faults at a million rows).
                self._arrived[:0] = self._visible
                self._visible = self._arrived
            else:
                self._visible.extend(self._arrived)
            self._arrived = []
            self.endInsertRows()

    def finish_rows(
        self, order: Sequence[Hashable] | None = None, places: list[int] | None = None
    ) -> None:
        """The last chunk is in: the rows in the order the header claims. `order`: their
        keys in the tie order as their source has it, or `places` (as `set_rows`, the
        places of the rows as they were appended since the model was empty)."""
        if order is not None or places is not None:
            self._tie_order = self._tie_order_of(order, places)
        self._holding = False
        if self._tie_order is not None:
            self._ties = None
        self._show_arrived()
        visible = self._filtered_sorted()
        if visible != self._visible:
            self.layoutAboutToBeChanged.emit()
            self._visible = visible
            self.layoutChanged.emit()

    def _tie_order_of(
        self, order: Sequence[Hashable] | None, places: list[int] | None
    ) -> list[int] | None:
        """The tie order from the keys in the order their source has (or their places,
        found by the worker), checked by a stable sort of the tie keys, which takes a
        comparison per row where it already holds (a store's NOCASE is not casefold).
        None when they are not the rows held."""
        given = self._position.places(order) if places is None and order is not None else places
        if given is None or len(given) != len(self._rows):
            return None
        if self._source_tie_ordered:
            return given
        ties = self._ties if self._ties is not None else self.tie_keys(self._rows)
        return sorted(given, key=ties.__getitem__)

    def update_rows(self, rows: Sequence[Row], columns: Sequence[int] | None = None) -> None:
        """New values for rows already shown; they keep their place until the next sort
        or filter, so that the row the user acted on does not jump away. Only these rows'
        haystacks and sort keys are made again; `columns`, when the caller knows, are the
        only ones whose sort keys the new values change (the haystacks and tie keys then
        stay as they are): a flag set in 10,000 rows remakes one column's keys, not all."""
        changed, old = [], []
        for row in rows:
            i = self._position.get(self.key_of(row))
            if i is None:
                continue
            old.append(self._rows[i])
            self._rows[i] = row
            changed.append(i)
        if not changed:
            return
        fresh = [self._rows[i] for i in changed]
        if columns is None:
            self._update_search_and_ties(changed, old, fresh)
            columns = list(self._keys)
            self._orders.clear()  # sorted again from the keys at the next sort or filter
        for column in columns:
            keys = self._keys.get(column)
            if keys is not None:
                for i, key in zip(changed, self._column_keys(column, fresh), strict=True):
                    keys[i] = key
            self._orders.pop(column, None)
            self._distinct.discard(column)
            self._keys_changed.add(column)
        if len(changed) > self.MAX_REMOVE_RUNS:
            # Many rows: one span over the whole view (it repaints what it shows), without
            # a walk over every shown row for their places (100 ms at a million rows).
            spans = [(0, len(self._visible) - 1)] if self._visible else []
        else:
            where = set(changed)
            spans = list(runs([n for n, i in enumerate(self._visible) if i in where]))
        last = self.columnCount() - 1
        for first, end in spans:
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def _update_search_and_ties(self, changed: list[int], old: list[Row], fresh: list[Row]) -> None:
        for i, hay in zip(changed, self.haystacks(fresh), strict=True):
            self._haystacks[i] = hay
        ties = self.tie_keys(fresh)
        if self._ties is not None:
            for i, tie in zip(changed, ties, strict=True):
                self._ties[i] = tie
        if ties != self.tie_keys(old):
            self._tie_order = None
            self._source_tie_ordered = self._source_tie_ordered and self.in_tie_order(fresh)

    def remove_keys(self, keys: Sequence[Hashable]) -> None:
        """Drop rows that are gone, keeping the rest of the view (selection, scroll)."""
        gone = {self._position[k] for k in keys if k in self._position}
        if not gone:
            return
        self._show_arrived()  # they are renumbered below with the rest
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
        if self._ties is not None:
            self._ties = [self._ties[i] for i in keep]
        self._keys = {c: _taken(keys, keep) for c, keys in self._keys.items()}
        self._orders = {
            c: [renumber[i] for i in order if i in renumber] for c, order in self._orders.items()
        }
        if self._tie_order is not None:
            self._tie_order = [renumber[i] for i in self._tie_order if i in renumber]
        self._position = self._placed(self._rows)
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
        """Checked rows in the order shown: the view is walked by row index, and only the
        checked rows' keys are made (a key per shown row costs ten times as much at
        100,000 rows)."""
        if not self._checked:
            return []
        position, rows, key_of = self._position, self._rows, self.key_of
        checked = {position[k] for k in self._checked if k in position}
        return [key_of(rows[i]) for i in self._visible if i in checked]

    def checked_rows(self) -> list[Row]:
        """The checked rows, in no particular order (`checked_keys` walks the view for
        its order)."""
        rows, position = self._rows, self._position
        return [rows[position[k]] for k in self._checked if k in position]

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

    def _placed(self, rows: Sequence[Row]) -> Positions:
        positions = self.positions()
        positions.append(list(map(self.key_of, rows)))
        return positions

    def _refilter(self, query: str, keep: Callable[[Row], bool] | None) -> None:
        if (query, keep) == (self._query, self._row_filter):
            return
        # A query that only grew keeps a subset of what the last one kept, in its order.
        narrows = keep is self._row_filter and self._query in query
        self._show_arrived()  # a narrowing search walks them too
        self._query, self._row_filter = query, keep
        self.prepare()
        if narrows:
            hay = self._haystacks
            visible = [i for i in self._visible if query in hay[i]]
        else:
            visible = self._filtered_sorted()
        if visible == self._visible:
            return  # the same rows (a letter every row has): nothing to reset or repaint
        self.beginResetModel()
        self._visible = visible
        unchecked = self._drop_hidden_checks()
        self.endResetModel()
        if unchecked:
            self.checkedChanged.emit(len(self._checked))

    def _kept(self, indices: Iterable[int]) -> list[int]:
        """Those of `indices` the search and the row filter keep, in the same order."""
        keep = self._row_filter
        query, hay, rows = self._query, self._haystacks, self._rows
        if query:
            indices = [i for i in indices if query in hay[i]]
        if keep is not None:
            indices = [i for i in indices if keep(rows[i])]
        return list(indices)

    def _filtered_sorted(self) -> list[int]:
        visible = self._kept(self._order(self._sort_column))
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            visible.reverse()
        return visible

    def _column_keys(self, column: int, rows: Sequence[Row]) -> list:
        spec = self.columns[column]
        if spec.sort_keys is not None:
            return spec.sort_keys(rows)
        sort_key = spec.sort_key or (lambda row: 0)
        return [sort_key(r) for r in rows]

    def _ordered_by_ties(self) -> list[int]:
        if self._tie_order is None:
            ties = self._ties if self._ties is not None else self.tie_keys(self._rows)
            self._tie_order = sorted(range(len(ties)), key=ties.__getitem__)
        return self._tie_order

    def _order(self, column: int) -> list[int]:
        if column not in self._orders:
            if self.columns[column].tie_order:
                self._orders[column] = self._ordered_by_ties()
            else:
                keys = self._keys.get(column)
                if keys is None:
                    keys = self._keys[column] = self._column_keys(column, self._rows)
                # A list of the keys for the sort: an array would make a float object
                # at each look-up, scattered in memory.
                keys = keys.tolist() if isinstance(keys, array) else keys
                if column in self._distinct:
                    order = sorted(range(len(keys)), key=keys.__getitem__)
                else:
                    # Stable: rows with equal keys stay in the tie order.
                    order = sorted(self._ordered_by_ties(), key=keys.__getitem__)
                    exact = self.columns[column].exact_keys
                    if exact is not None:
                        order = self._refined(order, keys, exact, column)
                self._orders[column] = order
        return self._orders[column]

    def _refined(
        self, order: list[int], coarse: Sequence, exact: Callable, column: int
    ) -> list[int]:
        """`order` by coarse keys, its runs of equal coarse keys ordered by exact keys
        (stably, so exact ties stay in the tie order). Finding the ties is a walk in
        C; only the rows in a run cost a Python call."""
        if self.distinct_keys({column: coarse}):
            self._distinct.add(column)  # until its keys change
            return order
        ranked = list(map(coarse.__getitem__, order))
        after_tie = list(compress(count(1), map(eq, ranked, islice(ranked, 1, None))))
        rows = self._rows
        for first, last in runs(after_tie):
            run = order[first - 1 : last + 1]
            keys = exact([rows[i] for i in run])
            order[first - 1 : last + 1] = [
                run[n] for n in sorted(range(len(run)), key=keys.__getitem__)
            ]
        return order

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if self.columns[column].sort_key is None:
            return
        self._show_arrived()  # a layout change keeps the row count
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
        # A view asks each painted cell for seven roles, most of which a column never
        # answers: one dict look-up settles those before anything is read.
        answer = self._answers[index.column()].get(role)
        if answer is None or not index.isValid():
            return None
        return answer(self._rows[self._visible[index.row()]])

    def multiData(self, index: QModelIndex, roles: QModelRoleDataSpan) -> None:
        # What a delegate asks of each painted cell: its seven roles in one Python call
        # instead of seven calls of data().
        answers = self._answers[index.column()] if index.isValid() else {}
        row = None
        for n in range(roles.size()):
            item = roles[n]
            answer = answers.get(item.role())
            if answer is None:
                item.clearData()
                continue
            if row is None:
                row = self._rows[self._visible[index.row()]]
            item.setData(answer(row))

    def _role_answers(self) -> tuple[dict[int, Callable[[Row], Any]], ...]:
        """Per column, what each role it answers makes of a row; the roles it does not
        answer are absent."""
        has_background = type(self).background is not RowsModel.background
        answers = []
        for column in self.columns:
            answer: dict[int, Callable[[Row], Any]] = {
                Qt.ItemDataRole.DisplayRole: column.display,
                self.ROW_ROLE: _itself,
            }
            if column.checkable:
                answer[Qt.ItemDataRole.CheckStateRole] = self._check_state
            if column.tooltip:
                answer[Qt.ItemDataRole.ToolTipRole] = column.tooltip
            if column.decoration:
                answer[Qt.ItemDataRole.DecorationRole] = column.decoration
            if has_background:
                answer[Qt.ItemDataRole.BackgroundRole] = self.background
            if column.align_right:
                answer[Qt.ItemDataRole.TextAlignmentRole] = _right
            answers.append({int(role): make for role, make in answer.items()})
        return tuple(answers)

    def _check_state(self, row: Row) -> Qt.CheckState:
        return CHECKED if self.key_of(row) in self._checked else UNCHECKED

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not self.columns[index.column()].checkable:
            return False
        if role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.set_checked([self.key_of(self.row_at(index.row()))], checked)
        return True

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        # Asked for every painted cell: the table model's own flags, made once per column.
        return self._flags[index.column()] if index.isValid() else Qt.ItemFlag.NoItemFlags


def joined(parts: Sequence[RowsPart]) -> RowsPart:
    """Parts of a listing as one (its tie keys only if every part has them)."""
    rows: list = []
    haystacks: list[str] = []
    keys: dict[int, Sequence] = {}
    for part in parts:
        rows += part.rows
        haystacks += part.haystacks
        for column, more in part.keys.items():
            if column in keys:
                keys[column] += more
            else:
                keys[column] = _extendable(more)[:]  # a copy: the parts stay as they were
    every = all(part.ties is not None for part in parts)
    ties = [tie for part in parts for tie in part.ties] if every else None
    return RowsPart(rows, haystacks, ties, keys, all(part.tie_ordered for part in parts))


def _all_differ(keys: Sequence) -> bool:
    """Whether no two keys are equal: counted in sets, a sorted slice of the keys at a
    time (a worker gives the GIL back between slices), each set holding the keys of one
    range of values (bounds from a sample; a sorted slice splits at them), so that none
    holds many more than _SET_AT_MOST. The sort keys are numbers (never NaN, which sorts
    nowhere) or strings; keys that do not sort are counted in one set."""
    try:
        return _differ_by_ranges(keys)
    except TypeError:
        return len(set(keys)) == len(keys)


def _differ_by_ranges(keys: Sequence) -> bool:
    sets = -(-len(keys) // _SET_AT_MOST)
    sample = sorted(keys[:: max(1, len(keys) // 4096)])
    bounds = [sample[len(sample) * n // sets] for n in range(1, sets)]
    seen: list[set] = [set() for _ in range(sets)]
    try:
        for start in range(0, len(keys), _CHECKED_AT_ONCE):
            chunk = sorted(keys[start : start + _CHECKED_AT_ONCE])
            cuts = [0, *(bisect_left(chunk, bound) for bound in bounds), len(chunk)]
            for kept, low, high in zip(seen, cuts[:-1], cuts[1:], strict=True):
                kept.update(chunk[low:high])
            if sum(map(len, seen)) < start + len(chunk):
                return False  # two are equal: a column that is not distinct stops early
        return True
    finally:
        while seen:
            # A set at a time: dropped at once, a million floats held the GIL for 75 ms.
            seen.pop()


def _extendable(keys: Sequence) -> list | array:
    """Keys a model keeps and extends: arrays of numbers stay arrays (8 bytes a key, not
    a float object's 32), anything else becomes a list."""
    return keys if isinstance(keys, array | list) else list(keys)


def _taken(keys: Sequence, indices: Iterable[int]) -> list | array:
    """The keys at `indices`, as what kept them."""
    taken = map(keys.__getitem__, indices)
    return array(keys.typecode, taken) if isinstance(keys, array) else list(taken)


def _itself(row: Row) -> Row:
    return row


def _right(row: Row) -> int:
    return RIGHT


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
