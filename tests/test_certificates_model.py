"""The table model over plain rows: no store, no window."""

import datetime as dt
from typing import NamedTuple

import pytest

from PySide6.QtCore import Qt

from app.services.certificates import CertificateRow, certificate_row
from models.base import EPOCH
from ui.certificates_model import (
    FILTER_EXPIRED,
    FILTER_EXPIRING,
    FILTER_HIDE_EXPIRED,
    CertificatesModel,
)
from ui.rows_model import Column, RowsModel

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
M = CertificatesModel


def us(when: dt.datetime) -> int:
    """A time as the store holds it, in microseconds."""
    return (when - EPOCH) // dt.timedelta(microseconds=1)


def row(i, alias, days, last_used=None, **extra) -> CertificateRow:
    fields = dict(
        id=i, alias=alias, enabled=True, owner=None, has_pin=False, ask_reason=False,
        usage_count=0, last_used_us=last_used and us(last_used), groups=(), policies=(),
        valid_from_us=us(NOW - dt.timedelta(days=400)),
        valid_to_us=us(NOW + dt.timedelta(days=days)),
        subject=f"CN={alias}", issuer="CN=Issuing CA", serial=f"{i:04x}",
        sha1=f"{i:040x}", sha256=f"{i:064x}", has_private_key=False, key_algorithm="EC P-256",
    )  # fmt: skip
    return certificate_row(**(fields | extra))


ROWS = [
    row(1, "bravo", 400, usage_count=5, groups=("Prod",), owner="alice"),
    row(2, "Alpha", -10, usage_count=50, last_used=NOW - dt.timedelta(hours=2)),
    row(3, "charlie", 12, enabled=False, has_pin=True, ask_reason=True, policies=("P1",)),
    row(4, "delta", 0, groups=("Legacy", "Prod")),
]


@pytest.fixture
def model(qapp):
    m = CertificatesModel(clock=lambda: NOW)
    m.set_rows(ROWS)
    return m


def column(model, col, role=Qt.ItemDataRole.DisplayRole):
    return [model.data(model.index(r, col), role) for r in range(model.rowCount())]


def test_default_order_is_by_name_case_insensitive(model):
    assert column(model, M.COL_NAME) == ["Alpha", "bravo", "charlie", "delta"]


@pytest.mark.parametrize(
    ("col", "ascending"),
    [
        (M.COL_NAME, ["Alpha", "bravo", "charlie", "delta"]),
        (M.COL_STATUS, ["charlie", "Alpha", "delta", "bravo"]),
        (M.COL_USAGE, ["charlie", "delta", "bravo", "Alpha"]),
        (M.COL_LAST_USE, ["bravo", "charlie", "delta", "Alpha"]),
        (M.COL_GROUPS, ["Alpha", "charlie", "delta", "bravo"]),
        (M.COL_POLICIES, ["Alpha", "bravo", "delta", "charlie"]),
        (M.COL_VALID_TO, ["Alpha", "delta", "charlie", "bravo"]),
    ],
)
def test_sorting_every_column_both_ways(model, col, ascending):
    model.sort(col, Qt.SortOrder.AscendingOrder)
    assert column(model, M.COL_NAME) == ascending
    model.sort(col, Qt.SortOrder.DescendingOrder)
    descending = column(model, M.COL_NAME)
    assert sorted(descending) == sorted(ascending)
    assert descending[0] == ascending[-1]


def test_search_covers_name_subject_serial_and_thumbprints(model):
    model.set_filter("CHAR")
    assert column(model, M.COL_NAME) == ["charlie"]
    model.set_filter("0003")  # the serial of charlie
    assert column(model, M.COL_NAME) == ["charlie"]
    model.set_filter(f"{2:064x}")  # a SHA-256 thumbprint
    assert column(model, M.COL_NAME) == ["Alpha"]
    model.set_filter("issuing ca")
    assert model.rowCount() == 4
    model.set_filter("nothing like this")
    assert model.rowCount() == 0 and model.total_count() == 4


def test_expiry_filters(model):
    model.set_filter("", FILTER_EXPIRED)
    assert column(model, M.COL_NAME) == ["Alpha"]
    model.set_filter("", FILTER_EXPIRING)
    assert column(model, M.COL_NAME) == ["charlie", "delta"]
    model.set_filter("", FILTER_HIDE_EXPIRED)
    assert column(model, M.COL_NAME) == ["bravo", "charlie", "delta"]


