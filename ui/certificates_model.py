"""The certificates table model: the shared rows model (ui.rows_model) with the seed
page's columns and the optional ones (subject, issuer, serial, key, valid from, SHA-256),
the expiry filter and the tint of expired and expiring rows."""

import datetime as dt
import re
from array import array
from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter

from PySide6.QtGui import QColor

from app.crypto.details import colon_hex
from app.services.certificates import EXPIRING_DAYS, SHA256_IN_SEARCH_TEXT, CertificateRow
from app.services.expiry import EXPIRED, EXPIRING, NOT_YET_VALID, VALID, Expiry, expiry
from ui.icons import icon
from ui.rows_model import Column, RowsModel
from ui.wording import plural

FILTER_ALL = "all"
FILTER_EXPIRING = "expiring"
FILTER_EXPIRED = "expired"
FILTER_HIDE_EXPIRED = "hide-expired"
FILTER_DISABLED = "disabled"
# Ending within a number of days (the dashboard's figures): "expiring-60".
FILTER_EXPIRING_WITHIN = "expiring-"

# Translucent tints read on light and dark palettes alike.
EXPIRED_TINT = QColor(210, 60, 60, 48)
EXPIRING_TINT = QColor(217, 144, 11, 48)


def expiry_of(row: CertificateRow, now: dt.datetime) -> Expiry:
    return expiry(row.valid_from, row.valid_to, now)


def status_text(row: CertificateRow) -> str:
    parts = ["Enabled" if row.enabled else "Disabled: nobody can sign with it"]
    parts.append(f"Owner: {row.owner}" if row.owner else "No owner")
    parts.append("PIN required" if row.has_pin else "No PIN")
    parts.append("Reason required when used" if row.ask_reason else "No reason asked")
    return "\n".join(parts)


