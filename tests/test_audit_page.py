"""The audit log's filters, its CSV and its verdict, in the service, the CLI
(`audit --user/--action/--target/--outcome/--since/--until/--csv`) and the Audit Log page,
driven through its widgets."""

import csv
import datetime as dt
import io

import pytest

from app.errors import PermissionDenied, ValidationError
from app.services import audit_log, lifecycle, users
from app.services.audit_log import AuditFilter
from models import AuditEvent
from models.base import using
from models.permissions import AUDITOR, SIGNER
from tests.helpers.gui import settle
from tests.helpers.stores import SIGNER_PASSWORD, import_some
from ui.audit_view import AuditView
from ui.main_window import MainWindow

UTC = dt.UTC


@pytest.fixture
def logged(session, tmp_path, certs):
    """Imports, a disable, a refused disable by an Auditor, and a target that a
    spreadsheet would run as a formula."""
    import_some(session, tmp_path, certs, ["Build 100%", "Release", "=HYPERLINK(1)"])
    lifecycle.disable_certificates(session, ["Release"])
    users.add_user(session, "audrey", SIGNER_PASSWORD, AUDITOR)
    auditor, _ = users.sign_in(session.folder, "audrey", password=SIGNER_PASSWORD)
    with pytest.raises(PermissionDenied, match="lacks the permission"):
        lifecycle.disable_certificates(auditor, ["Build 100%"])
    auditor.close()
    return session


def actions(entries) -> list[tuple[str, str, str]]:
    return [(e.user, e.action, e.target) for e in entries]


def test_each_filter_keeps_what_it_names(logged):
    every = audit_log.list_events(logged)
    assert every == sorted(every, key=lambda e: e.id)
    by = lambda **kw: actions(audit_log.list_events(logged, AuditFilter(**kw)))  # noqa: E731
    assert by(outcome="denied") == [("audrey", "certificate.disable", "Build 100%")]
    assert by(user="audrey") == [("audrey", "certificate.disable", "Build 100%")]
    assert [a for _u, a, _t in by(action="certificate.*")] == [
        "certificate.import",
        "certificate.import",
        "certificate.import",
        "certificate.disable",
        "certificate.disable",
    ]
    # A part of the target as typed: % is no wildcard.
    assert {t for _u, _a, t in by(target="100%")} == {"Build 100%"}
    assert by(target="0%x") == []
    first = every[1]
    assert actions(audit_log.list_events(logged, AuditFilter(through=first.id))) == actions(
        every[:2]
    )
    later = dt.datetime.now(UTC) + dt.timedelta(hours=1)
    assert by(since=later) == []
    assert len(by(until=later)) == len(every)
    with pytest.raises(ValidationError, match="not after its start"):
        AuditFilter(since=later, until=later)
    with pytest.raises(ValidationError, match="outcome"):
        AuditFilter(outcome="maybe")


def test_the_newest_events_are_read_and_the_rest_counted(logged):
    every = audit_log.list_events(logged)
    newest = audit_log.newest_events(logged, AuditFilter(), 3)
    assert newest.entries == every[-3:] and newest.matched == len(every)
    facets = audit_log.facets(logged)
    assert facets.users == ["admin", "audrey"]
    assert "certificate.disable" in facets.actions


def test_the_csv_holds_every_match_and_runs_no_formula(logged, tmp_path):
    out = tmp_path / "audit.csv"
    assert audit_log.export_csv(logged, out, AuditFilter(action="certificate.import")) == 3
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert rows[0] == list(audit_log.CSV_COLUMNS)
    assert [r[4] for r in rows[1:]] == ["Build 100%", "Release", "'=HYPERLINK(1)"]
    assert all(r[1].endswith("Z") and r[5] == "allowed" for r in rows[1:])
    with pytest.raises(Exception, match="exists"):
        audit_log.export_csv(logged, out)


