"""The Dashboard and the store's menu: the figures (counted by the store, opening the
Certificates page filtered to them), the signatures chart, the expiry banner and its
configurable warning period, the .ics calendar (`expiry --ics` too, and `dashboard
--json`), Backup, Restore and Check Store from the window, Lock (the session holds no
key afterwards, and signing in again works), and what a Signer's console offers."""

import datetime as dt
import json

import pytest

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QLabel

from app.services import (
    certificate_edits,
    certificate_import,
    dashboard,
    lifecycle,
    signing,
    users,
)
from app.services.certificate_edits import GeneralChanges
from models.permissions import SIGNER
from tests.helpers.gui import settle, wait_rows
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD
from ui import settings
from ui.application import Console
from ui.login import LoginDialog
from ui.main_window import MainWindow


@pytest.fixture
def store(session, tmp_path, certs):
    """Certificates ending in 10, 45, 80 and 400 days, one expired, one disabled; "Soon"
    with its key, owned by admin and signed with twice."""
    paths = []
    for alias, days in (("Soon", 10), ("Month", 45), ("Quarter", 80), ("Year", 400), ("Gone", -3)):
        cert, key = certs.make_cert(alias, days=days, start_days=-30)
        data = certs.p12(cert, key, None) if alias == "Soon" else certs.pem(cert)
        paths.append(certs.write(tmp_path, f"{alias}.bin", data))
    certificate_import.import_files(session, paths)
    lifecycle.disable_certificates(session, ["Year"])
    certificate_edits.edit_certificate(session, "Soon", GeneralChanges(owner="admin"))
    content = tmp_path / "a.txt"
    content.write_text("x")
    for _ in range(2):
        signing.sign_file(session, "Soon", content).signature.unlink()
    return session


def test_the_figures_are_counted_by_the_store(store):
    figures = dashboard.dashboard(store)
    assert (figures.total, figures.with_keys, figures.disabled, figures.expired) == (5, 1, 1, 1)
    assert figures.expiring == {30: 1, 60: 2, 90: 3}
    assert [(u.alias, u.signatures) for u in figures.usage] == [("Soon", 2)]
    assert figures.latest[0].action == "certificate.sign"
    assert dashboard.expiring(store, 50) == 2


def test_the_calendar_is_rfc_5545(store, tmp_path, cli):
    out = tmp_path / "expiry.ics"
    assert dashboard.export_calendar(store, out) == 4  # not the expired one
    text = out.read_bytes().decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith(
        "END:VCALENDAR\r\n"
    )
    assert text.count("BEGIN:VEVENT") == 4 and "TRIGGER:-P7D" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "SUMMARY:Certificate “Soon” expires" in text
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    assert f"DTSTART;VALUE=DATE:{soon:%Y%m%d}" in text
    with pytest.raises(Exception, match="exists"):
        dashboard.export_calendar(store, out)
    assert dashboard.export_calendar(store, tmp_path / "month.ics", days=30) == 1


def test_the_cli_dashboard_and_expiry(cli, closed_store, tmp_path, certs):
    for alias, days in (("Soon", 10), ("Later", 200)):
        path = certs.write(
            tmp_path, f"{alias}.pem", certs.pem(certs.make_cert(alias, days=days)[0])
        )
        assert cli("import", str(path)).returncode == 0
    shown = json.loads(cli("dashboard", "--json").stdout)
    assert (shown["certificates"], shown["expiring"], shown["expired"]) == (
        2,
        {"30": 1, "60": 1, "90": 1},
        0,
    )
    assert (
        shown["signatures_30_days"] == []
        and shown["latest_events"][0]["action"] == "certificate.import"
    )
    listed = json.loads(cli("expiry", "--days", "30", "--json").stdout)
    assert [r["alias"] for r in listed] == ["Soon"]
    written = cli("expiry", "--ics", str(tmp_path / "e.ics"))
    assert written.returncode == 0 and "Wrote 2 expiry date(s)" in written.stdout
    again = cli("expiry", "--ics", str(tmp_path / "e.ics"))
    assert again.returncode == 1 and again.stderr.startswith("certdesk: --ics: ")
    assert again.stderr.endswith("e.ics: exists; choose a new file name\n")


@pytest.fixture
def window(qtbot, store):
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    page = win.page_by_title["Dashboard"]
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    settle(qtbot)
    return win


def test_the_dashboard_is_the_landing_page_and_its_figures_open_the_rows(qtbot, window):
    page = window.pages.currentWidget()
    assert page.title == "Dashboard"
    assert {k: t.value for k, t in page.tiles.items()} == {
        "total": 5,
        "30": 1,
        "60": 2,
        "90": 3,
        "expired": 1,
        "disabled": 1,
    }
    assert [(u.alias, u.signatures) for u in page.chart.usage] == [("Soon", 2)]
    assert page.latest.count() == 10
    page.tiles["60"].click()
    settle(qtbot)
    certs = window.certificates
    assert window.pages.currentWidget() is certs
    shown = {certs.model.row_at(i).alias for i in range(certs.model.rowCount())}
    assert shown == {"Soon", "Month"}
    window.open_page("Dashboard")
    page.tiles["disabled"].click()
    settle(qtbot)
    assert [certs.model.row_at(i).alias for i in range(certs.model.rowCount())] == ["Year"]
    window.open_page("Dashboard")
    page.chart.chosen.emit("Soon")
    settle(qtbot)
    audit = window.pages.currentWidget()
    assert audit.title == "Audit Log" and audit.model.rowCount() == 2