def test_valid_to_shows_days_not_percentages(model):
    texts = dict(zip(column(model, M.COL_NAME), column(model, M.COL_VALID_TO), strict=True))
    assert texts["Alpha"] == "2026-11-16 (expired)"
    assert texts["charlie"] == "2026-12-08 (12 days left)"
    assert texts["bravo"] == "2027-12-31"
    tips = dict(
        zip(
            column(model, M.COL_NAME),
            column(model, M.COL_VALID_TO, Qt.ItemDataRole.ToolTipRole),
            strict=True,
        )
    )
    assert tips["Alpha"].startswith("Expired 10 days ago")


def test_expired_and_expiring_rows_are_marked(model):
    backgrounds = column(model, M.COL_NAME, Qt.ItemDataRole.BackgroundRole)
    names = column(model, M.COL_NAME)
    marked = {n for n, b in zip(names, backgrounds, strict=True) if b is not None}
    assert marked == {"Alpha", "charlie", "delta"}
    icons = column(model, M.COL_VALID_TO, Qt.ItemDataRole.DecorationRole)
    assert icons[names.index("bravo")] is None and icons[names.index("Alpha")] is not None


def test_status_tooltip_names_every_state(model):
    names = column(model, M.COL_NAME)
    tips = column(model, M.COL_STATUS, Qt.ItemDataRole.ToolTipRole)
    assert tips[names.index("charlie")] == (
        "Disabled: nobody can sign with it\nNo owner\nPIN required\nReason required when used"
    )
    assert tips[names.index("bravo")].splitlines()[:2] == ["Enabled", "Owner: alice"]


def test_other_columns(model):
    names = column(model, M.COL_NAME)
    assert column(model, M.COL_LAST_USE)[names.index("Alpha")] == "2026-11-26 10:00"
    assert column(model, M.COL_LAST_USE)[names.index("bravo")] == "—"
    assert column(model, M.COL_GROUPS)[names.index("delta")] == "Legacy, Prod"
    assert column(model, M.COL_USAGE)[names.index("Alpha")] == "50"


def test_checks_follow_the_visible_rows(model):
    assert model.visible_check_state() == Qt.CheckState.Unchecked
    model.set_filter("", FILTER_EXPIRED)
    model.check_visible(True)
    assert [model.row_by_id(i).alias for i in model.checked_ids()] == ["Alpha"]
    assert model.visible_check_state() == Qt.CheckState.Checked
    model.set_filter("")
    assert model.visible_check_state() == Qt.CheckState.PartiallyChecked
    index = model.index(3, M.COL_CHECK)  # delta, by name
    assert model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert [model.row_by_id(i).alias for i in model.checked_ids()] == ["Alpha", "delta"]
    assert model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable


class _Named(NamedTuple):
    id: int
    name: str


class _CountedKeys(RowsModel):
    """Counts the keys it makes of rows."""

    made = 0

    def key_of(self, row):
        self.made += 1
        return row[0]


def test_the_checked_rows_are_found_without_a_key_per_row_shown(qapp):
    """The selection bar asks for the checked rows after every change: at 100,000 rows
    shown and 10,000 checked, a key made for every shown row was most of its cost."""
    model = _CountedKeys([Column("Name", display=lambda r: r[1], sort_key=lambda r: r[1])])
    model.set_rows([(i, f"row {999 - i:03d}") for i in range(1000)])
    model.set_checked([5, 900, 17], True)
    model.made = 0
    assert model.checked_keys() == [900, 17, 5]  # in the order shown
    assert model.made == 3
    assert sorted(model.checked_rows()) == [(5, "row 994"), (17, "row 982"), (900, "row 099")]
    model.set_query("row 0")  # "row 099" (900) stays in view; 5 and 17 leave it
    assert model.checked_keys() == [900]
    assert model.checked_rows() == [(900, "row 099")]


def test_an_update_of_many_rows_is_one_span_over_the_view(qapp):
    """Past MAX_REMOVE_RUNS rows, their places are not looked for (a walk over every
    shown row): one dataChanged covers the view, which repaints what it shows."""
    model = RowsModel([Column("Name", display=lambda r: r.name, sort_key=lambda r: r.name)])
    model.set_rows([_Named(i, f"row {i:03d}") for i in range(1000)])
    spans: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b: spans.append((a.row(), b.row())))
    model.update_rows([_Named(i, f"row {i:03d}") for i in (7, 8, 500)])
    assert spans == [(7, 8), (500, 500)]
    spans.clear()
    model.update_rows([_Named(i, f"new {i:03d}") for i in range(3, 1000, 10)])
    assert spans == [(0, 999)]
    assert [model.row_at(i).name for i in (3, 4, 13)] == ["new 003", "row 004", "new 013"]


