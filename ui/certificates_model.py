"""The certificates table model: plain rows in Python lists.

Filtering and sorting are done here over the list (a comprehension, `sorted()` with a
cached key): a QSortFilterProxyModel calling back into Python per comparison is ~80×
slower at 100,000 rows. `data()` formats stored values; it never parses or queries.
"""

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from app.services.certificates import EXPIRING_DAYS, CertificateRow
from ui.icons import icon

FILTER_ALL = "all"
FILTER_EXPIRING = "expiring"
FILTER_EXPIRED = "expired"
FILTER_HIDE_EXPIRED = "hide-expired"

# Translucent tints read on light and dark palettes alike.
EXPIRED_TINT = QColor(210, 60, 60, 48)
EXPIRING_TINT = QColor(217, 144, 11, 48)


def days_left(row: CertificateRow, now: dt.datetime) -> int:
    return (row.valid_to - now) // dt.timedelta(days=1)


def status_text(row: CertificateRow) -> str:
    parts = ["Enabled" if row.enabled else "Disabled: nobody can sign with it"]
    parts.append(f"Owner: {row.owner}" if row.owner else "No owner")
    parts.append("PIN required" if row.has_pin else "No PIN")
    parts.append("Reason required when used" if row.ask_reason else "No reason asked")
    return "\n".join(parts)


