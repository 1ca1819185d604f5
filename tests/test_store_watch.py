"""The console notices what others change in its store (issue 10, item 14): a second
`certdesk` process, another session. The table follows within a few seconds and keeps
its checks, its selection and its place; the window's own writes are not read twice."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from PySide6.QtCore import QItemSelection, QItemSelectionModel
from PySide6.QtWidgets import QTableView

from app.services import certificate_groups, journal, lifecycle, store_changes, users
from app.services.certificate_edits import GeneralChanges, edit_certificate
from app.services.session import write_transaction
from models import AuditEvent, statements
from tests.helpers.cli import cli_env, run_process
from tests.helpers.gui import cert_files, settle, wait_rows
from tests.helpers.stores import PASSWORD, import_some
from ui.certificates_model import CertificatesModel as M
from ui.main_window import MainWindow
from ui.rows_model import Column, RowsModel
from ui.store_events import events
from ui.store_watch import kept_place

SEEN_WITHIN_MS = 8000  # a poll every 2 s, and a moment to read the rows


@pytest.fixture
def other(session, store_dir):
    """A second session on the same store, as a second window would hold."""
    second, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    yield second
    second.close()


# -- what the journal says -------------------------------------------------------------


def test_another_sessions_changes_are_reported_and_the_own_are_not(session, other, tmp_path, certs):
    ids = import_some(session, tmp_path, certs, ["alpha", "bravo", "charlie"])
    after = store_changes.watch(session)
    assert store_changes.changes_since(session, after) == store_changes.Changes(after)

    lifecycle.disable_certificates(session, [ids["alpha"]])  # this session's own
    lifecycle.disable_certificates(other, [ids["bravo"], ids["charlie"]])
    changes = store_changes.changes_since(session, after)
    assert changes.certificates == (ids["bravo"], ids["charlie"])
    assert (changes.groups, changes.requests) == (False, False)
    assert changes.last_event == AuditEvent.select().count()

    after = changes.last_event
    certificate_groups.add_to_groups(other, [ids["alpha"]], ["web"])
    edit_certificate(other, ids["charlie"], GeneralChanges(alias="delta"))  # a rename
    changes = store_changes.changes_since(session, after)
    assert changes.certificates == (ids["alpha"], ids["charlie"])
    assert changes.groups

    after = changes.last_event
    lifecycle.delete_certificates(other, [ids["bravo"]])  # its row goes: reload them all
    changes = store_changes.changes_since(session, after)
    assert changes.certificates is None and changes.groups


def test_own_runs_of_a_bulk_write_are_skipped_whole(session, other, tmp_path, certs):
    ids = import_some(session, tmp_path, certs, [f"c{i}" for i in range(12)])
    after = store_changes.watch(session)
    lifecycle.disable_certificates(session, list(ids.values()))  # 12 events, one run
    lifecycle.enable_certificates(other, [ids["c3"]])
    lifecycle.enable_certificates(session, [ids["c4"]])
    assert store_changes.changes_since(session, after).certificates == (ids["c3"],)


def test_own_runs_are_skipped_by_their_ids_unread(session, other, tmp_path, certs, monkeypatch):
    """A bulk write's own events are not read back only to be left out: the events read
    are the others' alone, however many the window wrote around them."""
    ids = import_some(session, tmp_path, certs, [f"c{i}" for i in range(12)])
    after = store_changes.watch(session)
    lifecycle.disable_certificates(other, [ids["c0"]])
    lifecycle.disable_certificates(session, [ids[f"c{i}"] for i in range(1, 11)])
    lifecycle.disable_certificates(other, [ids["c11"]])
    lifecycle.enable_certificates(session, [ids["c5"]])
    read: list[tuple] = []
    events_after = statements.audit_events_after

    def reading(*args):
        read.extend(events := events_after(*args))
        return events

    monkeypatch.setattr(statements, "audit_events_after", reading)
    changes = store_changes.changes_since(session, after)
    assert changes.certificates == (ids["c0"], ids["c11"])
    assert [e[2] for e in read] == ["c0", "c11"]
    assert changes.last_event == AuditEvent.select().count()
    assert journal.own_runs(session.store.db) == []


