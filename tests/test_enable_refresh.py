"""Enabling or disabling checked rows, as the table takes it: the write's own answer sets
the flag in place (the page reads none of those rows again, while every other listener
is still told which certificates changed), and the GUI thread's work for it grows with
the rows, not with their square. Counts, not times (speed is measured in bench/)."""

import gc
import sys

import pytest

from PySide6.QtCore import QCoreApplication, Qt

from app.services import certificate_groups, certificate_import, certificates, lifecycle
from tests.helpers.gui import cert_files, settle
from tests.helpers.stores import import_some
from ui.certificates_model import CertificatesModel as M
from ui.certificates_view import CertificatesView
from ui.main_window import MainWindow
from ui.store_events import events

NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


@pytest.fixture
def reads(monkeypatch):
    """The ids each re-read of certificate rows asked for (the real read runs)."""
    asked: list[list[int]] = []
    real = certificates.certificate_rows

    def certificate_rows(session, ids):
        asked.append(list(ids))
        return real(session, ids)

    monkeypatch.setattr(certificates, "certificate_rows", certificate_rows)
    return asked


@pytest.fixture
def heard():
    announced: list = []
    events.certificates_changed.connect(announced.append)
    yield announced
    events.certificates_changed.disconnect(announced.append)


def loaded_page(qtbot, session, tmp_path, certs):
    """The certificates page of a shown main window, NAMES imported and read."""
    certificate_import.import_files(session, cert_files(certs, tmp_path, NAMES))
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    view = win.certificates
    qtbot.waitUntil(
        lambda: not view.loading and view.model.rowCount() == len(NAMES), timeout=10_000
    )
    settle(qtbot)
    return view


def test_disabling_checked_rows_sets_them_in_place_and_others_are_still_told(
    qtbot, session, tmp_path, certs, reads, heard
):
    view = loaded_page(qtbot, session, tmp_path, certs)
    ids = [view.model.row_at(r).id for r in (0, 2, 3)]
    view.model.set_checked(ids, True)
    view.actions.disable_checked.trigger()
    qtbot.waitUntil(lambda: not any(view.model.row_by_id(i).enabled for i in ids))
    settle(qtbot)
    assert sorted(heard[-1]) == sorted(ids)  # the other pages re-read what changed
    assert reads == []  # this page took the flag from the write's answer
    stored = {r.id: r.enabled for r in certificates.list_certificates(session)}
    assert [bool(stored[r.id]) for r in map(view.model.row_at, range(5))] == [
        False,
        True,
        False,
        False,
        True,
    ]
    # A change that says no more than which certificates changed is read again.
    certificate_groups.add_to_groups(session, ids[:1], ["Prod"])
    events.announce(certificates=ids[:1])
    qtbot.waitUntil(lambda: view.model.row_by_id(ids[0]).groups == ("Prod",))
    assert reads == [ids[:1]]


def _gui_calls_to_take(view, ids) -> int:
    """Python calls on the GUI thread while the page takes the announcement of a disable
    and settles (what a 0 ms timer defers included)."""
    calls = 0

    def profile(_frame, event, _arg) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(profile)
    try:
        events.announce(certificates=ids, enabled=False)
        QCoreApplication.processEvents()
    finally:
        sys.setprofile(None)
    return calls


def test_the_gui_work_of_disabling_scattered_rows_grows_linearly(
    qtbot, session, tmp_path, certs, reads
):
    """Every other row checked: each is a run of its own, so the model emits dataChanged
    once per row (up to its limit); the selection bar looks at the checked rows once."""
    calls = {}
    for n in (16, 64):
        names = [f"N{n} {i:03d}" for i in range(n)]
        folder = tmp_path / str(n)
        folder.mkdir()
        stored = import_some(session, folder, certs, names)  # with the rows of before
        view = CertificatesView(session)
        qtbot.addWidget(view)
        view.reload()
        total = len(stored)
        qtbot.waitUntil(lambda v=view, k=total: v.model.total_count() == k, timeout=10_000)
        settle(qtbot)
        ids = [stored[a] for a in names[::2]]
        view.model.set_checked(ids, True)
        QCoreApplication.processEvents()
        lifecycle.disable_certificates(session, ids)
        calls[n] = _gui_calls_to_take(view, ids)
        assert not any(view.model.row_by_id(i).enabled for i in ids)
        events.forget(view)
    assert reads == []
    assert calls[64] < 4 * calls[16], calls


def test_rows_set_in_place_sort_by_their_new_flag_and_keep_their_haystacks(
    qtbot, session, tmp_path, certs, monkeypatch
):
    """The flag is in no haystack or tie key and only the Status column sorts by it:
    setting it in place remakes that column's keys alone, and sorts by it are right."""
    certificate_import.import_files(session, cert_files(certs, tmp_path, NAMES))
    view = CertificatesView(session)
    qtbot.addWidget(view)
    view.reload()
    qtbot.waitUntil(lambda: view.model.total_count() == len(NAMES), timeout=10_000)
    settle(qtbot)
    model = view.model
    for column in (M.COL_STATUS, M.COL_USAGE, M.COL_NAME):  # keys and orders made
        model.sort(column, Qt.SortOrder.AscendingOrder)
    ids = [model.row_at(r).id for r in (1, 3)]  # Bravo, Delta
    made: list[int] = []
    real = model.haystacks
    monkeypatch.setattr(model, "haystacks", lambda rows: made.append(len(rows)) or real(rows))
    lifecycle.disable_certificates(session, ids)
    events.announce(certificates=ids, enabled=False)
    QCoreApplication.processEvents()
    assert made == []
    model.sort(M.COL_STATUS, Qt.SortOrder.AscendingOrder)  # the disabled first
    assert [model.row_at(r).alias for r in range(5)] == [
        "Bravo",
        "Delta",
        "Alpha",
        "Charlie",
        "Echo",
    ]
    model.sort(M.COL_USAGE, Qt.SortOrder.AscendingOrder)  # all unused: by name
    assert [model.row_at(r).alias for r in range(5)] == NAMES
    model.set_filter("delta")
    assert [model.row_at(r).alias for r in range(model.rowCount())] == ["Delta"]
    events.forget(view)


def test_the_write_and_the_update_in_place_run_with_no_garbage_collection(
    qtbot, session, tmp_path, certs, monkeypatch
):
    """10,000 certificates make tens of thousands of tuples on each side: the collector
    is paused for the service call on the writer thread and for the update in place on
    the GUI thread, and on again afterwards."""
    view = loaded_page(qtbot, session, tmp_path, certs)
    collecting: dict[str, bool] = {}
    disable, update_rows = lifecycle.disable_certificates, view.model.update_rows

    def disabling(*args):
        collecting["write"] = gc.isenabled()
        return disable(*args)

    def updating(*args, **kwargs):
        collecting["in place"] = gc.isenabled()
        return update_rows(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "disable_certificates", disabling)
    monkeypatch.setattr(view.model, "update_rows", updating)
    ids = [view.model.row_at(r).id for r in (0, 2)]
    view.model.set_checked(ids, True)
    view.actions.disable_checked.trigger()
    qtbot.waitUntil(lambda: not any(view.model.row_by_id(i).enabled for i in ids))
    settle(qtbot)
    assert collecting == {"write": False, "in place": False}
    assert gc.isenabled()