class CertificatesModel(RowsModel):
    """The certificates page's rows: the columns of the seed page, the expiry filter and
    the tint of expired and expiring rows; the rest is the shared rows model."""

    (
        COL_CHECK,
        COL_NAME,
        COL_STATUS,
        COL_USAGE,
        COL_LAST_USE,
        COL_GROUPS,
        COL_POLICIES,
        COL_SUBJECT,
        COL_ISSUER,
        COL_SERIAL,
        COL_KEY,
        COL_VALID_FROM,
        COL_VALID_TO,
        COL_SHA256,
        COL_ACTIONS,
    ) = range(15)
    HEADERS = (
        "",
        "Name",
        "Status",
        "Usage Count",
        "Last Use (UTC)",
        "Groups",
        "Policies",
        "Subject",
        "Issuer",
        "Serial",
        "Key",
        "Valid From",
        "Valid To",
        "SHA-256",
        "",
    )
    UNSORTABLE = (COL_CHECK, COL_ACTIONS)  # their clicks check rows and open menus
    # What XCA and KeyStore Explorer users look for: off until the header's menu shows them.
    OPTIONAL = (COL_SUBJECT, COL_ISSUER, COL_SERIAL, COL_KEY, COL_VALID_FROM, COL_SHA256)

    def __init__(self, parent=None, clock: Callable[[], dt.datetime] | None = None):
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._set_now()
        self._expiry = FILTER_ALL
        # Rows ending this soon are tinted and "expiring" (the console's settings).
        self.warning_days = EXPIRING_DAYS
        super().__init__(self._columns(), parent)
        self._sort_column = self.COL_NAME
        assert tuple(c.title for c in self.columns) == self.HEADERS

    def _columns(self) -> tuple[Column, ...]:
        return (
            Column("", checkable=True),
            Column(
                "Name",
                display=lambda r: r.alias,
                sort_key=lambda r: "",
                tie_order=True,  # the tie order is by name
                tooltip=_name_tooltip,
                decoration=lambda r: icon("key" if r.has_private_key else "certificate"),
            ),
            Column(
                "Status",
                sort_key=lambda r: _status_keys([r])[0],
                sort_keys=_status_keys,
                keys_with_rows=True,
                tooltip=status_text,
            ),
            Column(
                "Usage Count",  # the seed page's name: how many times it signed
                header="Uses",  # the columns fit 1024 pixels at a desktop's 10-11 pt
                display=lambda r: str(r.usage_count),
                sort_key=lambda r: r.usage_count,
                sort_keys=_counts("usage_count"),
                keys_with_rows=True,
                align_right=True,
            ),
            Column(
                "Last Use (UTC)",
                display=lambda r: _minute(r.last_used) if r.last_used else "—",
                sort_key=lambda r: _last_use_keys([r])[0],
                sort_keys=_last_use_keys,
                keys_with_rows=True,
            ),
            Column(
                "Groups",
                display=lambda r: ", ".join(r.groups),
                sort_key=lambda r: _names_key(r.groups),
                sort_keys=_made_once_each(_names_key, "groups"),
                keys_with_rows=True,
                tooltip=lambda r: ", ".join(r.groups) or None,
            ),
            Column(
                "Policies",
                display=lambda r: ", ".join(r.policies),
                sort_key=lambda r: _names_key(r.policies),
                sort_keys=_made_once_each(_names_key, "policies"),
                keys_with_rows=True,
                tooltip=lambda r: ", ".join(r.policies) or None,
            ),
            Column(
                "Subject",
                display=lambda r: r.subject,
                sort_key=lambda r: r.subject.casefold(),
                sort_keys=lambda rows: list(map(str.casefold, map(_SUBJECT, rows))),
                tooltip=lambda r: r.subject,
            ),
            Column(
                "Issuer",
                display=lambda r: r.issuer,
                sort_key=lambda r: r.issuer.casefold(),
                sort_keys=_made_once_each(str.casefold, "issuer"),
                keys_with_rows=True,
                tooltip=lambda r: r.issuer,
            ),
            Column(
                "Serial",
                display=lambda r: _signed_colon_hex(r.serial),
                sort_key=lambda r: _serial_keys([r])[0],
                sort_keys=_serial_keys,
                exact_keys=_serial_numbers,
                keys_with_rows=True,
                distinct_likely=True,
            ),
            Column(
                "Key",
                display=lambda r: r.key_algorithm,
                sort_key=lambda r: _key_order(r.key_algorithm),
                sort_keys=_made_once_each(_key_order, "key_algorithm"),
                keys_with_rows=True,
            ),
            Column(
                "Valid From",
                display=lambda r: _day(r.valid_from),
                sort_key=lambda r: float(r.valid_from_us),
                sort_keys=_times("valid_from_us"),
                keys_with_rows=True,
                distinct_likely=True,
                tooltip=lambda r: r.valid_from.strftime("Not valid before %Y-%m-%d %H:%M UTC"),
            ),
            Column(
                "Valid To",
                display=self._valid_to_text,
                sort_key=lambda r: float(r.valid_to_us),
                sort_keys=_times("valid_to_us"),
                keys_with_rows=True,
                distinct_likely=True,
                tooltip=self._valid_to_tooltip,
                decoration=self._valid_to_icon,
            ),
            Column(
                "SHA-256",
                display=lambda r: colon_hex(r.sha256),
                sort_key=lambda r: _thumbprint_keys([r])[0],
                sort_keys=_thumbprint_keys,
                exact_keys=_thumbprints,
                keys_with_rows=True,
                distinct_likely=True,
                tooltip=lambda r: "SHA-256 thumbprint of the certificate",
            ),
            Column("", tooltip=lambda r: "Actions for this certificate (or right-click the row)"),
        )

    key_of = staticmethod(attrgetter("id"))  # a C call: map() over a million rows
    dense_ids = True  # the store's row ids

    def haystack(self, r: CertificateRow) -> str:
        return self.haystacks([r])[0]

    @staticmethod
    def haystacks(rows: Sequence[CertificateRow]) -> list[str]:
        # The rows' own search texts, made by the listing: no copy per row.
        return list(map(_SEARCH_TEXT, rows))

    @staticmethod
    def tie_keys(rows: Sequence[CertificateRow]) -> list[str]:
        # Equal values keep a predictable order: by name (then as listed: by id).
        return list(map(str.casefold, map(_ALIAS, rows)))

    @staticmethod
    def in_tie_order(rows: Sequence[CertificateRow]) -> bool:
        # The store lists by alias COLLATE NOCASE, then id: casefold order with ties as
        # listed, where every alias is ASCII (NOCASE folds only A-Z).
        return all(map(str.isascii, map(_ALIAS, rows)))

    def prepare(self) -> None:
        # The time of this listing, for the tints, the texts and the expiry filter alike:
        # a certificate that expired since the filter was chosen leaves "Hide expired".
        self._row_filter = self._expiry_test(self._expiry)

    def background(self, row: CertificateRow):
        # Asked for every painted cell: the state from the stored microseconds, as
        # services/expiry has it, without making a datetime.
        return _TINTS.get(self._state(row))

    def _set_now(self) -> None:
        now = self._now = self._clock()
        self._now_us = (now - _EPOCH) // dt.timedelta(microseconds=1)

    def _state(self, row: CertificateRow) -> str:
        """services.expiry's state at this listing's time."""
        left = row.valid_to_us - self._now_us
        if left < 0:
            return EXPIRED
        if self._now_us < row.valid_from_us:
            return NOT_YET_VALID
        return EXPIRING if left < self.warning_days * _DAY_US else VALID

    # -- the page's names for the shared operations ----------------------------------

    def checked_ids(self) -> list[int]:
        return self.checked_keys()

    def row_by_id(self, certificate_id: int) -> CertificateRow | None:
        return self.row_by_key(certificate_id)

    def remove_ids(self, ids) -> None:
        self.remove_keys(ids)

    def set_filter(self, query: str, expiry: str = FILTER_ALL) -> None:
        query = query.strip().casefold()
        if _COLON_HEX.fullmatch(query):
            query = query.replace(":", "")  # a thumbprint or serial copied as shown
        if (query, expiry) == (self._query, self._expiry):
            return
        self._expiry = expiry
        self._refilter(query, self._expiry_test(expiry))

    def set_warning_days(self, days: int) -> None:
        """The warning period: the rows' tints and the Expiring filter follow at once."""
        if days == self.warning_days:
            return
        self.warning_days = days
        self._refilter(self._query, self._expiry_test(self._expiry))
        if self.rowCount():  # the tints and the Valid To column of the rows still shown
            last = self.index(self.rowCount() - 1, self.columnCount() - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def _expiry_test(self, expiry: str) -> Callable[[CertificateRow], bool] | None:
        self._set_now()
        now_us = self._now_us
        days = self.warning_days
        if expiry.startswith(FILTER_EXPIRING_WITHIN):
            days, expiry = int(expiry[len(FILTER_EXPIRING_WITHIN) :]), FILTER_EXPIRING
        return _EXPIRY_TESTS[expiry](now_us, now_us + days * _DAY_US)

    # -- the Valid To column -----------------------------------------------------------

    def _valid_to_text(self, row: CertificateRow) -> str:
        date = _day(row.valid_to)
        state = self._state(row)
        if state == EXPIRED:
            return f"{date} (expired)"
        if state == NOT_YET_VALID:
            return f"{date} (not yet valid)"
        if state == EXPIRING:
            days = (row.valid_to_us - self._now_us) // _DAY_US  # as services/expiry rounds
            return f"{date} ({plural(days, 'day')} left)"
        return date

    def _valid_to_tooltip(self, row: CertificateRow) -> str:
        state = expiry_of(row, self._now)
        days = state.days_left
        when = row.valid_to.strftime("%Y-%m-%d %H:%M UTC")
        if state.state == EXPIRED:
            return f"Expired {plural(-days, 'day')} ago ({when})"
        text = f"Expires in {plural(days, 'day')} ({when})"
        if state.state == NOT_YET_VALID:
            start = row.valid_from.strftime("%Y-%m-%d %H:%M UTC")
            text = f"Not valid before {start}\n{text}"
        return text

    def _valid_to_icon(self, row: CertificateRow):
        name = _ICONS.get(self._state(row))
        return icon(name) if name else None


_TINTS = {EXPIRED: EXPIRED_TINT, EXPIRING: EXPIRING_TINT}
_ICONS = {EXPIRED: "expired", EXPIRING: "expiring"}

# The expiry filters, each made for one listing's "now": the states of services/expiry
# written as comparisons, which at 100,000 rows cost less than a state per row.
# The times are the stored microseconds, so no row makes a datetime.
_EXPIRY_TESTS = {
    FILTER_ALL: lambda now, soon: None,
    FILTER_EXPIRING: lambda now, soon: lambda r: r.valid_from_us <= now <= r.valid_to_us < soon,
    FILTER_EXPIRED: lambda now, soon: lambda r: r.valid_to_us < now,
    FILTER_HIDE_EXPIRED: lambda now, soon: lambda r: r.valid_to_us >= now,
    FILTER_DISABLED: lambda now, soon: lambda r: not r.enabled,
}


_COLON_HEX = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2})+")


