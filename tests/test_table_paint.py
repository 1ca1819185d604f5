"""What painting the certificates table asks of Python: the model once per painted cell
(`multiData`, all the roles a delegate wants), answering what `data()` answers role by
role, and the expiry shown from the stored microseconds as services/expiry says it."""

import datetime as dt

import pytest

from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan, Qt
from PySide6.QtGui import QIcon

from app.services.certificates import CertificateRow, certificate_row
from app.services.expiry import expiry
from models.base import EPOCH, from_micros
from ui.certificates_model import EXPIRED_TINT, EXPIRING_TINT, CertificatesModel
from ui.certificates_table import CertificatesTable
from ui.rows_model import RowsModel

M = CertificatesModel
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
R = Qt.ItemDataRole
ROLES = (
    R.DisplayRole,
    R.DecorationRole,
    R.ToolTipRole,
    R.FontRole,
    R.TextAlignmentRole,
    R.BackgroundRole,
    R.ForegroundRole,
    R.CheckStateRole,
    RowsModel.ROW_ROLE,
)


def us(when: dt.datetime) -> int:
    return (when - EPOCH) // dt.timedelta(microseconds=1)


def row(i: int, alias: str, days: int, **extra) -> CertificateRow:
    fields = dict(
        id=i, alias=alias, enabled=i % 3 != 0, owner="alice" if i % 2 else None,
        has_pin=i % 5 == 0, ask_reason=False, usage_count=i, last_used_us=None,
        valid_from_us=us(NOW - dt.timedelta(days=400)),
        valid_to_us=us(NOW + dt.timedelta(days=days)),
        subject=f"CN={alias}", issuer="CN=Issuing CA", serial=f"{i:04x}", sha1=f"{i:040x}",
        sha256=f"{i:064x}", has_private_key=i % 2 == 0, key_algorithm="EC P-256",
        groups=("Prod",) if i % 2 else (), policies=(),
    )  # fmt: skip
    return certificate_row(**(fields | extra))


# Valid, expiring, expired; with and without a key, owner, groups.
ROWS = [row(1, "bravo", 400), row(2, "Alpha", -10), row(3, "charlie", 12), row(4, "delta", 0)]


class Counted(CertificatesModel):
    """The certificates model, counting the Python calls a view makes of it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = {"data": 0, "multiData": 0}

    def data(self, index, role=R.DisplayRole):
        self.calls["data"] += 1
        return super().data(index, role)

    def multiData(self, index, roles) -> None:
        self.calls["multiData"] += 1
        super().multiData(index, roles)


def multi(model, index, role):
    item = QModelRoleData(role)
    model.multiData(index, QModelRoleDataSpan(item))
    return item.data()


def comparable(value):
    """QIcon has no ==: the same icon is the same cache key."""
    return ("icon", value.cacheKey()) if isinstance(value, QIcon) else value


def test_multi_data_answers_every_role_as_data_does(qapp):
    model = CertificatesModel(clock=lambda: NOW)
    model.set_rows(ROWS)
    model.set_checked([ROWS[0].id], True)
    for r in range(model.rowCount()):
        for c in range(model.columnCount()):
            index = model.index(r, c)
            for role in ROLES:
                answer = comparable(multi(model, index, role))
                assert answer == comparable(model.data(index, role)), (r, c, role)
            assert multi(model, index, R.DisplayRole) == model.data(index)


def test_a_repaint_asks_the_model_once_per_painted_cell(qtbot):
    model = Counted(clock=lambda: NOW)
    model.set_rows([row(i, f"cert {i:04}", i % 60 - 20) for i in range(1, 2001)])
    table = CertificatesTable(model)
    qtbot.addWidget(table)
    table.resize(1024, 700)
    table.show()
    qtbot.waitExposed(table)
    model.calls.update(data=0, multiData=0)
    table.viewport().grab()
    rows = table.rowAt(table.viewport().height() - 1) + 1
    header = table.horizontalHeader()
    shown = sum(not header.isSectionHidden(c) for c in range(model.columnCount()))
    assert 20 < rows < 100
    assert 0 < model.calls["multiData"] <= rows * shown, model.calls
    # Only the Status column's own painting reads a row through data(), once per row.
    assert model.calls["data"] <= rows


@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [
        (NOW - dt.timedelta(days=1), NOW - dt.timedelta(microseconds=1)),
        (NOW - dt.timedelta(days=1), NOW),
        (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30, microseconds=-1)),
        (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30)),
        (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1, hours=-1)),
        (NOW + dt.timedelta(microseconds=1), NOW + dt.timedelta(days=3)),
        (NOW, NOW + dt.timedelta(days=400)),
        (NOW + dt.timedelta(days=2), NOW - dt.timedelta(days=2)),
    ],
)
def test_the_expiry_shown_is_services_expiry(qapp, valid_from, valid_to):
    model = CertificatesModel(clock=lambda: NOW)
    model.set_rows([row(1, "a", 0, valid_from_us=us(valid_from), valid_to_us=us(valid_to))])
    state = expiry(from_micros(us(valid_from)), from_micros(us(valid_to)), NOW)
    index = model.index(0, M.COL_VALID_TO)
    tint = {"expired": EXPIRED_TINT, "expiring": EXPIRING_TINT}.get(state.state)
    assert model.data(index, R.BackgroundRole) == tint
    assert (model.data(index, R.DecorationRole) is not None) == (tint is not None)
    text = model.data(index, R.DisplayRole)
    date = valid_to.strftime("%Y-%m-%d")
    expected = {
        "expired": f"{date} (expired)",
        "not yet valid": f"{date} (not yet valid)",
        "expiring": f"{date} ({state.days_left} day{'' if state.days_left == 1 else 's'} left)",
        "valid": date,
    }[state.state]
    assert text == expected


@pytest.mark.parametrize("width", [300, 1024])
def test_name_keeps_the_room_left_when_a_layout_change_lays_the_sections_out_again(qtbot, width):
    """Name takes the room the other columns leave (its least width where there is none),
    and a layout change (a sort, the end of a load) leaves it so. Fitted while the header
    laid its sections out again, it came out too narrow at 1024 px (a gap at the right)
    and twice a narrow viewport wide (its title out of sight)."""
    model = CertificatesModel(clock=lambda: NOW)
    model.set_rows([row(i, f"cert {i:04}", i % 60 - 20) for i in range(1, 301)])
    table = CertificatesTable(model)
    qtbot.addWidget(table)
    table.resize(width, 400)
    table.show()
    qtbot.waitExposed(table)
    header = table.horizontalHeader()
    fitted = header.sectionSize(CertificatesModel.COL_NAME)
    others = header.length() - fitted
    assert fitted == max(table._name_min, table.viewport().width() - others)
    model.sort(CertificatesModel.COL_USAGE, Qt.SortOrder.DescendingOrder)
    assert header.sectionSize(CertificatesModel.COL_NAME) == fitted
