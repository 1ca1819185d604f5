"""The CSR wizard page by page, the Requests view, and CSR / Renew from the quick action."""

from pathlib import Path

import pytest

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QScrollArea, QWidget, QWizard

from app.crypto import cms, keygen
from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.services import (
    certificate_edits,
    certificate_groups,
    certificate_import,
    certificates,
    lifecycle,
    signing_requests,
    users,
)
from app.services.certificate_edits import GeneralChanges
from models import Certificate, PrivateKey, Request
from models.permissions import SIGNER
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


def open_wizard(qtbot, window, renews=None):
    """The wizard once it has read what it starts from (off the GUI thread)."""
    wizard = window.requests.new_request(renews=renews)
    qtbot.addWidget(wizard)
    qtbot.waitUntil(lambda: wizard.key_page.isComplete(), timeout=10_000)
    return wizard


def test_wizard_walks_every_page_and_makes_a_csr(
    qtbot, window, session, tmp_path, certs, monkeypatch
):
    certificate_groups.create_group(session, "Release")
    window.groups.reload()
    wizard = open_wizard(qtbot, window)
    key = wizard.key_page
    assert wizard.focusWidget() is key.algorithm  # not Cancel, where Enter would close
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
    wizard = open_wizard(qtbot, window)
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


def test_an_empty_subject_is_refused_on_the_subject_page_beside_the_field(qtbot, window):
    wizard = open_wizard(qtbot, window)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    subject = wizard.subject_page
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is subject  # not only on the next page
    said = subject.errors["common_name"]
    assert said.isVisible() and said.text() == "Give a subject: at least a Common Name."
    subject.by_dn.setChecked(True)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is subject and subject.errors["subject"].isVisible()
    assert subject.errors["subject"].text() == (
        "Give a subject: at least a Common Name, e.g. CN=Release Signing."
    )
    assert not said.isVisible()
    subject.dn.setText("CN=Wizard Signing")
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is wizard.names_page
    assert not subject.errors["subject"].isVisible()


def test_the_subject_page_opens_with_the_common_name_focused(qtbot, window):
    wizard = open_wizard(qtbot, window)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    subject = wizard.subject_page
    assert wizard.focusWidget() is subject.fields["common_name"]
    qtbot.keyClicks(wizard.focusWidget(), "Typed At Once")
    assert subject.fields["common_name"].text() == "Typed At Once"
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    click(qtbot, wizard, QWizard.WizardButton.BackButton)
    assert wizard.focusWidget() is subject.fields["common_name"]  # and when coming back


def test_a_key_type_that_cannot_sign_is_said_where_it_is_chosen(qtbot, window):
    wizard = open_wizard(qtbot, window)
    key = wizard.key_page
    assert cms.SIGNING_ALGORITHMS == ("RSA", "ECDSA")  # test_signing: Ed25519 is refused
    for algorithm in keygen.KEY_CHOICES:
        key.algorithm.setCurrentText(algorithm)
        assert key.cannot_sign.isVisible() == (algorithm == "Ed25519"), algorithm
    assert key.cannot_sign.text() == (
        "Certdesk cannot sign with Ed25519 keys yet; a CA would issue a certificate you "
        "cannot use here."
    )
    algorithm_bottom = key.algorithm.geometry().bottom()
    warning = key.cannot_sign.geometry()
    assert algorithm_bottom < warning.top() < key.size.geometry().top()  # right below it
    assert not key.hash.isEnabled()  # still offered: a CSR for use elsewhere


def test_back_and_next_keep_the_typed_alias(qtbot, window):
    wizard = open_wizard(qtbot, window)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    qtbot.keyClicks(wizard.subject_page.fields["common_name"], "Wizard Signing")
    for _ in range(2):
        click(qtbot, wizard, QWizard.WizardButton.NextButton)
    config = wizard.config_page
    assert wizard.currentPage() is config
    qtbot.keyClicks(config.alias, "Kept Alias")
    config.owner.setCurrentText("admin")
    click(qtbot, wizard, QWizard.WizardButton.BackButton)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is config
    assert config.alias.text() == "Kept Alias" and config.owner.currentText() == "admin"
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is wizard.summary_page


def renewable(session, tmp_path, certs) -> int:
    """A certificate with an owner and two groups, as a renewal starts from."""
    certificate_import.import_files(session, [certs.openssl_rich_cert(tmp_path, "Old Signing")])
    users.add_user(session, "alice", "a good long password", SIGNER)
    for group in ("Production", "Test", "Unrelated"):
        certificate_groups.create_group(session, group)
    cert_id = certificates.list_certificates(session)[0].id
    certificate_groups.add_to_groups(session, [cert_id], ["Production", "Test"])
    certificate_edits.edit_certificate(session, cert_id, GeneralChanges(owner="alice"))
    return cert_id


def visible_children(widget: QWidget) -> list[QWidget]:
    return [c for c in widget.children() if isinstance(c, QWidget) and c.isVisible()]