def test_the_cli_filters_and_prints_csv(cli, closed_store, tmp_path, certs):
    path = certs.write(tmp_path, "a.pem", certs.pem(certs.make_cert("Shared")[0]))
    assert cli("import", str(path)).returncode == 0
    assert cli("disable", "Shared").returncode == 0
    printed = cli("audit", "--csv", "--action", "certificate.*", "--since", "2020-01-01")
    assert printed.returncode == 0, printed.stderr
    rows = list(csv.reader(io.StringIO(printed.stdout)))
    assert [r[3] for r in rows[1:]] == ["certificate.import", "certificate.disable"]
    today = f"{dt.datetime.now(UTC):%Y-%m-%d}"
    assert len(list(csv.reader(io.StringIO(cli("audit", "--csv", "--until", today).stdout)))) == 4
    assert cli("audit", "--since", "2026-13-01").returncode == 2
    assert cli("audit", "--csv", "--json").returncode == 2
    assert cli("audit", "--outcome", "maybe").returncode == 2
    reversed_range = cli("audit", "--since", "2027-01-02", "--until", "2027-01-01")
    assert reversed_range.returncode == 1
    assert reversed_range.stderr.strip() == (
        "certdesk: --until: the end of the time range is not after its start"
    )


@pytest.fixture
def page(qtbot, logged):
    win = MainWindow(logged)
    qtbot.addWidget(win)
    win.show()
    audit = win.open_page("Audit Log")
    qtbot.waitUntil(lambda: audit.loaded, timeout=10_000)
    settle(qtbot)
    return audit


def shown(page: AuditView) -> list[tuple[str, str, str]]:
    return [
        (e.user, e.action, e.target)
        for e in (page.model.row_at(i) for i in range(page.model.rowCount()))
    ]


def test_the_page_filters_through_its_widgets(qtbot, page, logged):
    assert shown(page)[0] == ("audrey", "certificate.disable", "Build 100%")  # newest first
    assert page.user_filter.findText("audrey") > 0
    page.outcome_filter.setCurrentIndex(page.outcome_filter.findData("denied"))
    settle(qtbot)
    assert shown(page) == [("audrey", "certificate.disable", "Build 100%")]
    assert page.clear_filters.isEnabled()
    page.reset_filters()
    settle(qtbot)
    page.target_filter.setText("Release")
    qtbot.waitUntil(lambda: page.filters.target == "Release", timeout=5_000)
    settle(qtbot)
    assert {t for _u, _a, t in shown(page)} == {"Release"}
    page.reset_filters()
    page.time_filter.setCurrentIndex(page.time_filter.findData("custom"))
    page.date_from.setDate(page.date_until.date().addDays(1))
    page.date_until.setDate(page.date_until.date().addDays(3))
    settle(qtbot)
    assert shown(page) == [] and page.table.empty_hint == page.empty_hint


def test_a_write_shows_in_the_page_at_once(qtbot, page, logged):
    win = page.window()
    before = page.model.total_count()
    win.certificates.actions.set_enabled([win.certificates.model.row_at(0).id], False)
    settle(qtbot)
    assert page.model.total_count() == before + 1


def test_verify_says_intact_then_selects_the_first_broken_event(qtbot, page, logged):
    page.verify()
    settle(qtbot)
    assert page.verdict_label.text().startswith("The audit log is intact")
    with using(logged.store.db):
        second = AuditEvent.select().order_by(AuditEvent.id).limit(1).offset(1).get()
        AuditEvent.update(target="Edited").where(AuditEvent.id == second.id).execute()
    page.outcome_filter.setCurrentIndex(page.outcome_filter.findData("denied"))
    settle(qtbot)
    page.verify()
    settle(qtbot)
    assert page.broken[0] == second.id
    assert page.verdict_label.text().startswith(f"The audit log is broken at event {second.id}")
    assert page.selected().id == second.id and page.selected().target == "Edited"
    assert page.filters == AuditFilter(through=second.id)


def test_export_writes_what_the_filters_keep(qtbot, page, tmp_path):
    page.user_filter.setCurrentIndex(page.user_filter.findData("audrey"))
    settle(qtbot)
    out = tmp_path / "denied.csv"
    page.export_to(out)
    settle(qtbot)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert [r[2:6] for r in rows[1:]] == [["audrey", "certificate.disable", "Build 100%", "denied"]]
    assert "Exported 1 event to" in page.window().statusBar().currentMessage()


def test_a_signer_is_told_the_log_is_not_theirs(qtbot, session):
    users.add_user(session, "sam", SIGNER_PASSWORD, SIGNER)
    session.close()
    signer, _ = users.sign_in(session.folder, "sam", password=SIGNER_PASSWORD)
    win = MainWindow(signer)
    qtbot.addWidget(win)
    win.show()
    page = win.open_page("Audit Log")
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    assert page.table.empty_hint == "Your role (Signer) may not read the audit log."
    assert not page.verify_action.isEnabled() and not page.export_action.isEnabled()
    assert not page.user_filter.isEnabled()