def test_update_rows_changes_values_in_place(model):
    before = column(model, M.COL_NAME)
    changed = ROWS[0]._replace(alias="zulu", enabled=False)
    model.update_rows([changed])
    names = column(model, M.COL_NAME)
    assert names[before.index("bravo")] == "zulu"  # same place until the next sort
    model.sort(M.COL_NAME, Qt.SortOrder.AscendingOrder)
    assert column(model, M.COL_NAME)[-1] == "zulu"


@pytest.mark.parametrize("runs_limit", [64, 0])  # row removal, and the reset past the limit
def test_remove_ids_drops_rows_and_their_checks(model, runs_limit, monkeypatch):
    monkeypatch.setattr(M, "MAX_REMOVE_RUNS", runs_limit)
    model.set_checked([1, 2, 3], True)
    model.remove_ids([2, 4])
    assert column(model, M.COL_NAME) == ["bravo", "charlie"]
    assert sorted(model.checked_ids()) == [1, 3]
    assert model.total_count() == 2 and model.row_by_id(2) is None
    model.set_filter("charlie")
    assert column(model, M.COL_NAME) == ["charlie"]


def test_a_certificate_that_expires_while_shown_leaves_hide_expired_at_the_next_listing(qapp):
    now = [NOW]
    model = CertificatesModel(clock=lambda: now[0])
    model.set_rows(ROWS)
    model.set_filter("", FILTER_HIDE_EXPIRED)
    assert "delta" in column(model, M.COL_NAME)  # it ends later today
    now[0] = NOW + dt.timedelta(days=1)
    model.set_rows(ROWS)
    assert column(model, M.COL_NAME) == ["bravo", "charlie"]
    assert model.data(model.index(1, M.COL_VALID_TO)).endswith("(11 days left)")  # charlie


def test_a_certificate_not_yet_valid_is_not_expiring(model):
    early = row(5, "echo", 10, valid_from_us=us(NOW + dt.timedelta(days=1)))
    model.set_rows([*ROWS, early])
    model.set_filter("", FILTER_EXPIRING)
    assert "echo" not in column(model, M.COL_NAME)
    model.set_filter("echo")
    assert model.data(model.index(0, M.COL_VALID_TO)).endswith("(not yet valid)")
    assert model.data(model.index(0, M.COL_VALID_TO), Qt.ItemDataRole.BackgroundRole) is None


def test_a_row_the_search_or_filter_hides_leaves_the_checks(model):
    said = []
    model.checkedChanged.connect(said.append)
    model.set_checked([1, 2, 3], True)  # bravo, Alpha, charlie
    model.set_filter("a")  # every name has an a: nothing hidden, nothing unchecked
    assert sorted(model.checked_ids()) == [1, 2, 3] and said == [3]
    model.set_filter("", FILTER_EXPIRED)  # Alpha only
    assert model.checked_ids() == [2] and said == [3, 1]
    model.set_filter("")
    assert model.checked_ids() == [2]  # showing them again does not check them again
    model.set_checked([1, 2], True)
    model.set_filter("", FILTER_HIDE_EXPIRED)
    # A reload under a filter: a checked row that no longer passes it leaves the checks.
    model.set_rows([r._replace(valid_to_us=us(NOW - dt.timedelta(days=1))) for r in ROWS])
    assert model.rowCount() == 0 and model.checked_ids() == []


def test_the_optional_columns_show_stored_values(model):
    rsa = row(5, "echo", 30, key_algorithm="RSA 16384", serial="-0a1b")
    model.set_rows([*ROWS, rsa, row(6, "foxtrot", 30, key_algorithm="RSA 2048")])
    model.sort(M.COL_KEY, Qt.SortOrder.AscendingOrder)
    assert column(model, M.COL_KEY)[-2:] == ["RSA 2048", "RSA 16384"]  # sizes as numbers
    model.set_filter("echo")
    assert column(model, M.COL_SERIAL) == ["-0A:1B"]
    assert column(model, M.COL_SUBJECT) == ["CN=echo"]
    assert column(model, M.COL_VALID_FROM) == [(NOW - dt.timedelta(days=400)).strftime("%Y-%m-%d")]
    sha = column(model, M.COL_SHA256)[0]
    assert sha == ":".join(["00"] * 31 + ["05"])
    model.set_filter(sha[-8:])  # a thumbprint pasted as the table shows it
    assert column(model, M.COL_NAME) == ["echo"]