def _signed_colon_hex(serial: str) -> str:
    return ("-" if serial.startswith("-") else "") + colon_hex(serial.lstrip("-"))


# Sort keys, one scalar per row, made by map() and comprehensions rather than a Python
# call per row; the rows share their names tuples and key algorithms, so those keys are
# made once per distinct value.
_ALIAS, _SUBJECT = attrgetter("alias"), attrgetter("subject")
_SERIAL = attrgetter("serial")
# The SHA-256 thumbprint and its first 13 hex digits, from the search text that holds it
# (a C call per row, where the row's property is a Python call).
_THUMBPRINT = itemgetter(SHA256_IN_SEARCH_TEXT)
_THUMBPRINT_START = itemgetter(slice(SHA256_IN_SEARCH_TEXT.start, SHA256_IN_SEARCH_TEXT.start + 13))
_SEARCH_TEXT = attrgetter("search_text")
_DAY_US = 86_400_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # of the stored microseconds


def _counts(field: str) -> Callable[[Sequence[CertificateRow]], array]:
    get = attrgetter(field)
    return lambda rows: array("q", map(get, rows))


def _times(field: str) -> Callable[[Sequence[CertificateRow]], array]:
    """Stored microseconds as floats: `sorted()` compares floats in C, and ints above
    2**30 through the generic comparison, ~1.5x slower. Exact up to 2**53 (the year
    2255); beyond, times under 64 µs apart may tie, which whole-second validity times
    never are. In an array: 8 bytes a row rather than a float object's 32."""
    get = attrgetter(field)
    return lambda rows: array("d", map(float, map(get, rows)))


