"""Sign File…, through the widgets: the dialog asks for the reason and the PIN only when
the certificate does, saves `<file>.p7s` beside the file without replacing one, says a
refusal in the dialog, and the table's Usage Count rises at once. openssl judges the
signatures."""

import pytest

from PySide6.QtCore import Qt

from app.services import audit_log, certificate_edits, lifecycle, users
from app.services.certificate_edits import GeneralChanges
from models.permissions import AUDITOR, SIGNER
from tests.helpers.gui import menu_action, open_menu, settle, wait_rows
from tests.helpers.stores import SIGNER_PASSWORD, import_keys
from ui.main_window import MainWindow
from ui.sign_dialog import SignFileDialog

PIN = "246813"


@pytest.fixture
def window(qtbot, session, tmp_path, certs):
    import_keys(session, tmp_path, certs, "Build", "Plain", "Off")
    for alias in ("Build", "Plain", "Off"):
        certificate_edits.edit_certificate(session, alias, GeneralChanges(owner="admin"))
    certificate_edits.edit_certificate(session, "Build", GeneralChanges(pin=PIN, ask_reason=True))
    lifecycle.disable_certificates(session, ["Off"])
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    wait_rows(qtbot, win, 3)
    settle(qtbot)
    return win


def opened(qtbot, dialog: SignFileDialog) -> SignFileDialog:
    qtbot.waitUntil(lambda: bool(dialog.choices), timeout=10_000)
    return dialog


def sign(qtbot, dialog: SignFileDialog) -> bool:
    """Click Sign and wait for the outcome: True when the dialog closed on it."""
    assert dialog.sign_button.isEnabled(), dialog.sign_button.toolTip()
    closed = []
    dialog.accepted.connect(lambda: closed.append(True))
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    return bool(closed)


def usage(win, alias: str) -> int:
    model = win.certificates.model
    rows = (model.row_at(i) for i in range(model.rowCount()))
    return next(r for r in rows if r.alias == alias).usage_count


def test_the_quick_action_menu_signs_with_the_reason_and_pin_asked(qtbot, window, tmp_path, certs):
    content = tmp_path / "app.exe"
    content.write_bytes(b"MZ" + bytes(300_000))
    (tmp_path / "app.exe.p7s").write_bytes(b"an older signature, kept")
    row = next(i for i in range(3) if window.certificates.model.row_at(i).alias == "Build")
    menu = open_menu(qtbot, window, row, "mouse")
    menu_action(menu, "Sign File…").trigger()
    dialog = opened(qtbot, window.certificates.sign_dialog)
    assert dialog.chosen().alias == "Build"
    assert dialog.form.isRowVisible(dialog.reason) and dialog.form.isRowVisible(dialog.pin)

    dialog.set_file(content)
    assert dialog.signature.text() == str(tmp_path / "app.exe (2).p7s")
    assert not dialog.sign_button.isEnabled()  # the reason and the PIN are still missing
    assert "reason" in dialog.sign_button.toolTip()
    dialog.reason.setText("release 1.0")
    dialog.pin.setText("000000")
    assert not sign(qtbot, dialog)
    assert dialog.isVisible() and dialog.error.isVisible()
    assert dialog.error.text() == "Wrong PIN."
    assert dialog.pin.text() == ""  # typed again, not kept
    assert not (tmp_path / "app.exe (2).p7s").exists()
    assert usage(window, "Build") == 0

    dialog.pin.setText(PIN)
    assert sign(qtbot, dialog)
    signature = tmp_path / "app.exe (2).p7s"
    assert certs.verify_detached(signature, content)
    assert (tmp_path / "app.exe.p7s").read_bytes() == b"an older signature, kept"
    assert usage(window, "Build") == 1
    assert "app.exe (2).p7s" in window.statusBar().currentMessage()
    events = [e for e in audit_log.list_events(window.session) if e.action == "certificate.sign"]
    assert [(e.outcome, e.details.get("reason")) for e in events] == [
        ("failed", None),
        ("allowed", "release 1.0"),
    ]


def test_the_file_menu_offers_what_may_sign_and_asks_nothing_more(qtbot, window, tmp_path, certs):
    content = tmp_path / "notes.txt"
    content.write_text("hello")
    dialog = opened(qtbot, window.sign_file())
    assert [dialog.certificate.itemText(i) for i in range(dialog.certificate.count())] == [
        "Build",
        "Off — Disabled",
        "Plain",
    ]
    dialog.choose("Off")
    assert "disabled" in dialog.note.text()
    dialog.set_file(content)
    assert not dialog.sign_button.isEnabled()
    assert dialog.sign_button.toolTip() == dialog.note.text()
    dialog.choose("Plain")
    assert not dialog.form.isRowVisible(dialog.reason)
    assert not dialog.form.isRowVisible(dialog.pin)
    assert sign(qtbot, dialog)
    assert certs.verify_detached(tmp_path / "notes.txt.p7s", content)
    assert usage(window, "Plain") == 1


def test_a_certificate_nobody_allows_says_why_in_the_dialog(qtbot, session, tmp_path, certs):
    import_keys(session, tmp_path, certs, "Theirs")
    win = MainWindow(session)
    qtbot.addWidget(win)
    wait_rows(qtbot, win, 1)
    dialog = opened(qtbot, win.certificates.sign_with(win.certificates.model.row_at(0).id))
    assert dialog.chosen().alias == "Theirs"
    assert dialog.note.text() == "You may not sign with it: no policy allows it at this time."
    assert dialog.certificate.itemText(0) == "Theirs — Not allowed"
    dialog.reject()  # no modal dialog outlives its test


def test_a_role_without_signing_is_offered_no_signature(qtbot, session, tmp_path, certs):
    import_keys(session, tmp_path, certs, "Build")
    users.add_user(session, "audrey", SIGNER_PASSWORD, AUDITOR)
    users.add_user(session, "sam", SIGNER_PASSWORD, SIGNER)
    session.close()
    auditor, _ = users.sign_in(session.folder, "audrey", password=SIGNER_PASSWORD)
    win = MainWindow(auditor)
    qtbot.addWidget(win)
    wait_rows(qtbot, win, 1)
    assert not win.sign_action.isEnabled()
    assert win.sign_action.toolTip() == "Your role (Auditor) may not sign with certificates."
    menu = open_menu(qtbot, win, 0, "mouse")
    assert not menu_action(menu, "Sign File…").isEnabled()


def test_a_large_file_reports_its_progress_and_a_fifo_is_refused(session, tmp_path, certs):
    import os

    from app.files import FileRefusedError
    from app.services import signing

    import_keys(session, tmp_path, certs, "Build")
    certificate_edits.edit_certificate(session, "Build", GeneralChanges(owner="admin"))
    content = tmp_path / "big.iso"
    content.write_bytes(os.urandom(3 * signing.CHUNK_SIZE + 5))
    seen = []
    signed = signing.sign_file(session, "Build", content, progress=lambda d, t, _: seen.append(d))
    assert signed.signature == tmp_path / "big.iso.p7s"
    assert certs.verify_detached(signed.signature, content)
    size = content.stat().st_size
    assert seen[-1] == size and seen == sorted(seen) and len(seen) >= 4

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileRefusedError, match="named pipe"):
        signing.sign_file(session, "Build", fifo)
    assert not (tmp_path / "pipe.p7s").exists()
