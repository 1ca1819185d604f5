"""The certificates table model: plain rows in Python lists.

Filtering and sorting are done here over the list (a comprehension, `sorted()` with a
cached key): a QSortFilterProxyModel calling back into Python per comparison is ~80×
slower at 100,000 rows. `data()` formats stored values; it never parses or queries.
"""

import datetime as dt
from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor

from app.services.certificates import CertificateRow
from ui.icons import icon

EXPIRING_DAYS = 30

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
    COL_NAME, COL_STATUS, COL_USAGE, COL_LAST_USE, COL_GROUPS, COL_POLICIES, COL_VALID_TO = range(7)
    HEADERS = ("Name", "Status", "Usage Count", "Last Use (UTC)", "Groups", "Policies", "Valid To")
    ROW_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None, clock: Callable[[], dt.datetime] | None = None):
        super().__init__(parent)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._now = self._clock()
        self._rows: list[CertificateRow] = []
        self._haystacks: list[str] = []
        self._visible: list[int] = []  # indices into _rows, filtered and sorted
        self._sort_keys: dict[int, list] = {}
        self._query = ""
        self._expiry = FILTER_ALL
        self._sort_column = self.COL_NAME
        self._sort_order = Qt.SortOrder.AscendingOrder

    # -- contents -----------------------------------------------------------------

    def set_rows(self, rows: Sequence[CertificateRow]) -> None:
        self.beginResetModel()
        self._now = self._clock()
        self._rows = list(rows)
        self._haystacks = [
            "\n".join((r.alias, r.subject, r.issuer, r.serial, r.sha1, r.sha256)).casefold()
            for r in self._rows
        ]
        self._sort_keys.clear()
        self._visible = self._filtered_sorted()
        self.endResetModel()

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
        if query or keep:
            visible = [
                i
                for i in range(len(rows))
                if (not query or query in hay[i]) and (keep is None or keep(rows[i]))
            ]
        else:
            visible = list(range(len(rows)))
        keys = self._keys(self._sort_column)
        visible.sort(key=keys.__getitem__, reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        return visible

    def _expiry_test(self) -> Callable[[CertificateRow], bool] | None:
        now, soon = self._now, self._now + dt.timedelta(days=EXPIRING_DAYS)
        return {
            FILTER_ALL: None,
            FILTER_EXPIRING: lambda r: now <= r.valid_to < soon,
            FILTER_EXPIRED: lambda r: r.valid_to < now,
            FILTER_HIDE_EXPIRED: lambda r: r.valid_to >= now,
        }[self._expiry]

    def _keys(self, column: int) -> list:
        if column not in self._sort_keys:
            key = {
                self.COL_NAME: lambda r: r.alias.casefold(),
                self.COL_STATUS: lambda r: (
                    r.enabled,
                    r.owner is not None,
                    r.has_pin,
                    r.ask_reason,
                ),
                self.COL_USAGE: lambda r: r.usage_count,
                self.COL_LAST_USE: lambda r: (r.last_used is not None, r.last_used or self._now),
                self.COL_GROUPS: lambda r: ", ".join(r.groups).casefold(),
                self.COL_POLICIES: lambda r: ", ".join(r.policies).casefold(),
                self.COL_VALID_TO: lambda r: r.valid_to,
            }[column]
            # Ties are broken by name, so equal values keep a predictable order.
            self._sort_keys[column] = [(key(r), r.alias.casefold(), r.id) for r in self._rows]
        return self._sort_keys[column]

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
        self.layoutAboutToBeChanged.emit()
        self._sort_column, self._sort_order = column, order
        self._visible = self._filtered_sorted()
        self.layoutChanged.emit()

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[self._visible[index.row()]]
        column = index.column()
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