def _status_keys(rows: Sequence[CertificateRow]) -> array:
    """Enabled, then owned, then PIN, then reason, as bits of one number."""
    flags = map(attrgetter("enabled", "owner", "has_pin", "ask_reason"), rows)
    return array(
        "b", [(e and 8) + (o is not None and 4) + (p and 2) + (a and 1) for e, o, p, a in flags]
    )


def _last_use_keys(rows: Sequence[CertificateRow]) -> array:
    """Never used first; floats, as `_times`."""
    used = map(attrgetter("last_used_us"), rows)
    return array("d", [-1.0 if t is None else float(t) for t in used])


def _serial_keys(rows: Sequence[CertificateRow]) -> array:
    """Serials as numbers, negative ones first, in floats (their first 53 bits;
    `_serial_numbers` orders those that round alike): random 16-byte serials sort twice
    as fast as strings would."""
    return array("d", map(float.fromhex, map(_SERIAL, rows)))


def _serial_numbers(rows: Sequence[CertificateRow]) -> list[int]:
    return [int(serial, 16) for serial in map(_SERIAL, rows)]


def _thumbprints(rows: Sequence[CertificateRow]) -> list[str]:
    return list(map(_THUMBPRINT, map(_SEARCH_TEXT, rows)))


def _thumbprint_keys(rows: Sequence[CertificateRow]) -> array:
    """A thumbprint's first 13 hex digits, exactly a float's 52 bits of fraction; the
    rare equal ones are ordered by the whole thumbprint (the column's exact keys)."""
    return array("d", map(float.fromhex, map(_THUMBPRINT_START, map(_SEARCH_TEXT, rows))))


def _made_once_each(make: Callable, field: str) -> Callable[[Sequence[CertificateRow]], list]:
    """The sort keys of many rows, `make(row.field)` made once per distinct value: the
    rows share few issuers, names tuples and key algorithms. Kept for the one call, not
    the process (a store may hold as many issuers as certificates)."""
    get = attrgetter(field)

    def keys(rows: Sequence[CertificateRow]) -> list:
        values = list(map(get, rows))
        made = {value: make(value) for value in set(values)}
        return list(map(made.__getitem__, values))

    return keys


def _key_order(text: str) -> str:
    """Key sizes compare as numbers (RSA 2048 before RSA 16384): digit runs zero-padded."""
    return re.sub(r"\d+", lambda m: m[0].zfill(12), text)


def _names_key(names: tuple[str, ...]) -> str:
    return ", ".join(names).casefold()


def _day(when: dt.datetime) -> str:
    """strftime("%Y-%m-%d"), which is painted for every visible row: strftime imports
    `time` at each call, and PySide's import hook makes that a Python call."""
    return f"{when.year:04}-{when.month:02}-{when.day:02}"


def _minute(when: dt.datetime) -> str:
    """strftime("%Y-%m-%d %H:%M"), as `_day`."""
    return f"{when.year:04}-{when.month:02}-{when.day:02} {when.hour:02}:{when.minute:02}"


def _name_tooltip(row: CertificateRow) -> str:
    key = "Private key held in the store" if row.has_private_key else "No private key"
    return f"{row.subject}\n{key}"
