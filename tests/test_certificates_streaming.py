"""The Certificates page reads its rows in chunks: the first screen shows before the last
chunk is in, every chunk adds rows without a reset, and the rows in the end are the full
listing in the order the header claims. A reload keeps the place as before."""

import threading

import pytest

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.services import certificates
from tests.helpers.gui import settle
from tests.helpers.stores import import_some
from ui.certificates_model import CertificatesModel as M
from ui.certificates_view import CertificatesView

NAMES = ["delta", "Alpha", "echo", "Bravo", "charlie", "foxtrot", "Golf", "hotel", "India"]


@pytest.fixture
def stored(session, tmp_path, certs, monkeypatch):
    import_some(session, tmp_path, certs, NAMES)
    monkeypatch.setattr(certificates, "FIRST_CHUNK", 2)
    monkeypatch.setattr(certificates, "LATER_CHUNK", 3)
    return session


def shown(view) -> list[str]:
    return [view.model.row_at(n).alias for n in range(view.model.rowCount())]


def watch(view) -> list[tuple[str, int]]:
    """What the model tells the table, with how many rows it shows then."""
    said: list[tuple[str, int]] = []
    model = view.model
    model.rowsInserted.connect(lambda *_: said.append(("inserted", model.rowCount())))
    model.modelReset.connect(lambda: said.append(("reset", model.rowCount())))
    view.loaded.connect(lambda: said.append(("loaded", model.rowCount())))
    return said


def test_the_first_chunk_shows_at_once_the_rest_when_all_are_in_in_name_order(qtbot, stored):
    view = CertificatesView(stored)
    qtbot.addWidget(view)
    said = watch(view)
    counted: list[str] = []
    view.countsChanged.connect(lambda *_: counted.append(view.counts_text()))
    view.reload()
    qtbot.waitUntil(lambda: ("loaded", len(NAMES)) in said, timeout=10_000)
    # The later chunks come as the table's pages hold them, by id: they wait out of view
    # and go in at once (a table repaints its viewport at each change of its row count).
    assert said == [("inserted", 2), ("inserted", 9), ("loaded", 9)]
    assert shown(view) == sorted(NAMES, key=str.casefold)
    # While most rows waited out of view, the counts said the read was under way.
    assert counted[0] == "Reading certificates… 2 so far"
    assert counted[-1] == view.counts_text() == "9 certificates"
    full = certificates.list_certificates(stored, order="name")
    assert [view.model.row_at(n) for n in range(len(NAMES))] == full
    # Which columns' keys all differ is checked after the rows are in, not before.
    assert view.checking
    qtbot.waitUntil(lambda: not view.checking, timeout=10_000)
    assert M.COL_SHA256 in view.model.distinct_columns
    # A reload forgets the check of the rows it replaces.
    view.reload()
    assert not view.checking
    qtbot.waitUntil(lambda: not view.loading, timeout=10_000)


def test_names_the_store_orders_otherwise_end_in_the_tables_order(
    qtbot, session, tmp_path, certs, monkeypatch
):
    # SQLite's NOCASE folds ASCII only: it puts "Éz" before "éa", casefold after.
    names = ["Éz", "b", "éa", "a"]
    import_some(session, tmp_path, certs, names)
    monkeypatch.setattr(certificates, "FIRST_CHUNK", 2)
    view = CertificatesView(session)
    qtbot.addWidget(view)
    said = watch(view)
    view.reload()
    qtbot.waitUntil(lambda: ("loaded", len(names)) in said, timeout=10_000)
    assert shown(view) == sorted(names, key=str.casefold) == ["a", "b", "éa", "Éz"]


def test_a_read_that_fails_midway_shows_what_came_and_says_why(qtbot, stored, monkeypatch):
    stream = certificates.stream_certificates

    def failing(session, order, chunk):
        def some(rows, in_order):
            if len(seen) == 2:
                raise OSError("disk I/O error")
            seen.append(rows)
            chunk(rows, in_order)

        return stream(session, order, some)

    seen: list = []
    monkeypatch.setattr(certificates, "stream_certificates", failing)
    view = CertificatesView(stored)
    qtbot.addWidget(view)
    view.show()
    view.reload()
    settle(qtbot)
    got = [r.alias for part in seen for r in part]
    assert len(seen) == 2 and len(got) < len(NAMES)  # the first screen, one chunk by id
    assert shown(view) == sorted(got, key=str.casefold)  # in view, in the header's order
    boxes = [w for w in view.findChildren(QMessageBox) if w.isVisible()]
    assert len(boxes) == 1


def test_a_reload_stops_the_read_it_replaces_at_its_next_chunk(qtbot, stored, monkeypatch):
    stream = certificates.stream_certificates
    first_chunk_in, go_on = threading.Event(), threading.Event()
    given: list[int] = []  # chunks each read gave, by read
    ended: list[str] = []

    def watched(session, order, chunk):
        read = len(given)
        given.append(0)

        def counted(rows, in_order):
            chunk(rows, in_order)
            given[read] += 1
            if read == 0:
                first_chunk_in.set()
                go_on.wait(10)

        try:
            result = stream(session, order, counted)
        except Exception as exc:
            ended.append(type(exc).__name__)
            raise
        ended.append("done")
        return result

    monkeypatch.setattr(certificates, "stream_certificates", watched)
    view = CertificatesView(stored)
    qtbot.addWidget(view)
    view.reload()
    assert first_chunk_in.wait(10)
    view.reload()  # while the first read waits after its first chunk
    go_on.set()
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=10_000)
    settle(qtbot)
    assert sorted(ended) == ["_Superseded", "done"] and given[0] == 1
    assert shown(view) == sorted(NAMES, key=str.casefold)
    assert not [w for w in view.findChildren(QMessageBox) if w.isVisible()]


def test_rows_streamed_under_another_sort_end_in_that_order(qtbot, stored):
    view = CertificatesView(stored)
    qtbot.addWidget(view)
    view.table.horizontalHeader().setSortIndicator(M.COL_NAME, Qt.SortOrder.DescendingOrder)
    said = watch(view)
    view.reload()
    qtbot.waitUntil(lambda: ("loaded", len(NAMES)) in said, timeout=10_000)
    assert shown(view) == sorted(NAMES, key=str.casefold, reverse=True)


def test_a_search_typed_while_rows_stream_holds_for_the_later_chunks(qtbot, stored):
    view = CertificatesView(stored)
    qtbot.addWidget(view)
    view.model.set_filter("ot")
    said = watch(view)
    view.reload()
    qtbot.waitUntil(lambda: bool(said) and said[-1][0] == "loaded", timeout=10_000)
    assert shown(view) == ["foxtrot", "hotel"]
    view.model.set_filter("")
    assert shown(view) == sorted(NAMES, key=str.casefold)


def test_a_reload_replaces_the_rows_at_once_and_keeps_the_selection(qtbot, stored):
    view = CertificatesView(stored)
    qtbot.addWidget(view)
    view.reload()
    qtbot.waitUntil(lambda: view.model.rowCount() == len(NAMES), timeout=10_000)
    settle(qtbot)
    view.table.selectRow(3)
    said = watch(view)
    view.reload()
    qtbot.waitUntil(lambda: bool(said) and said[-1][0] == "loaded", timeout=10_000)
    assert said == [("reset", 9), ("loaded", 9)]  # no table emptied and refilled
    rows = view.table.selectionModel().selectedRows()
    assert [view.model.row_at(i.row()).alias for i in rows] == ["delta"]