def assert_laid_out(wizard, page) -> None:
    """No widget without a place in the layout: the page holds only its scroll area, and
    no two widgets in it overlap; the text of every label in the wizard fits."""
    (area,) = visible_children(page)
    assert isinstance(area, QScrollArea)
    widgets = visible_children(area.widget())
    for i, one in enumerate(widgets):
        for other in widgets[i + 1 :]:
            assert not one.geometry().intersects(other.geometry()), (one, other)
    for label in wizard.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            assert label.heightForWidth(label.width()) <= label.height(), label.text()
        else:
            hint = label.sizeHint()
            assert hint.width() <= label.width() and hint.height() <= label.height(), label.text()


def assert_buttons_shown(wizard) -> None:
    for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.CancelButton):
        button = wizard.button(which)
        corner = button.mapTo(wizard, button.rect().bottomRight())
        assert button.isVisible() and wizard.rect().contains(corner), which


def test_renewal_configuration_page_is_laid_out_and_shows_the_owner_and_groups(
    qtbot, window, session, tmp_path, certs
):
    cert_id = renewable(session, tmp_path, certs)
    wizard = open_wizard(qtbot, window, renews=cert_id)
    for _ in range(3):
        click(qtbot, wizard, QWizard.WizardButton.NextButton)
    config = wizard.config_page
    assert wizard.currentPage() is config
    assert config.owner.currentText() == "alice" and not config.owner.isEnabled()
    assert config.chosen_groups() == ("Production", "Test")
    assert config.alias.text() == "Old Signing" and config.alias.isReadOnly()
    assert "is kept, disabled, under a dated alias. Until then" in config.explanation.text()
    for size in ((640, 560), (520, 420), (512, 350)):  # the default; 1024x700 at 2x scale
        wizard.resize(*size)
        settle(qtbot)
        assert (wizard.width(), wizard.height()) == size
        assert_laid_out(wizard, config)
        assert_buttons_shown(wizard)
    click(qtbot, wizard, QWizard.WizardButton.NextButton)
    text = wizard.summary_page.text.toPlainText()
    assert "Groups:     Production, Test" in text and "Owner:      alice" in text


def test_every_page_fits_1024x700_at_twice_the_scale(qtbot, window):
    wizard = open_wizard(qtbot, window)
    wizard.subject_page.fields["common_name"].setText("Wizard Signing")
    wizard.config_page.alias.setText("Wizard Signing")
    wizard.resize(512, 350)
    for page in (wizard.key_page, wizard.subject_page, wizard.names_page, wizard.config_page):
        assert wizard.currentPage() is page
        settle(qtbot)
        assert (wizard.width(), wizard.height()) == (512, 350)
        assert_laid_out(wizard, page)
        assert_buttons_shown(wizard)
        click(qtbot, wizard, QWizard.WizardButton.NextButton)
    assert wizard.currentPage() is wizard.summary_page


def test_renewing_a_certificate_deleted_meanwhile_says_so(qtbot, window, session, tmp_path, certs):
    certificate_import.import_files(session, [certs.openssl_rich_cert(tmp_path, "Old Signing")])
    cert_id = certificates.list_certificates(session)[0].id
    lifecycle.delete_certificates(session, [cert_id])
    wizard = window.requests.new_request(renews=cert_id)

    def boxes() -> list[QMessageBox]:
        return [b for b in window.requests.findChildren(QMessageBox) if b.isVisible()]

    qtbot.waitUntil(lambda: bool(boxes()))
    assert [b.text() for b in boxes()] == ["That certificate is no longer in the store."]
    qtbot.waitUntil(lambda: not shiboken6.isValid(wizard))  # closed, not left empty


def test_renew_from_the_quick_action_prefills_and_keeps_the_old_one(
    qtbot, window, session, tmp_path, certs
):
    certificate_import.import_files(session, [certs.openssl_rich_cert(tmp_path, "Old Signing")])
    window.certificates.reload()
    wait_rows(qtbot, window, 1)
    menu_action(open_menu(qtbot, window, 0, "actions-button"), "CSR / Renew…").trigger()
    wizard = window.requests.wizard
    qtbot.addWidget(wizard)
    qtbot.waitUntil(lambda: wizard.key_page.isComplete())  # read off the GUI thread
    assert wizard.renews == "Old Signing" and wizard.windowTitle() == "Renew Old Signing"
    assert wizard.key_page.algorithm.currentText() == "ECDSA"
    assert wizard.subject_page.fields["common_name"].text() == "Old Signing"
    assert wizard.names_page.sans["dns_names"].text() == "build.example.com"
    config = wizard.config_page
    assert config.alias.text() == "Old Signing" and config.alias.isReadOnly()
    assert config.owner.currentText() == "(no owner)"
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
    assert view.model.rowCount() == 0 and view.table.empty_hint == view.empty_hint


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
