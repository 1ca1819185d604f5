"""The CSR wizard page by page, the Requests view, and CSR / Renew from the quick action."""

from pathlib import Path

import pytest

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWizard

from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.services import certificate_groups, certificate_import, signing_requests
from models import Certificate, PrivateKey, Request
from tests.helpers.gui import answer, menu_action, on_modal, open_menu, settle, wait_rows
from ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    win.show()
    settle(qtbot)
    return win


def click(qtbot, wizard, which) -> None:
    qtbot.mouseClick(wizard.button(which), Qt.MouseButton.LeftButton)


def test_wizard_walks_every_page_and_makes_a_csr(
    qtbot, window, session, tmp_path, certs, monkeypatch
):
    certificate_groups.create_group(session, "Release")
    window.groups.reload()
    wizard = window.requests.new_request()
    qtbot.addWidget(wizard)
    key = wizard.key_page
    assert key.algorithm.currentText() == "RSA" and key.size.currentText() == "3072"
    key.algorithm.setCurrentText("ECDSA")
    key.size.setCurrentText("P-384")
    assert key.hash.currentText() == "SHA-384"
    click(qtbot, wizard, QWizard.WizardButton.NextButton)

    subject = wizard.subject_page
    assert wizard.currentPage() is subject
    qtbot.keyClicks(subject.fields["common_name"], "Wizard Signing")
    qtbot.keyClicks(subject.fields["organization"], "Example Ltd")
    subject.country.setEditText("USA")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is subject  # refused, and said why beside the field
    assert subject.errors["country"].isVisible()
    subject.country.setCurrentIndex(subject.country.findData("GB"))
    click(qtbot, wizard, QWizard.WizardButton.NextButton)

    names = wizard.names_page
    assert wizard.currentPage() is names
    assert names.ekus["codeSigning"].isChecked()  # code signing by default
    qtbot.keyClicks(names.sans["dns_names"], "build.example.com, exa mple.com")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is names and names.errors["dns_names"].isVisible()
    click(qtbot, wizard, QWizard.WizardButton.BackButton)
    assert wizard.currentPage() is subject
    assert subject.fields["common_name"].text() == "Wizard Signing"  # Back keeps what was typed
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    names.sans["dns_names"].setText("build.example.com")
    qtbot.keyClicks(names.sans["emails"], "release@example.com")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)

    config = wizard.config_page
    assert wizard.currentPage() is config
    qtbot.keyClicks(config.alias, "Wizard Signing 2026")
    config.groups.item(0).setCheckState(Qt.CheckState.Checked)
    config.owner.setCurrentText("admin")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)

    summary = wizard.summary_page
    text = summary.text.toPlainText()
    assert "CN=Wizard Signing,O=Example Ltd,C=GB" in text
    assert "DNS:build.example.com" in text and "Code Signing" in text and "Release" in text
    click(qtbot, wizard, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.done_page, timeout=20_000)

    pem = wizard.done_page.pem.toPlainText()
    assert pem.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    out = tmp_path / "saved.csr"
    proposed = []

    def save_dialog(parent, title, name, filters, **_options):
        proposed.append(name)
        return str(out), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    qtbot.mouseClick(wizard.done_page.save, Qt.MouseButton.LeftButton)
    assert proposed == [str(Path.home() / "Wizard Signing 2026.csr")]
    verified = certs.openssl("req", "-in", str(out), "-verify", "-noout", "-text").stdout.decode()
    assert "DNS:build.example.com" in verified
    pending = Request.get(Request.alias == "Wizard Signing 2026")
    assert pending.status == "pending" and pending.private_key is not None
    assert [r.alias for r in signing_requests.list_requests(session)] == ["Wizard Signing 2026"]
    qtbot.waitUntil(lambda: window.requests.model.rowCount() == 1)


def test_save_csr_refuses_an_existing_file_and_asks_again(
    qtbot, window, session, tmp_path, monkeypatch
):
    info = signing_requests.create_request(
        session, "Saved Twice", KeySpec("ECDSA", curve="P-256"), RequestSpec(common_name="S")
    )
    taken = tmp_path / "Saved Twice.csr"
    taken.write_bytes(b"the certificate the CA sent")
    fresh = tmp_path / "fresh.csr"
    answers = iter([taken, fresh])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(next(answers)), ""))
    said = []
    window.requests.reload()
    settle(qtbot)
    window.requests.table.selectRow(0)
    with on_modal(
        lambda box: (said.append(box.text()), box.button(QMessageBox.StandardButton.Ok).click())
    ):
        assert window.requests.save_selected() == fresh
    assert said == [f"{taken}: exists; choose a new file name"]
    assert taken.read_bytes() == b"the certificate the CA sent"
    assert fresh.read_text() == info.csr_pem


