"""The whole console, as issue 13's first "Done when" says, through the widgets: an
Administrator makes a custom role, a user with it, a user group with them in it, and a
policy granting a certificate group to the user group on weekdays; the Policies column
and Who Can Sign change; the user signs in and signs a file, asked for the reason and the
PIN (openssl accepts the signature), after a wrong PIN; Usage Count rises; and the
Administrator finds the signature and the refused attempt in the Audit Log page and
exports them to CSV.

The clock of the decisions is a Wednesday at 10:00 UTC (the policy holds on weekdays),
so the test means the same on any day it runs."""

import csv
import datetime as dt

import pytest

from PySide6.QtCore import Qt

from app.services import (
    certificate_edits,
    certificate_groups,
    policies,
    signing,
    users,
)
from app.services.certificate_edits import GeneralChanges
from tests.helpers.gui import settle, wait_rows
from tests.helpers.stores import PASSWORD, import_keys
from ui.main_window import MainWindow

PIN = "246813"
RITA = "rita's long password"


@pytest.fixture
def wednesday(monkeypatch):
    today = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    when = today + dt.timedelta(days=(2 - today.weekday()) % 7)
    for module in (signing, policies):
        monkeypatch.setattr(module, "utcnow", lambda: when)
    return when


def window_of(qtbot, session, rows: int) -> MainWindow:
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, rows)
    settle(qtbot)
    return win


def click_ok(qtbot, dialog) -> None:
    assert dialog.ok_button.isEnabled(), dialog.ok_button.toolTip()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)


def row_of(win, alias: str):
    model = win.certificates.model
    return next(model.row_at(i) for i in range(model.rowCount()) if model.row_at(i).alias == alias)


def test_from_a_custom_role_to_a_signature_in_the_audit_log(
    qtbot, session, tmp_path, certs, wednesday
):
    import_keys(session, tmp_path, certs, "Release 2027", "Unrelated")
    certificate_groups.add_to_groups(session, ["Release 2027"], ["Production"])
    certificate_edits.edit_certificate(
        session, "Release 2027", GeneralChanges(pin=PIN, ask_reason=True)
    )
    folder = session.folder
    win = window_of(qtbot, session, 2)

    roles_page = win.open_page("Roles")
    qtbot.waitUntil(lambda: roles_page.loaded, timeout=10_000)
    dialog = roles_page.new_role()
    dialog.name.setText("Release Signer")
    dialog.start.setCurrentIndex(dialog.start.findText("Signer"))
    click_ok(qtbot, dialog)
    assert roles_page.selected_role().name == "Release Signer"

    users_page = win.open_page("Users")
    settle(qtbot)
    dialog = users_page.new_user()
    dialog.name.setText("rita")
    dialog.display_name.setText("Rita Alves")
    dialog.role.setCurrentIndex(dialog.role.findData("Release Signer"))
    dialog.password.setText(RITA)
    dialog.confirmation.setText(RITA)
    click_ok(qtbot, dialog)
    assert users_page.selected().role == "Release Signer"

    groups_page = win.open_page("User Groups")
    dialog = groups_page.create()
    dialog.name.setText("Builders")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    picker = groups_page.add_members()
    settle(qtbot)
    picker.set_checked("rita")
    qtbot.mouseClick(picker.ok_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert groups_page.selected().members == ("rita",)

    assert row_of(win, "Release 2027").policies == ()
    policies_page = win.open_page("Policies")
    editor = policies_page.new_policy()
    editor.name.setText("Builders on weekdays")
    settle(qtbot)
    editor.certificate_groups.set_checked("Production")
    settle(qtbot)
    editor.user_groups.set_checked("Builders")
    editor.scheduled.setChecked(True)
    editor.all_day.setChecked(True)
    click_ok(qtbot, editor)
    assert row_of(win, "Release 2027").policies == ("Builders on weekdays",)
    cert_window = win.certificates.open_certificate(row_of(win, "Release 2027").id)
    qtbot.waitUntil(lambda: cert_window.signers_tab.model.rowCount() == 1, timeout=10_000)
    signer = cert_window.signers_tab.model.row_at(0)
    assert (signer.user, signer.allowed, signer.policy) == ("rita", True, "Builders on weekdays")
    win.close()

    rita, _ = users.sign_in(folder, "rita", password=RITA)
    win = window_of(qtbot, rita, 2)
    signing_page = win.open_page("Signing")
    qtbot.waitUntil(lambda: signing_page.loaded, timeout=10_000)
    assert signing_page.select(row_of(win, "Release 2027").id)
    content = tmp_path / "installer.msi"
    content.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(50_000))
    dialog = signing_page.sign_selected()
    qtbot.waitUntil(lambda: bool(dialog.choices), timeout=10_000)
    assert dialog.form.isRowVisible(dialog.reason) and dialog.form.isRowVisible(dialog.pin)
    dialog.set_file(content)
    dialog.reason.setText("Release 4.2")
    dialog.pin.setText("000000")
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert dialog.error.text() == "Wrong PIN."
    dialog.pin.setText(PIN)
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert certs.verify_detached(tmp_path / "installer.msi.p7s", content)
    assert row_of(win, "Release 2027").usage_count == 1
    win.close()

    admin, _ = users.sign_in(folder, "admin", password=PASSWORD)
    win = window_of(qtbot, admin, 2)
    audit = win.open_page("Audit Log")
    qtbot.waitUntil(lambda: audit.loaded, timeout=10_000)
    qtbot.waitUntil(lambda: audit.action_filter.findData("certificate.sign") > 0, timeout=5_000)
    audit.action_filter.setCurrentIndex(audit.action_filter.findData("certificate.sign"))
    settle(qtbot)
    shown = [audit.model.row_at(i) for i in range(audit.model.rowCount())]
    assert [(e.user, e.outcome, e.target) for e in shown] == [
        ("rita", "allowed", "Release 2027"),
        ("rita", "failed", "Release 2027"),
    ]
    assert shown[0].details["reason"] == "Release 4.2"
    out = tmp_path / "signatures.csv"
    audit.export_to(out)
    settle(qtbot)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert [(r[2], r[3], r[5]) for r in rows[1:]] == [
        ("rita", "certificate.sign", "failed"),
        ("rita", "certificate.sign", "allowed"),
    ]
    win.close()