def test_the_banner_follows_the_warning_period(qtbot, window):
    banner = window.banner
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=5_000)
    assert banner.text.text() == "1 certificate expires within 30 days."
    dialog = window.open_settings()
    dialog.warning.setValue(50)
    dialog.idle.setValue(0)
    dialog.accept()
    settle(qtbot)
    assert banner.text.text() == "2 certificates expire within 50 days."
    assert settings.warning_days() == 50 and not window.idle.running
    certs = window.certificates
    assert certs.expiry.itemText(1) == "Expiring within 50 days"
    banner.show_button.click()
    settle(qtbot)
    assert {certs.model.row_at(i).alias for i in range(certs.model.rowCount())} == {"Soon", "Month"}


def test_backup_restore_and_check_from_the_store_menu(qtbot, window, tmp_path):
    actions = window.store_actions
    archive = tmp_path / "store.certdesk-backup"
    actions.backup_to(archive)
    settle(qtbot)
    assert archive.is_file() and "Backed up the store" in actions.box.text()
    actions.box.close()
    actions.check()
    settle(qtbot)
    assert (
        actions.box.text()
        == "The store is intact: database, key slots, sealed keys and audit chain."
    )
    actions.box.close()
    asked = []
    window.signInRequested.connect(lambda folder, user, why: asked.append((folder, why)))
    restored = tmp_path / "restored"
    actions.restore_into(archive, restored)
    settle(qtbot)
    box = actions.box
    assert "restored into" in box.text()
    next(b for b in box.buttons() if b.text() == "Open Restored Store").click()
    settle(qtbot)
    assert asked == [(restored, "restored")]
    opened, _ = users.sign_in(restored, "admin", password=PASSWORD)
    assert len(dashboard.dashboard(opened).latest) == 10
    opened.close()


def test_lock_drops_the_keys_and_signing_in_again_works(qtbot, store):
    console = Console(QApplication.instance())
    console._open(store)
    window = console.window
    wait_rows(qtbot, window, 5)
    store_object = store.store
    window.lock()
    settle(qtbot)
    assert store.keys is None and store.custodian is None
    assert not any(store_object._master_key)  # wiped, not only dropped
    assert store_object.db.is_closed()
    dialog = console.dialog
    assert isinstance(dialog, LoginDialog) and dialog.user.currentText() == "admin"
    assert any("locked" in label.text() for label in dialog.findChildren(QLabel))
    dialog.password.setText(PASSWORD)
    dialog.unlock()
    qtbot.waitUntil(lambda: console.window is not window, timeout=10_000)
    again = console.window
    wait_rows(qtbot, again, 5)
    assert again.session.keys is not None
    again.signing_in_again = True  # closed by the test, not to quit the application
    again.close()
    QSettings().sync()


def test_a_signer_sees_downloads_and_signs(qtbot, store, tmp_path, certs):
    users.add_user(store, "sam", SIGNER_PASSWORD, SIGNER)
    certificate_edits.edit_certificate(store, "Soon", GeneralChanges(owner="sam"))
    store.close()
    sam, _ = users.sign_in(store.folder, "sam", password=SIGNER_PASSWORD)
    win = MainWindow(sam)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 5)
    dash = win.page_by_title["Dashboard"]
    qtbot.waitUntil(lambda: dash.loaded, timeout=5_000)
    assert dash.tiles["total"].value == 5
    assert dash.latest_hint.text() == "Your role (Signer) may not read the audit log."
    assert win.sign_action.isEnabled()
    row = next(i for i in range(5) if win.certificates.model.row_at(i).alias == "Soon")
    menu = win.certificates.actions.build_menu(win.certificates.model.row_at(row))
    enabled = {a.text() for a in menu.actions() if a.text() and a.isEnabled()}
    assert enabled == {"Properties…", "Download (.cer)…", "Sign File…"}
    assert not win.store_actions.backup_action.isEnabled()
    page = win.open_page("Signing")
    qtbot.waitUntil(lambda: page.loaded and page.model.rowCount() == 1, timeout=5_000)
    page.select(page.model.row_at(0).id)
    dialog = page.sign_selected()
    qtbot.waitUntil(lambda: bool(dialog.choices), timeout=5_000)
    content = tmp_path / "build.zip"
    content.write_bytes(b"PK" + bytes(1000))
    dialog.set_file(content)
    dialog.sign()
    settle(qtbot)
    assert certs.verify_detached(tmp_path / "build.zip.p7s", content)
    users_page = win.open_page("Users")
    assert not users_page.new_action.isEnabled()


def test_the_console_locks_after_the_idle_time_and_input_holds_it_off(qtbot, store):
    QSettings().setValue(settings.IDLE_LOCK_MINUTES, 1)
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)
    timer = win.idle._timer
    assert timer.isActive() and timer.interval() == 60_000
    win.idle._watch(win.windowHandle())
    qtbot.wait(300)
    before = timer.remainingTime()
    qtbot.keyClick(win.windowHandle(), "a")
    assert timer.remainingTime() > before + 200  # the input started it again
    asked = []
    win.signInRequested.connect(lambda folder, user, why: asked.append((user, why)))
    timer.timeout.emit()  # the minute ran out
    settle(qtbot)
    assert asked == [("admin", "idle")] and store.keys is None


def test_an_empty_store_says_how_to_begin(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    page = win.page_by_title["Dashboard"]
    qtbot.waitUntil(lambda: page.loaded, timeout=10_000)
    assert page.empty.isVisible() and "Import" in page.empty.text()
    assert not win.banner.isVisible()