def test_alias_with_a_control_character_is_refused_beside_the_field(qtbot, window):
    wizard = window.requests.new_request()
    qtbot.addWidget(wizard)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    qtbot.keyClicks(wizard.subject_page.fields["common_name"], "Wizard Signing")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    config = wizard.config_page
    assert wizard.currentPage() is config
    config.alias.setText("Release\u202egnp.exe")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is config
    assert config.alias_error.text() == "Must not contain control characters (U+202E)."
    config.alias.setText("x" * 201)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert config.alias_error.text() == "At most 200 characters (not 201)."
    config.alias.setText("Release Signing")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is wizard.summary_page


def test_empty_subject_without_names_is_refused(qtbot, window):
    wizard = window.requests.new_request()
    qtbot.addWidget(wizard)
    wizard.key_page.algorithm.setCurrentText("Ed25519")
    assert not wizard.key_page.hash.isEnabled()
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)  # an empty subject is allowed here
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is wizard.names_page
    assert wizard.names_page.errors["subject"].isVisible()


def test_renew_from_the_quick_action_prefills_and_keeps_the_old_one(
    qtbot, window, session, tmp_path, certs
):
    certificate_import.import_files(session, [certs.openssl_rich_cert(tmp_path, "Old Signing")])
    window.certificates.reload()
    wait_rows(qtbot, window, 1)
    menu_action(open_menu(qtbot, window, 0, "actions-button"), "CSR / Renew…").trigger()
    wizard = window.requests.wizard
    qtbot.addWidget(wizard)
    assert wizard.renews == "Old Signing"
    assert wizard.key_page.algorithm.currentText() == "ECDSA"
    assert wizard.subject_page.fields["common_name"].text() == "Old Signing"
    assert wizard.names_page.sans["dns_names"].text() == "build.example.com"
    config = wizard.config_page
    assert config.alias.text() == "Old Signing" and config.alias.isReadOnly()
    for _ in range(4):
        click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is wizard.summary_page
    assert "Renews:     Old Signing" in wizard.summary_page.text.toPlainText()
    click(qtbot, wizard, QWizard.WizardButton.CommitButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.done_page, timeout=20_000)
    info = signing_requests.list_requests(session)[0]
    assert info.renews == "Old Signing" and info.status == "pending"
    assert Certificate.get(Certificate.alias == "Old Signing").enabled


def test_requests_view_cancel_destroys_the_key(qtbot, window, session):
    from app.crypto.csr import RequestSpec
    from app.crypto.keygen import KeySpec

    info = signing_requests.create_request(
        session, "To Cancel", KeySpec("ECDSA"), RequestSpec(common_name="To Cancel")
    )
    window.requests.reload()
    settle(qtbot)
    view = window.requests
    assert view.model.rowCount() == 1
    view.table.selectRow(0)
    keys_before = PrivateKey.select().count()
    view.cancel_action.trigger()
    box = view.confirmation
    assert "destroyed" in box.informativeText()
    assert box.defaultButton().text() == "Keep"
    answer(box, "Cancel Request")
    qtbot.waitUntil(lambda: view.model.rowCount() == 0)
    assert PrivateKey.select().count() == keys_before - 1
    assert signing_requests.get_request(session, info.id).status == "cancelled"
    assert view.model.rowCount() == 0 and not view.empty.isHidden()


def test_importing_the_issued_certificate_in_the_console_completes_the_request(
    qtbot, window, session, tmp_path, certs
):
    from app.crypto.csr import RequestSpec
    from app.crypto.keygen import KeySpec

    info = signing_requests.create_request(
        session, "Issued Here", KeySpec("ECDSA"), RequestSpec(common_name="Issued Here")
    )
    (tmp_path / "req.csr").write_text(info.csr_pem)
    certs.openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Test CA", "-days", "30",
        cwd=tmp_path,
    )  # fmt: skip
    certs.openssl(
        "x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-copy_extensions", "copy", "-days", "30", "-out", "issued.pem", cwd=tmp_path,
    )  # fmt: skip
    window.requests.reload()
    settle(qtbot)
    assert window.requests.model.rowCount() == 1
    window.certificates.import_files([str(tmp_path / "issued.pem")])
    qtbot.waitUntil(lambda: signing_requests.get_request(session, info.id).status == "completed")
    flow = window.certificates.import_flow
    qtbot.waitUntil(lambda: getattr(flow, "summary_box", None) is not None)
    assert "Completed the request “Issued Here”" in flow.summary_box.text()
    flow.summary_box.close()
    assert Certificate.get(Certificate.alias == "Issued Here").private_key is not None
    qtbot.waitUntil(lambda: window.requests.model.rowCount() == 0)