def test_a_rolled_back_run_whose_ids_another_wrote_is_theirs(session, other, tmp_path, certs):
    """The ids of a run that was rolled back are taken by the next writer: its events
    are reported, and the note of the run goes once the log is past it."""
    ids = import_some(session, tmp_path, certs, ["c0", "c1"])
    after = store_changes.watch(session)
    with pytest.raises(RuntimeError), write_transaction(session):
        lifecycle.disable_certificates(session, [ids["c0"], ids["c1"]])
        raise RuntimeError("rolled back")
    assert journal.own_runs(session.store.db)
    lifecycle.disable_certificates(other, [ids["c1"], ids["c0"]])  # the same ids, and count
    assert store_changes.changes_since(session, after).certificates == (ids["c0"], ids["c1"])
    assert journal.own_runs(session.store.db) == []


def test_a_note_of_an_own_run_lasts_only_its_time(session, tmp_path, certs, monkeypatch):
    """A run noted but never read back (its transaction rolled back, say) must not stay
    for the life of the window: after OWN_RUN_TTL_S it is dropped, and the events, if
    they are there after all, are reported rather than lost."""
    ids = import_some(session, tmp_path, certs, ["c0", "c1"])
    after = store_changes.watch(session)
    lifecycle.disable_certificates(session, [ids["c0"]])
    assert journal.own_runs(session.store.db)
    later = journal.monotonic() + journal.OWN_RUN_TTL_S + 1
    monkeypatch.setattr(journal, "monotonic", lambda: later)
    assert journal.own_runs(session.store.db) == []
    assert store_changes.changes_since(session, after).certificates == (ids["c0"],)


def test_refused_and_failed_events_change_nothing(session, store_dir, tmp_path, certs):
    ids = import_some(session, tmp_path, certs, ["alpha"])
    after = store_changes.watch(session)
    users.add_user(session, "auditor", "a good long password", "Auditor")
    auditor, _ = users.sign_in(store_dir, "auditor", password="a good long password")
    try:
        with pytest.raises(Exception, match=r"certificates\.enable_disable"):
            lifecycle.disable_certificates(auditor, [ids["alpha"]])  # recorded as denied
    finally:
        auditor.close()
    changes = store_changes.changes_since(session, after)
    assert changes.certificates == () and not changes.groups and not changes.requests


def test_every_action_the_services_record_is_classified():
    """An action unknown to store_changes reloads everything: correct, but a reload of
    100,000 rows for what may be one row. Each one recorded today is named there."""
    services = Path(store_changes.__file__).parent
    pattern = re.compile(r'journal\.record(?:_many)?\(\s*[^,()]+,\s*"([a-z_]+\.[a-z_]+)"')
    recorded = {m for path in services.glob("*.py") for m in pattern.findall(path.read_text())}
    recorded |= {"certificate.enable", "certificate.disable"}  # lifecycle passes its own
    assert len(recorded) > 15
    assert recorded <= store_changes.KNOWN_ACTIONS, recorded - store_changes.KNOWN_ACTIONS


# -- the window -----------------------------------------------------------------------


@pytest.fixture
def watched(qtbot, session, tmp_path, certs):
    """40 rows in a short window, scrolled down, two rows checked, one selected."""
    ids = import_some(session, tmp_path, certs, [f"Row {i:02d}" for i in range(40)])
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    win.resize(700, 400)
    wait_rows(qtbot, win, 40)
    settle(qtbot)
    model, table = win.certificates.model, win.certificates.table
    table.scrollTo(model.index(30, M.COL_NAME))
    table.selectRow(25)
    model.set_checked([ids["Row 20"], ids["Row 24"]], True)
    assert table.rowAt(0) > 0
    return win, ids


def place(win) -> tuple:
    """The checks, the selected rows and the row at the top, by name."""
    model, table = win.certificates.model, win.certificates.table
    checked = sorted(model.row_by_id(i).alias for i in model.checked_ids())
    selected = [model.row_at(i.row()).alias for i in table.selectionModel().selectedRows()]
    return checked, selected, model.row_at(table.rowAt(0)).alias


def test_a_certdesk_process_disabling_a_row_refreshes_only_that_row(
    qtbot, watched, tmp_path, store_dir
):
    win, _ids = watched
    model = win.certificates.model
    before = place(win)
    reloads = []
    win.certificates.loaded.connect(lambda: reloads.append(True))
    done = run_process(["disable", "Row 26"], cli_env(tmp_path, store_dir))
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: not _row(model, "Row 26").enabled, timeout=SEEN_WITHIN_MS)
    assert reloads == []  # the row was re-read, not the table
    assert place(win) == before