class CertificatesModel(QAbstractTableModel):
    (
        COL_CHECK,
        COL_NAME,
        COL_STATUS,
        COL_USAGE,
        COL_LAST_USE,
        COL_GROUPS,
        COL_POLICIES,
        COL_VALID_TO,
        COL_ACTIONS,
    ) = range(9)
    HEADERS = (
        "",
        "Name",
        "Status",
        "Usage Count",
        "Last Use (UTC)",
        "Groups",
        "Policies",
        "Valid To",
        "",
    )
    UNSORTABLE = (COL_CHECK, COL_ACTIONS)
    ROW_ROLE = Qt.ItemDataRole.UserRole + 1
    # Removing more separate runs of rows than this resets the model instead: each
    # beginRemoveRows walks the view's persistent indexes.
    MAX_REMOVE_RUNS = 64

    checkedChanged = Signal(int)  # how many rows are checked

    def __init__(self, parent=None, clock: Callable[[], dt.datetime] | None = None):
        super().__init__(parent)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._now = self._clock()
        self._rows: list[CertificateRow] = []
        self._haystacks: list[str] = []
        self._visible: list[int] = []  # indices into _rows, filtered and sorted
        self._position: dict[int, int] = {}  # certificate id -> index into _rows
        self._checked: set[int] = set()  # certificate ids
        # Per column, every row index in ascending order: sorting or filtering is then a
        # walk over a list (~10 ms at 100,000 rows), not a sort (~150 ms).
        self._orders: dict[int, list[int]] = {}
        self._query = ""
        self._expiry = FILTER_ALL
        self._sort_column = self.COL_NAME
        self._sort_order = Qt.SortOrder.AscendingOrder

    # -- contents -----------------------------------------------------------------

    def set_rows(self, rows: Sequence[CertificateRow]) -> None:
        self.beginResetModel()
        self._now = self._clock()
        self._rows = list(rows)
        self._haystacks = [_haystack(r) for r in self._rows]
        self._position = {r.id: i for i, r in enumerate(self._rows)}
        self._checked &= self._position.keys()
        self._orders.clear()
        self._visible = self._filtered_sorted()
        self.endResetModel()
        self.checkedChanged.emit(len(self._checked))

    def update_rows(self, rows: Sequence[CertificateRow]) -> None:
        """New values for rows already shown; they keep their place until the next sort
        or filter, so that the row the user acted on does not jump away."""
        changed = []
        for row in rows:
            i = self._position.get(row.id)
            if i is None:
                continue
            self._rows[i] = row
            self._haystacks[i] = _haystack(row)
            changed.append(i)
        if not changed:
            return
        self._orders.clear()  # rebuilt at the next sort; the rows stay where they are
        where = {i: n for n, i in enumerate(self._visible)}
        shown = sorted(where[i] for i in changed if i in where)
        last = self.columnCount() - 1
        for first, end in _runs(shown):
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def remove_ids(self, ids: Sequence[int]) -> None:
        """Drop deleted certificates, keeping the rest of the view (selection, scroll)."""
        gone = {self._position[i] for i in ids if i in self._position}
        if not gone:
            return
        shown = [n for n, i in enumerate(self._visible) if i in gone]
        runs = list(_runs(shown))
        if len(runs) > self.MAX_REMOVE_RUNS:
            self.beginResetModel()
        for first, end in reversed(runs if len(runs) <= self.MAX_REMOVE_RUNS else []):
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
        self._position = {r.id: n for n, r in enumerate(self._rows)}
        self._visible = [renumber[i] for i in self._visible if i in renumber]
        if len(runs) > self.MAX_REMOVE_RUNS:
            self.endResetModel()
        before = len(self._checked)
        self._checked.difference_update(ids)
        if len(self._checked) != before:
            self.checkedChanged.emit(len(self._checked))

    # -- checks -------------------------------------------------------------------

    def checked_ids(self) -> list[int]:
        """Checked certificates in the order shown (hidden checked ones last)."""
        checked = self._checked
        shown = [self._rows[i].id for i in self._visible if self._rows[i].id in checked]
        hidden = checked.difference(shown)
        return shown + [r.id for r in self._rows if r.id in hidden]

    def checked_rows(self) -> list[CertificateRow]:
        return [self._rows[self._position[i]] for i in self.checked_ids()]

    def row_by_id(self, certificate_id: int) -> CertificateRow | None:
        i = self._position.get(certificate_id)
        return None if i is None else self._rows[i]

    def set_checked(self, ids: Sequence[int], checked: bool) -> None:
        if checked:
            self._checked.update(i for i in ids if i in self._position)
        else:
            self._checked.difference_update(ids)
        self._checks_changed()

    def toggle_checked(self, visible_row: int) -> None:
        cid = self.row_at(visible_row).id
        self.set_checked([cid], cid not in self._checked)

    def check_visible(self, checked: bool) -> None:
        """The header checkbox: all rows the search and filter show, and only those."""
        ids = [self._rows[i].id for i in self._visible]
        if checked:
            self._checked.update(ids)
        else:
            self._checked.difference_update(ids)
        self._checks_changed()

    def visible_check_state(self) -> Qt.CheckState:
        if not self._visible or not self._checked:
            return Qt.CheckState.Unchecked
        checked, rows = self._checked, self._rows
        count = sum(1 for i in self._visible if rows[i].id in checked)
        if count == 0:
            return Qt.CheckState.Unchecked
        if count == len(self._visible):
            return Qt.CheckState.Checked
        return Qt.CheckState.PartiallyChecked

    def _checks_changed(self) -> None:
        if self._visible:
            self.dataChanged.emit(
                self.index(0, self.COL_CHECK),
                self.index(len(self._visible) - 1, self.COL_CHECK),
                [Qt.ItemDataRole.CheckStateRole],
            )
        self.checkedChanged.emit(len(self._checked))

    def set_filter(self, query: str, expiry: str = FILTER_ALL) -> None:
        query = query.strip().casefold()
        if (query, expiry) == (self._query, self._expiry):
            return
        self.beginResetModel()
        self._query, self._expiry = query, expiry
        self._visible = self._filtered_sorted()
        self.endResetModel()

    def total_count(self) -> int:
        return len(self._rows)

    def row_at(self, row: int) -> CertificateRow:
        return self._rows[self._visible[row]]

    def _filtered_sorted(self) -> list[int]:
        keep = self._expiry_test()
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

    def _expiry_test(self) -> Callable[[CertificateRow], bool] | None:
        now, soon = self._now, self._now + dt.timedelta(days=EXPIRING_DAYS)
        return {
            FILTER_ALL: None,
            FILTER_EXPIRING: lambda r: now <= r.valid_to < soon,
            FILTER_EXPIRED: lambda r: r.valid_to < now,
            FILTER_HIDE_EXPIRED: lambda r: r.valid_to >= now,
        }[self._expiry]

    def _order(self, column: int) -> list[int]:
        if column not in self._orders:
            keys = [self._key(column, r) for r in self._rows]
            self._orders[column] = sorted(range(len(keys)), key=keys.__getitem__)
        return self._orders[column]

    def _key(self, column: int, r: CertificateRow) -> tuple:
        # Ties are broken by name, so equal values keep a predictable order.
        if column == self.COL_STATUS:
            value = (r.enabled, r.owner is not None, r.has_pin, r.ask_reason)
        elif column == self.COL_USAGE:
            value = r.usage_count
        elif column == self.COL_LAST_USE:
            value = (r.last_used is not None, r.last_used or self._now)
        elif column == self.COL_GROUPS:
            value = ", ".join(r.groups).casefold()
        elif column == self.COL_POLICIES:
            value = ", ".join(r.policies).casefold()
        elif column == self.COL_VALID_TO:
            value = r.valid_to
        else:
            value = ""
        return (value, r.alias.casefold(), r.id)

    # -- Qt model interface -------------------------------------------------------

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._visible)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        if column in self.UNSORTABLE:
            return
        self.layoutAboutToBeChanged.emit()
        self._sort_column, self._sort_order = column, order
        self._visible = self._filtered_sorted()
        self.layoutChanged.emit()

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[self._visible[index.row()]]
        column = index.column()
        if column == self.COL_CHECK:
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if row.id in self._checked else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.BackgroundRole:
                return self._background(row)
            return row if role == self.ROW_ROLE else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(row, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.COL_USAGE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.ROW_ROLE:
            return row
        return None

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != self.COL_CHECK:
            return False
        if role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.set_checked([self.row_at(index.row()).id], checked)
        return True

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == self.COL_CHECK:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def _display(self, row: CertificateRow, column: int):
        if column == self.COL_NAME:
            return row.alias
        if column == self.COL_USAGE:
            return str(row.usage_count)
        if column == self.COL_LAST_USE:
            return row.last_used.strftime("%Y-%m-%d %H:%M") if row.last_used else "—"
        if column == self.COL_GROUPS:
            return ", ".join(row.groups)
        if column == self.COL_POLICIES:
            return ", ".join(row.policies)
        if column == self.COL_VALID_TO:
            return self._valid_to_text(row)
        return None

    def _valid_to_text(self, row: CertificateRow) -> str:
        date = row.valid_to.strftime("%Y-%m-%d")
        days = days_left(row, self._now)
        if days < 0:
            return f"{date} (expired)"
        if days < EXPIRING_DAYS:
            return f"{date} ({days} day{'s' if days != 1 else ''} left)"
        return date

    def _tooltip(self, row: CertificateRow, column: int):
        if column == self.COL_ACTIONS:
            return "Actions for this certificate (or right-click the row)"
        if column == self.COL_STATUS:
            return status_text(row)
        if column == self.COL_NAME:
            key = "Private key held in the store" if row.has_private_key else "No private key"
            return f"{row.subject}\n{key}"
        if column == self.COL_VALID_TO:
            days = days_left(row, self._now)
            when = row.valid_to.strftime("%Y-%m-%d %H:%M UTC")
            if days < 0:
                return f"Expired {-days} day{'s' if days != -1 else ''} ago ({when})"
            return f"Expires in {days} day{'s' if days != 1 else ''} ({when})"
        if column in (self.COL_GROUPS, self.COL_POLICIES):
            return self._display(row, column) or None
        return None

    def _decoration(self, row: CertificateRow, column: int):
        if column == self.COL_NAME:
            return icon("key" if row.has_private_key else "certificate")
        if column == self.COL_VALID_TO:
            days = days_left(row, self._now)
            if days < 0:
                return icon("expired")
            if days < EXPIRING_DAYS:
                return icon("expiring")
        return None

    def _background(self, row: CertificateRow):
        days = days_left(row, self._now)
        if days < 0:
            return EXPIRED_TINT
        if days < EXPIRING_DAYS:
            return EXPIRING_TINT
        return None


def _haystack(r: CertificateRow) -> str:
    return "\n".join((r.alias, r.subject, r.issuer, r.serial, r.sha1, r.sha256)).casefold()


def _runs(positions: Sequence[int]):
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
