"""The certificates table model: the shared rows model (ui.rows_model) with the seed
page's columns and the optional ones (subject, issuer, serial, key, valid from, SHA-256),
the expiry filter and the tint of expired and expiring rows."""

import datetime as dt
import re
from collections.abc import Callable

from PySide6.QtGui import QColor

from app.crypto.details import colon_hex
from app.services.certificates import EXPIRING_DAYS, CertificateRow
from app.services.expiry import EXPIRED, EXPIRING, NOT_YET_VALID, Expiry, expiry
from ui.icons import icon
from ui.rows_model import Column, RowsModel
from ui.wording import plural

FILTER_ALL = "all"
FILTER_EXPIRING = "expiring"
FILTER_EXPIRED = "expired"
FILTER_HIDE_EXPIRED = "hide-expired"

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
        self._now = self._clock()
        self._expiry = FILTER_ALL
        super().__init__(self._columns(), parent)
        self._sort_column = self.COL_NAME
        assert tuple(c.title for c in self.columns) == self.HEADERS

    def _columns(self) -> tuple[Column, ...]:
        return (
            Column("", checkable=True),
            Column(
                "Name",
                display=lambda r: r.alias,
                sort_key=lambda r: "",  # ties are broken by name
                tooltip=_name_tooltip,
                decoration=lambda r: icon("key" if r.has_private_key else "certificate"),
            ),
            Column(
                "Status",
                sort_key=lambda r: (r.enabled, r.owner is not None, r.has_pin, r.ask_reason),
                tooltip=status_text,
            ),
            Column(
                "Usage Count",  # the seed page's name: how many times it signed
                header="Uses",  # the columns fit 1024 pixels at a desktop's 10-11 pt
                display=lambda r: str(r.usage_count),
                sort_key=lambda r: r.usage_count,
                align_right=True,
            ),
            Column(
                "Last Use (UTC)",
                display=lambda r: r.last_used.strftime("%Y-%m-%d %H:%M") if r.last_used else "—",
                sort_key=lambda r: (r.last_used is not None, r.last_used or self._now),
            ),
            Column(
                "Groups",
                display=lambda r: ", ".join(r.groups),
                sort_key=lambda r: ", ".join(r.groups).casefold(),
                tooltip=lambda r: ", ".join(r.groups) or None,
            ),
            Column(
                "Policies",
                display=lambda r: ", ".join(r.policies),
                sort_key=lambda r: ", ".join(r.policies).casefold(),
                tooltip=lambda r: ", ".join(r.policies) or None,
            ),
            Column(
                "Subject",
                display=lambda r: r.subject,
                sort_key=lambda r: r.subject.casefold(),
                tooltip=lambda r: r.subject,
            ),
            Column(
                "Issuer",
                display=lambda r: r.issuer,
                sort_key=lambda r: r.issuer.casefold(),
                tooltip=lambda r: r.issuer,
            ),
            Column(
                "Serial",
                display=lambda r: _signed_colon_hex(r.serial),
                sort_key=lambda r: (r.serial.startswith("-"), len(r.serial), r.serial),
            ),
            Column("Key", display=lambda r: r.key_algorithm, sort_key=_key_order),
            Column(
                "Valid From",
                display=lambda r: r.valid_from.strftime("%Y-%m-%d"),
                sort_key=lambda r: r.valid_from,
                tooltip=lambda r: r.valid_from.strftime("Not valid before %Y-%m-%d %H:%M UTC"),
            ),
            Column(
                "Valid To",
                display=self._valid_to_text,
                sort_key=lambda r: r.valid_to,
                tooltip=self._valid_to_tooltip,
                decoration=self._valid_to_icon,
            ),
            Column(
                "SHA-256",
                display=lambda r: colon_hex(r.sha256),
                sort_key=lambda r: r.sha256,
                tooltip=lambda r: "SHA-256 thumbprint of the certificate",
            ),
            Column("", tooltip=lambda r: "Actions for this certificate (or right-click the row)"),
        )

    def haystack(self, r: CertificateRow) -> str:
        return "\n".join((r.alias, r.subject, r.issuer, r.serial, r.sha1, r.sha256)).casefold()

    def tie_key(self, r: CertificateRow) -> tuple:
        # Equal values keep a predictable order: by name.
        return (r.alias.casefold(), r.id)

    def prepare(self) -> None:
        # The time of this listing, for the tints, the texts and the expiry filter alike:
        # a certificate that expired since the filter was chosen leaves "Hide expired".
        self._row_filter = self._expiry_test(self._expiry)

    def background(self, row: CertificateRow):
        return _TINTS.get(expiry_of(row, self._now).state)

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

    def _expiry_test(self, expiry: str) -> Callable[[CertificateRow], bool] | None:
        now = self._now = self._clock()
        soon = now + dt.timedelta(days=EXPIRING_DAYS)
        return _EXPIRY_TESTS[expiry](now, soon)

    # -- the Valid To column -----------------------------------------------------------

    def _valid_to_text(self, row: CertificateRow) -> str:
        date = row.valid_to.strftime("%Y-%m-%d")
        state = expiry_of(row, self._now)
        if state.state == EXPIRED:
            return f"{date} (expired)"
        if state.state == NOT_YET_VALID:
            return f"{date} (not yet valid)"
        if state.state == EXPIRING:
            return f"{date} ({plural(state.days_left, 'day')} left)"
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
        name = _ICONS.get(expiry_of(row, self._now).state)
        return icon(name) if name else None


_TINTS = {EXPIRED: EXPIRED_TINT, EXPIRING: EXPIRING_TINT}
_ICONS = {EXPIRED: "expired", EXPIRING: "expiring"}

# The expiry filters, each made for one listing's "now": the states of services/expiry
# written as comparisons, which at 100,000 rows cost less than a state per row.
_EXPIRY_TESTS = {
    FILTER_ALL: lambda now, soon: None,
    FILTER_EXPIRING: lambda now, soon: lambda r: r.valid_from <= now <= r.valid_to < soon,
    FILTER_EXPIRED: lambda now, soon: lambda r: r.valid_to < now,
    FILTER_HIDE_EXPIRED: lambda now, soon: lambda r: r.valid_to >= now,
}


_COLON_HEX = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2})+")


def _signed_colon_hex(serial: str) -> str:
    return ("-" if serial.startswith("-") else "") + colon_hex(serial.lstrip("-"))


def _key_order(row: CertificateRow) -> tuple:
    """Key sizes compare as numbers: RSA 2048 before RSA 16384."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", row.key_algorithm))


def _name_tooltip(row: CertificateRow) -> str:
    key = "Private key held in the store" if row.has_private_key else "No private key"
    return f"{row.subject}\n{key}"