def test_a_certdesk_process_importing_reloads_and_keeps_checks_and_place(
    qtbot, watched, tmp_path, store_dir, certs
):
    win, _ids = watched
    before = place(win)
    (new,) = cert_files(certs, tmp_path, ["Row 00a"])  # sorts above the top row
    done = run_process(["import", new], cli_env(tmp_path, store_dir))
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: win.certificates.model.total_count() == 41, timeout=SEEN_WITHIN_MS)
    settle(qtbot)
    assert place(win) == before
    assert "41 certificates" in win.count_label.text()


def test_a_certdesk_process_grouping_rows_updates_the_groups_page(
    qtbot, watched, tmp_path, store_dir
):
    win, _ids = watched
    done = run_process(["group", "add", "web", "Row 03", "Row 04"], cli_env(tmp_path, store_dir))
    assert done.returncode == 0, done.stderr
    groups = win.groups.model
    qtbot.waitUntil(lambda: groups.total_count() == 1, timeout=SEEN_WITHIN_MS)
    assert groups.row_at(0).name == "web" and groups.row_at(0).members == 2
    qtbot.waitUntil(lambda: _row(win.certificates.model, "Row 03").groups == ("web",), timeout=5000)


def test_the_windows_own_write_is_read_once(qtbot, watched, session):
    win, ids = watched
    announced, reloads = [], []
    events.certificates_changed.connect(announced.append)
    win.certificates.loaded.connect(lambda: reloads.append(True))
    try:
        win.certificates.actions.set_enabled([ids["Row 26"]], False)
        qtbot.waitUntil(lambda: not _row(win.certificates.model, "Row 26").enabled)
        last = AuditEvent.select().order_by(AuditEvent.id.desc()).first().id
        # The watch has read past the write's event: it said nothing more of it.
        qtbot.waitUntil(lambda: win.store_watch.last_event == last, timeout=SEEN_WITHIN_MS)
        settle(qtbot)
    finally:
        events.certificates_changed.disconnect(announced.append)
    assert announced == [(ids["Row 26"],)]
    assert reloads == []


def test_the_watch_stops_when_the_window_closes(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)
    assert win.store_watch.watching
    win.close()
    assert not win.store_watch.watching
    assert win.store_watch.poll() is None  # a late timer tick reads nothing


def _row(model: M, alias: str):
    return next(model.row_at(i) for i in range(model.rowCount()) if model.row_at(i).alias == alias)


@dataclass(frozen=True)
class _Record:
    id: int
    name: str


def test_a_reload_keeps_thousands_of_selected_rows_as_one_range_per_run(qtbot):
    """The place is found again in one walk over the view, and each run of selected rows
    is selected as one range: 3,000 selected of 10,000 rows, with a row arriving inside
    the first run and an unselected one leaving."""
    model = RowsModel([Column("Name", display=lambda r: r.name, sort_key=lambda r: r.name)])
    records = [_Record(i, f"Row {i:05d}") for i in range(10_000)]
    model.set_rows(records)
    table = QTableView()
    qtbot.addWidget(table)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setModel(model)
    table.show()
    chosen = [*range(100, 2100), *range(5000, 6000, 2), *range(8000, 8500)]
    selection = QItemSelection()
    for row in chosen:
        selection.select(model.index(row, 0), model.index(row, 0))
    table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    table.selectionModel().setCurrentIndex(model.index(5000, 0), QItemSelectionModel.NoUpdate)
    table.scrollTo(model.index(4000, 0), QTableView.ScrollHint.PositionAtTop)
    top = model.row_at(table.rowAt(0)).id

    with kept_place(table):
        model.set_rows([*records[:7000], _Record(-1, "Row 00150a"), *records[7001:]])

    assert model.visible_rows_of([7000, 8000, -1, 99_999, 151]) == [151, 152, 8000]
    kept = [model.row_at(index.row()).id for index in table.selectionModel().selectedRows()]
    assert sorted(kept) == chosen
    # The new row splits the first run in two; every other row is a range of its own.
    assert table.selectionModel().selection().count() == 2 + 500 + 1
    assert model.row_at(table.currentIndex().row()).id == 5000
    assert model.row_at(table.rowAt(0)).id == top
