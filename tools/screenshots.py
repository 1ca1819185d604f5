"""Render the login dialog, the first-run dialog, the main window with a few hundred
certificates, every certificate window tab and every dialog and confirmation to PNG
files (offscreen), for the README and for looking at the UI.

    .venv/bin/python tools/screenshots.py OUT_DIR [--rows N] [--dark] [--size 1024x700]
"""

import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QCoreApplication, QItemSelectionModel, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.errors import CertdeskError
from app.services import certificate_import, users
from tests.helpers import certgen
from ui import palette, tasks
from ui.application import create_application
from ui.dialogs import show_failure, show_message
from ui.first_run import FirstRunDialog
from ui.login import LoginDialog
from ui.main_window import MainWindow

# What the sign-in says when the log lacks the newest event this workstation saw.
OLDER_STORE = (
    "The store is older than the one this workstation last saw: its audit log lacks event "
    "1,204 (it ends at event 1,187). Its newest events were deleted, or an older copy of "
    "its database was put in place."
)
TEAMS = ["Build", "Release", "Drivers", "Firmware", "Mobile", "Web", "Installer", "QA"]
PRODUCTS = ["Desktop", "Agent", "Updater", "Toolkit", "Cloud Connector", "SDK", "Driver Pack"]


def demo_certificates(folder: Path, count: int) -> list[Path]:
    rng = random.Random(7)
    key = certgen.ec_key()
    paths = []
    for i in range(count):
        team, product = rng.choice(TEAMS), rng.choice(PRODUCTS)
        days = rng.choice([-200, -3, 5, 12, 25, 90, 200, 365, 700, 1100])
        cn = f"{team} {product} Signing {2024 + i % 3}-{i:03d}"
        cert, _ = certgen.make_cert(cn, key=key, days=days, start_days=days - 730)
        paths.append(certgen.write(folder, f"{i:04d}.pem", certgen.pem(cert)))
    # A few with their private keys, as PKCS#12.
    for i in range(6):
        cert, k = certgen.make_cert(f"Release Code Signing {2025 + i}", days=300 + 100 * i)
        paths.append(certgen.write(folder, f"key{i}.p12", certgen.p12(cert, k, None)))
    rich = folder / "rich"
    rich.mkdir()
    paths.append(certgen.openssl_rich_cert(rich, "Example Release Signing"))
    paths.append(certgen.openssl_v1_cert(rich))
    return paths


def decorate(count: int) -> None:
    """Demo data for columns whose editing arrives in later issues: owners, PINs, groups."""
    import models
    from models.permissions import SIGNER

    rng = random.Random(3)
    signer = models.Role.get(models.Role.name == SIGNER)
    people = [models.User.create(name=n, role=signer) for n in ("alice", "bob", "carol")]
    groups = [models.CertificateGroup.create(name=n) for n in ("Production", "Test", "Legacy")]
    policy = models.Policy.create(name="Release builds")
    models.PolicyCertificateGroup.create(policy=policy, group=groups[0])
    models.PolicyUser.create(policy=policy, user=people[0])
    release = models.UserGroup.create(name="Release Engineers")
    models.UserGroupMember.create(user_group=release, user=people[1])
    models.PolicyUserGroup.create(policy=policy, user_group=release)
    for cert in models.Certificate.select():
        roll = rng.random()
        cert.enabled = roll > 0.12
        cert.owner = rng.choice(people) if roll > 0.5 else None
        cert.ask_reason = roll > 0.7
        cert.pin_hash = "demo" if roll > 0.8 else None
        cert.usage_count = int(rng.random() * 400) if roll > 0.3 else 0
        if cert.usage_count:
            cert.last_used = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(
                minutes=int(rng.random() * 30000)
            )
        cert.save()
        for group in rng.sample(groups, k=int(rng.random() * 2.4)):
            models.CertificateGroupMember.create(group=group, certificate=cert)
    rich = models.Certificate.get(models.Certificate.alias == "Example Release Signing")
    models.CertificateGroupMember.get_or_create(group=groups[0], certificate=rich)


def settle() -> None:
    """Until every task has delivered its result (and those it started theirs)."""
    while not tasks.idle():
        QCoreApplication.processEvents()
    QCoreApplication.processEvents()


def grab_open(widget, path: Path) -> None:
    """Save a dialog opened with open(), then close it."""
    QCoreApplication.processEvents()
    widget.grab().save(str(path))
    widget.reject()


def screen_of_size(width: int, height: int, work: Path) -> None:
    """Make the offscreen platform's one screen `--size` large in logical pixels (at the
    QT_SCALE_FACTOR given), so that a window larger than the screen shows as it would."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform != "offscreen":
        return
    scale = float(os.environ.get("QT_SCALE_FACTOR", "1"))
    screen = {"name": "shots", "x": 0, "y": 0, "logicalDpi": 96, "logicalBaseDpi": 96}
    screen |= {"width": round(width * scale), "height": round(height * scale), "dpr": 1}
    config = work / "screen.json"
    config.write_text(json.dumps({"windowFrameMargins": False, "screens": [screen]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def empty_window(session, out: Path, suffix: str) -> None:
    """The main window of a store with nothing in it yet (closing it closes `session`)."""
    window = MainWindow(session)
    window.show()
    settle()
    window.grab().save(str(out / f"dashboard-empty{suffix}.png"))
    window.open_page("Certificates")
    settle()
    window.grab().save(str(out / f"main-window-empty{suffix}.png"))
    window.sidebar.setCurrentRow(window.pages.indexOf(window.requests))
    QCoreApplication.processEvents()
    window.grab().save(str(out / f"requests-view-empty{suffix}.png"))
    window.open_page("Certificates")
    window.close()  # also closes the session


def table_states(window: MainWindow, out: Path, suffix: str) -> None:
    """Checked rows a search hides leave the checks; the header's menu of columns; every
    column shown."""
    view = window.certificates
    model = view.model
    model.set_checked([model.row_at(i).id for i in range(3)], True)
    view.search.setText(model.row_at(0).alias)
    view._apply_filter()
    window.grab().save(str(out / f"main-window-search-unchecks{suffix}.png"))
    view.search.clear()
    view._apply_filter()
    model.set_checked(model.checked_ids(), False)
    header = view.table.horizontalHeader()
    view.table._header_menu(header.rect().center())
    QCoreApplication.processEvents()
    view.table.columns_menu.grab().save(str(out / f"columns-menu{suffix}.png"))
    view.table.columns_menu.close()
    for column in model.OPTIONAL:
        header.showSection(column)
    QCoreApplication.processEvents()
    window.grab().save(str(out / f"main-window-all-columns{suffix}.png"))
    for column in model.OPTIONAL:
        header.hideSection(column)
    QCoreApplication.processEvents()


def operations(window: MainWindow, out: Path, suffix: str) -> None:
    view = window.certificates
    model = view.model
    model.set_checked([model.row_at(i).id for i in (1, 2, 4, 5, 7)], True)
    QCoreApplication.processEvents()
    window.grab().save(str(out / f"selection-toolbar{suffix}.png"))
    view.actions.popup_menu(3, window.mapToGlobal(window.rect().center()))
    QCoreApplication.processEvents()
    view.actions.menu.grab().save(str(out / f"context-menu{suffix}.png"))
    view.actions.menu.close()
    grab_open(view.actions.delete(model.checked_ids()), out / f"delete-confirmation{suffix}.png")
    grab_open(
        view.actions.delete([model.row_at(0).id]), out / f"delete-one-confirmation{suffix}.png"
    )
    window.open_page("Certificate Groups")
    settle()
    window.grab().save(str(out / f"groups-view{suffix}.png"))
    groups = window.groups
    groups.search.setText("no such group")
    groups.apply_search()
    window.grab().save(str(out / f"groups-view-no-match{suffix}.png"))
    groups.search.clear()
    groups.apply_search()
    groups.select("Production")
    grab_open(groups.delete_selected(), out / f"group-delete-confirmation{suffix}.png")
    window.open_page("Certificates")
    failure = show_failure(window, CertdeskError("The store is busy: another Certdesk is writing."))
    grab_open(failure, out / f"failure-box{suffix}.png")
    older = show_message(window, OLDER_STORE)
    grab_open(older, out / f"older-store-notice{suffix}.png")


def group_dialogs(window: MainWindow, out: Path, suffix: str) -> None:
    """The group pickers, the new and edit dialogs (one refused), the Groups page with a
    group's certificates and its context menu, and a delete confirmation naming the key
    holders first."""
    view = window.certificates
    model = view.model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    grouped = [r.id for r in rows if r.groups][:4]
    alone = [r.id for r in rows if not r.groups][:2]
    keyed = [r.id for r in rows if r.has_private_key][:2]
    for name, dialog in (
        ("group-add-dialog", view.actions.add_groups(grouped)),
        ("group-remove-dialog", view.actions.remove_groups(grouped)),
        ("group-remove-none-dialog", view.actions.remove_groups(alone)),
    ):
        settle()  # the groups are read off the GUI thread
        grab_open(dialog, out / f"{name}{suffix}.png")
    mixed = keyed + [r.id for r in rows if not r.has_private_key][:9]
    grab_open(view.actions.delete(mixed), out / f"delete-keys-first-confirmation{suffix}.png")

    window.sidebar.setCurrentRow(window.pages.indexOf(window.groups))
    groups = window.groups
    settle()
    groups.select("Production")
    editor = groups.edit_selected()
    editor.description.setText("Certificates that sign what customers install")
    QCoreApplication.processEvents()
    editor.grab().save(str(out / f"group-edit-dialog{suffix}.png"))
    editor.accept()  # saved: the Description column shows it
    settle()
    settle()
    window.grab().save(str(out / f"groups-members{suffix}.png"))
    index = groups.model.index(groups.model.visible_row_of("Production"), 0)
    groups._context_menu(groups.table.visualRect(index).center())
    QCoreApplication.processEvents()
    groups.menu.grab().save(str(out / f"groups-context-menu{suffix}.png"))
    groups.menu.close()
    editor = groups.create()
    QCoreApplication.processEvents()
    editor.grab().save(str(out / f"group-new-dialog{suffix}.png"))
    editor.name.setText("production")
    editor.accept()
    settle()
    grab_open(editor, out / f"group-new-refused{suffix}.png")
    editor = groups.create()
    editor.name.setText("Release Candidates")
    editor.accept()
    settle()
    settle()  # the member list follows the new selection, then reads it
    window.grab().save(str(out / f"groups-empty-group{suffix}.png"))
    window.open_page("Certificates")


def groups_page_empty(folder: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The Groups page of a store with no group: its hint alone, no member list."""
    window = signed_in_window(folder, "admin", "correct horse battery", size)
    window.sidebar.setCurrentRow(window.pages.indexOf(window.groups))
    settle()
    window.grab().save(str(out / f"groups-view-empty{suffix}.png"))
    window.close()


def group_keyboard(window: MainWindow, out: Path, suffix: str) -> None:
    """Add to Groups after a name typed at once and Return (the new group ticked, the
    dialog still open), and a bulk delete confirmation with its details shown."""
    view = window.certificates
    model = view.model
    picker = view.actions.add_groups([model.row_at(0).id])
    picker.show()
    settle()
    QTest.keyClicks(QApplication.focusWidget(), "Test Team")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    grab_open(picker, out / f"group-add-typed-return{suffix}.png")
    rows = [model.row_at(i) for i in range(model.rowCount())]
    keyed = [r.id for r in rows if r.has_private_key][:2]
    box = view.actions.delete(keyed + [r.id for r in rows if not r.has_private_key][:18])
    details = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.ActionRole
    )
    details.click()
    QCoreApplication.processEvents()
    grab_open(box, out / f"delete-confirmation-details{suffix}.png")


def selected_row(window: MainWindow, out: Path, suffix: str) -> None:
    """Checked and unchecked rows, and two selected ones: one with an owner, one without a
    key (the blue icons on the highlight)."""
    view = window.certificates
    model = view.model
    model.set_checked([model.row_at(i).id for i in (1, 2, 4)], True)
    owned = next(i for i in range(8, model.rowCount()) if model.row_at(i).owner)
    certificate = next(i for i in range(8, model.rowCount()) if not model.row_at(i).has_private_key)
    view.table.selectRow(owned)
    flags = QItemSelectionModel.SelectionFlag
    view.table.selectionModel().select(model.index(certificate, 0), flags.Select | flags.Rows)
    view.table.setFocus()
    QCoreApplication.processEvents()
    window.grab().save(str(out / f"main-window-selected{suffix}.png"))
    view.table.clearSelection()
    model.set_checked(model.checked_ids(), False)


def rows_named(window: MainWindow, names) -> list:
    model = window.certificates.model
    return [model.row_at(i) for i in range(model.rowCount()) if model.row_at(i).alias in names]


def detail_windows(window: MainWindow, out: Path, suffix: str) -> None:
    """Every tab of a certificate with many extensions, and of a version 1 certificate."""
    view = window.certificates
    for alias, name in (("Example Release Signing", "rich"), ("Legacy Version One", "v1")):
        QSettings().remove("dialogs")  # each at its default size, not the last one's
        row = next(r for r in view.model.checked_rows() or [] if r.alias == alias)
        detail = view.open_certificate(row.id)
        settle()  # it reads the certificate off the GUI thread
        for index in range(detail.tabs.count()):
            detail.tabs.setCurrentIndex(index)
            QCoreApplication.processEvents()
            tab = detail.tabs.tabText(index).lower().replace(" ", "-").replace(".", "")
            detail.grab().save(str(out / f"detail-{name}-{tab}{suffix}.png"))
        detail.tabs.setCurrentIndex(0)
        detail.general_tab.description.setPlainText("A draft nobody saved.")
        detail.close()  # asks: save, discard or stay
        QCoreApplication.processEvents()
        detail.unsaved_box.grab().save(str(out / f"detail-{name}-unsaved{suffix}.png"))
        detail.unsaved_box.button(QMessageBox.StandardButton.Discard).click()
    QSettings().remove("dialogs")


def wizard_pages(window: MainWindow, out: Path, suffix: str) -> None:
    """Each page of the CSR wizard, filled in as an administrator would, and the
    Requests view with the pending request."""
    wizard = window.requests.new_request()
    settle()  # it reads the owners and groups it offers off the GUI thread
    wizard.key_page.algorithm.setCurrentText("Ed25519")
    QCoreApplication.processEvents()
    wizard.grab().save(str(out / f"wizard-key-ed25519{suffix}.png"))
    wizard.key_page.algorithm.setCurrentText("ECDSA")
    wizard.key_page.size.setCurrentText("P-384")
    shots = [("key", lambda: None)]
    subject = wizard.subject_page
    names = wizard.names_page
    config = wizard.config_page

    def fill_subject() -> None:
        subject.fields["common_name"].setText("Example Driver Signing 2027")
        subject.fields["organization"].setText("Example Software GmbH")
        subject.fields["organizational_unit"].setText("Release Engineering")
        subject.fields["locality"].setText("Berlin")
        subject.country.setCurrentIndex(subject.country.findData("DE"))

    def fill_names() -> None:
        names.sans["dns_names"].setText("drivers.example.com")
        names.sans["emails"].setText("release@example.com")

    def fill_config() -> None:
        config.alias.setText("Example Driver Signing 2027")
        config.groups.item(0).setCheckState(Qt.CheckState.Checked)
        config.owner.setCurrentText("alice")

    shots += [("subject", fill_subject), ("names", fill_names)]
    for name, fill in shots:
        fill()
        QCoreApplication.processEvents()
        wizard.grab().save(str(out / f"wizard-{name}{suffix}.png"))
        wizard.next()
    config.alias.setText("Driver\u202eSigning")  # refused beside the field
    config.validatePage()
    QCoreApplication.processEvents()
    wizard.grab().save(str(out / f"wizard-configuration-refused{suffix}.png"))
    for name, fill in [("configuration", fill_config)]:
        fill()
        QCoreApplication.processEvents()
        wizard.grab().save(str(out / f"wizard-{name}{suffix}.png"))
        wizard.next()
    QCoreApplication.processEvents()
    wizard.grab().save(str(out / f"wizard-summary{suffix}.png"))
    wizard.next()  # Create: the key is generated on a worker
    while wizard.currentPage() is not wizard.done_page:
        QCoreApplication.processEvents()
    wizard.grab().save(str(out / f"wizard-done{suffix}.png"))
    wizard.close()
    window.sidebar.setCurrentRow(window.pages.indexOf(window.requests))
    settle()
    window.grab().save(str(out / f"requests-view{suffix}.png"))
    window.requests.table.selectRow(0)
    grab_open(window.requests.cancel_selected(), out / f"request-cancel-confirmation{suffix}.png")
    window.open_page("Certificates")


def renewal_pages(window: MainWindow, out: Path, suffix: str) -> None:
    """The renewal wizard, at its default size, for a certificate with an owner and
    groups: each page up to the Summary, and an empty subject refused."""
    QSettings().remove("dialogs")
    model = window.certificates.model
    rows = [model.row_at(i) for i in range(model.rowCount())]
    renewed = max(rows, key=lambda r: (r.owner is not None, len(r.groups), r.has_private_key))
    wizard = window.requests.new_request(renews=renewed.id)
    settle()
    for name in ("key", "subject", "names", "configuration", "summary"):
        QCoreApplication.processEvents()
        wizard.grab().save(str(out / f"renewal-{name}{suffix}.png"))
        if name in ("names", "configuration"):  # as on a 1024x700 screen at 2x scale
            size = wizard.size()
            wizard.resize(512, 350)
            QCoreApplication.processEvents()
            wizard.grab().save(str(out / f"renewal-{name}-512x350{suffix}.png"))
            wizard.resize(size)
        if name != "summary":  # Next there would create the request
            wizard.next()
    while wizard.currentPage() is not wizard.subject_page:
        wizard.back()
    subject = wizard.subject_page
    subject.by_fields.setChecked(True)
    for edit in subject.fields.values():
        edit.clear()
    subject.country.setCurrentIndex(0)
    wizard.next()  # refused beside Common Name
    QCoreApplication.processEvents()
    wizard.grab().save(str(out / f"renewal-subject-empty-refused{suffix}.png"))
    wizard.reject()
    QSettings().remove("dialogs")


def import_feedback(window: MainWindow, work: Path, out: Path, suffix: str) -> None:
    """The import's progress, its summaries (duplicates, a key alone, failures) and an
    issued certificate that matches no pending request."""
    from cryptography.hazmat.primitives import serialization

    from ui.import_flow import ImportFlow

    files = work / "import-feedback"
    files.mkdir(exist_ok=True)
    key = certgen.ec_key()
    bundle = b"".join(
        certgen.pem(certgen.make_cert(f"Bulk Import Signing {i:04d}", key=key)[0])
        for i in range(3000)
    )
    view = window.certificates
    view.import_files([str(certgen.write(files, "partner-bundle.pem", bundle))])
    dialog = view.import_flow.progress_dialog
    while dialog.maximum() == 0 or dialog.value() < dialog.maximum() // 3:
        QCoreApplication.processEvents()
    window.grab().save(str(out / f"import-progress-window{suffix}.png"))
    dialog.grab().save(str(out / f"import-progress{suffix}.png"))
    settle()

    cert, own_key = certgen.make_cert("Build Agent Signing 2027")
    agent = certgen.write(files, "build-agent.crt", certgen.pem(cert))
    certificate_import.import_files(window.session, [agent])
    key_file = certgen.write(
        files,
        "build-agent.key",
        own_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )

    def summary(paths: list[Path], name: str, issued: bool = False) -> None:
        flow = ImportFlow(window.requests if issued else view, window.session, issued=issued)
        flow.start([str(p) for p in paths])
        while flow.progress_dialog is not None or not tasks.idle():
            QCoreApplication.processEvents()
        box = flow.summary_box
        QCoreApplication.processEvents()
        box.grab().save(str(out / f"{name}{suffix}.png"))
        details = next((b for b in box.buttons() if "Details" in b.text()), None)
        if details is not None:
            details.click()
            QCoreApplication.processEvents()
            box.grab().save(str(out / f"{name}-details{suffix}.png"))
        box.close()

    summary([key_file], "import-summary-key-only")
    again = sorted((work / "files").glob("00*.pem"))[:12]
    broken = certgen.write(files, "truncated.cer", b"\x30\x82\x01")
    notes = certgen.write(files, "notes.txt", b"send the certificate to the CA\n")
    fresh = certgen.write(
        files, "installer.pem", certgen.pem(certgen.make_cert("Installer Signing 2027")[0])
    )
    summary([*again, fresh, broken, notes], "import-summary")
    window.sidebar.setCurrentRow(window.pages.indexOf(window.requests))
    settle()
    other = certgen.write(
        files, "issued-by-ca.cer", certgen.pem(certgen.make_cert("Unrelated Signing")[0])
    )
    summary([other], "import-issued-no-match", issued=True)
    window.open_page("Certificates")


def signer_pages(folder: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The console as a Signer sees it: the Certificates page with its row menu (Download
    offered, the rest greyed with the reason), a refusal's tooltip, and the Signing page
    with the certificates a policy allows and empty."""
    from PySide6.QtWidgets import QApplication, QToolTip

    from app.services import certificate_edits
    from app.services.certificate_edits import GeneralChanges
    from models.permissions import SIGNER

    password = "a good long password"
    admin, _ = users.sign_in(folder, "admin", password="correct horse battery")
    users.add_user(admin, "sam", password, SIGNER, ["Release Engineers"])
    users.add_user(admin, "nina", password, SIGNER)
    for alias in ("Release Code Signing 2025", "Release Code Signing 2026"):
        certificate_edits.edit_certificate(admin, alias, GeneralChanges(owner="sam"))
    certificate_edits.edit_certificate(
        admin, "Release Code Signing 2026", GeneralChanges(pin="246813", ask_reason=True)
    )
    admin.close()
    window = signed_in_window(folder, "sam", password, size)
    window.grab().save(str(out / f"signer-certificates{suffix}.png"))
    view = window.certificates
    view.actions.popup_menu(0, window.mapToGlobal(window.rect().center()))
    QCoreApplication.processEvents()
    view.actions.menu.grab().save(str(out / f"signer-context-menu{suffix}.png"))
    view.actions.menu.close()
    QToolTip.showText(window.mapToGlobal(window.rect().center()), view.import_action.toolTip())
    QCoreApplication.processEvents()
    tip = next(w for w in QApplication.topLevelWidgets() if w.inherits("QTipLabel"))
    tip.grab().save(str(out / f"signer-refusal-tooltip{suffix}.png"))
    QToolTip.hideText()
    window.open_page("Signing")
    settle()  # the page reads when it is first shown
    window.grab().save(str(out / f"signing-view{suffix}.png"))
    sign_dialogs(window, folder, out, suffix)
    window.close()
    window = signed_in_window(folder, "nina", password, size)
    window.open_page("Signing")
    settle()
    window.grab().save(str(out / f"signing-view-empty{suffix}.png"))
    window.close()


def sign_dialogs(window: MainWindow, folder: Path, out: Path, suffix: str) -> None:
    """Sign File… asking for the reason and the PIN, refusing a wrong PIN, signing a
    large file, and on a certificate that nothing lets the user sign with."""
    from ui.sign_dialog import open_sign_dialog

    content = folder.parent / "files" / "Installer-4.2.msi"
    content.write_bytes(bytes(4096))
    page = window.page_by_title["Signing"]
    page.select(
        page.model.key_of(
            next(
                page.model.row_at(i)
                for i in range(page.model.rowCount())
                if page.model.row_at(i).alias == "Release Code Signing 2026"
            )
        )
    )
    dialog = page.sign_selected()
    settle()
    dialog.set_file(content)
    dialog.reason.setText("Release 4.2 for the update channel")
    dialog.pin.setText("000000")
    QCoreApplication.processEvents()
    dialog.grab().save(str(out / f"sign-dialog{suffix}.png"))
    dialog.sign()
    settle()
    dialog.grab().save(str(out / f"sign-dialog-wrong-pin{suffix}.png"))
    dialog._busy(True)
    dialog._progressed(1_400_000_000, 3_900_000_000, "")
    QCoreApplication.processEvents()
    dialog.grab().save(str(out / f"sign-dialog-busy{suffix}.png"))
    dialog._busy(False)
    dialog.reject()
    other = next(r for r in rows_named(window, ("Example Release Signing",)))
    grab_open(
        settled(open_sign_dialog(window.session, window, other.id)),
        out / f"sign-dialog-not-allowed{suffix}.png",
    )


def settled(widget):
    settle()
    return widget


def users_pages(folder: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The Users page with what the selected user may sign, and its dialogs: New User
    (passwords that differ), Change Role, Reset Password, the delete confirmation, and
    the File menu's Change My Password."""
    window = signed_in_window(folder, "admin", "correct horse battery", size)
    page = window.open_page("Users")
    settle()
    page.select("sam")
    QCoreApplication.processEvents()  # the list below follows the selection
    settle()
    window.grab().save(str(out / f"users-view{suffix}.png"))
    dialog = page.new_user()
    settle()
    dialog.name.setText("dora")
    dialog.display_name.setText("Dora Marquez")
    dialog.new_groups.setText("Release Engineers, Firmware")
    dialog.password.setText("a good long password")
    dialog.confirmation.setText("a good long passw")
    dialog.update_ok()
    QCoreApplication.processEvents()
    grab_open(dialog, out / f"new-user-dialog{suffix}.png")
    grab_open(page.change_role(), out / f"role-dialog{suffix}.png")
    grab_open(page.reset_password(), out / f"reset-password-dialog{suffix}.png")
    grab_open(page.delete_selected(), out / f"user-delete-confirmation{suffix}.png")
    grab_open(window.change_password(), out / f"change-password-dialog{suffix}.png")
    groups = window.open_page("User Groups")
    settle()
    groups.select("Release Engineers")
    QCoreApplication.processEvents()
    settle()
    window.grab().save(str(out / f"user-groups-view{suffix}.png"))
    picker = groups.add_members()
    settle()
    picker.set_checked("nina")
    grab_open(picker, out / f"add-members-dialog{suffix}.png")
    grab_open(groups.edit_selected(), out / f"user-group-edit-dialog{suffix}.png")
    grab_open(groups.delete_selected(), out / f"user-group-delete-confirmation{suffix}.png")
    window.close()


def policy_pages(folder: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The Policies page, the policy editor's four tabs (a night window over midnight),
    and the delete confirmation."""
    window = signed_in_window(folder, "admin", "correct horse battery", size)
    page = window.open_page("Policies")
    settle()
    page.select("Release builds")
    window.grab().save(str(out / f"policies-view{suffix}.png"))
    editor = page.edit_selected()
    settle()
    editor.description.setText("Release engineers sign production builds at night")
    editor.scheduled.setChecked(True)
    editor.time_from.setTime(editor.time_from.time().fromString("22:00", "HH:mm"))
    editor.time_until.setTime(editor.time_until.time().fromString("06:00", "HH:mm"))
    for index, name in enumerate(("general", "what", "who", "when")):
        editor.tabs.setCurrentIndex(index)
        QCoreApplication.processEvents()
        editor.grab().save(str(out / f"policy-editor-{name}{suffix}.png"))
    editor.reject()
    grab_open(page.delete_selected(), out / f"policy-delete-confirmation{suffix}.png")
    window.close()


def roles_page(folder: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The Roles page with a custom role beside the built-in ones, and New Role."""
    from app.services import roles

    admin, _ = users.sign_in(folder, "admin", password="correct horse battery")
    roles.add_role(admin, "Release Signer", ["certificates.view", "sign", "audit.view"],
                   "Signs releases and reads the audit log")  # fmt: skip
    admin.close()
    window = signed_in_window(folder, "admin", "correct horse battery", size)
    page = window.open_page("Roles")
    settle()
    page.select_role("Release Signer")
    window.grab().save(str(out / f"roles-view{suffix}.png"))
    dialog = page.new_role()
    dialog.name.setText("Build Robot")
    QCoreApplication.processEvents()
    grab_open(dialog, out / f"new-role-dialog{suffix}.png")
    window.close()


def dashboard_pages(folder: Path, work: Path, out: Path, suffix: str, size) -> None:
    """The Dashboard (the landing page) with the expiry banner, after a few signatures;
    Settings; the Store menu's Check and restore offer; and the sign-in after Lock."""
    from app.services import certificate_edits, lifecycle, signing
    from app.services.certificate_edits import GeneralChanges
    from ui.application import Console

    admin, _ = users.sign_in(folder, "admin", password="correct horse battery")
    content = work / "files" / "release-notes.txt"
    content.write_text("4.2")
    for alias, times in (("Release Code Signing 2027", 7), ("Release Code Signing 2029", 3)):
        lifecycle.enable_certificates(admin, [alias])  # the demo's decoration may have disabled it
        certificate_edits.edit_certificate(admin, alias, GeneralChanges(owner="admin"))
        for _ in range(times):
            signing.sign_file(admin, alias, content).signature.unlink()
    admin.close()
    window = signed_in_window(folder, "admin", "correct horse battery", size)
    window.open_page("Dashboard")
    settle()
    window.grab().save(str(out / f"dashboard{suffix}.png"))
    grab_open(window.open_settings(), out / f"settings-dialog{suffix}.png")
    window.store_actions.check()
    settle()
    grab_open(window.store_actions.box, out / f"check-store-report{suffix}.png")
    window.store_actions._offer_to_open(work / "restored-store")
    grab_open(window.store_actions.box, out / f"restore-offer{suffix}.png")
    window.close()
    console = Console(QApplication.instance())
    login = console.sign_in(folder, "admin", "locked")
    QCoreApplication.processEvents()
    login.grab().save(str(out / f"login-locked{suffix}.png"))
    login.hide()
    login.deleteLater()


def audit_pages(folder: Path, work: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The Audit Log page: the whole log verified, filtered to refusals, and a copy of
    the store whose log was edited behind Certdesk's back, its first broken event
    selected."""
    import shutil

    import models

    window = signed_in_window(folder, "admin", "correct horse battery", size)
    page = window.open_page("Audit Log")
    settle()
    page.verify()
    settle()
    window.grab().save(str(out / f"audit-log{suffix}.png"))
    page.outcome_filter.setCurrentIndex(page.outcome_filter.findData("failed"))
    page.time_filter.setCurrentIndex(page.time_filter.findData("custom"))
    settle()
    window.grab().save(str(out / f"audit-log-filtered{suffix}.png"))
    window.close()
    copy = work / "edited-store"
    shutil.copytree(folder, copy)
    session, _ = users.sign_in(copy, "admin", password="correct horse battery")
    with models.base.using(session.store.db):
        models.AuditEvent.update(target="Nothing to see").where(
            models.AuditEvent.id == 12
        ).execute()
    session.close()
    window = signed_in_window(copy, "admin", "correct horse battery", size)
    page = window.open_page("Audit Log")
    settle()
    page.verify()
    settle()
    window.grab().save(str(out / f"audit-log-broken{suffix}.png"))
    window.close()


def desktop_fonts(folder: Path, out: Path, suffix: str, size: tuple[int, int]) -> None:
    """The Certificates page with a desktop's larger font (GTK's Sans 10, and 11): the
    default columns still fit, with Name given the rest."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    from ui.certificates_view import HEADER_STATE

    app = QApplication.instance()
    before = app.font()
    for points in (10, 11):
        app.setFont(QFont(before.family(), points))
        QSettings().remove(HEADER_STATE)  # the default widths, as at a first start
        window = signed_in_window(folder, "admin", "correct horse battery", size)
        window.grab().save(str(out / f"main-window-{points}pt{suffix}.png"))
        window.close()
    app.setFont(before)


def signed_in_window(folder: Path, name: str, password: str, size: tuple[int, int]):
    session, _ = users.sign_in(folder, name, password=password)
    window = MainWindow(session)
    window.resize(*size)
    window.show()
    window.open_page("Certificates")  # the page most shots start from
    settle()
    return window


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--size", default="1360x780", help="the main window's, e.g. 1024x700")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="certdesk-shots-"))
    screen_of_size(width, height, work)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "settings"))
    app = create_application([])
    app.setStyle("Fusion")
    palette.install(app)  # the console's own: its dark palette and check boxes
    palette.apply_scheme(app, Qt.ColorScheme.Dark if args.dark else Qt.ColorScheme.Light)
    suffix = "-dark" if args.dark else ""
    folder = work / "store"

    first = FirstRunDialog(folder, default_admin="admin")
    first.show()
    first.password.setText("short")
    first.create()
    app.processEvents()
    first.grab().save(str(args.out / f"first-run{suffix}.png"))
    first.close()

    session, _ = users.initialise_store(folder, "admin", "correct horse battery")
    empty_window(session, args.out, suffix)
    groups_page_empty(folder, args.out, suffix, (width, height))
    session, _ = users.sign_in(folder, "admin", password="correct horse battery")
    files = work / "files"
    files.mkdir()
    certificate_import.import_files(session, demo_certificates(files, args.rows))
    decorate(args.rows)
    session.close()

    login = LoginDialog(folder)
    login.show()
    app.processEvents()
    login.grab().save(str(args.out / f"login{suffix}.png"))
    login.close()

    session, _ = users.sign_in(folder, "admin", password="correct horse battery")
    window = MainWindow(session)
    window.resize(width, height)
    window.show()
    window.open_page("Certificates")  # the window opens on the Dashboard
    settle()
    window.grab().save(str(args.out / f"main-window{suffix}.png"))
    window.certificates.search.setText("firmware")
    window.certificates.expiry.setCurrentIndex(1)
    QCoreApplication.processEvents()
    window.certificates._apply_filter()
    window.grab().save(str(args.out / f"main-window-filtered{suffix}.png"))
    window.certificates.search.clear()
    window.certificates.expiry.setCurrentIndex(0)
    window.certificates._apply_filter()
    table_states(window, args.out, suffix)
    selected_row(window, args.out, suffix)
    operations(window, args.out, suffix)
    group_dialogs(window, args.out, suffix)
    group_keyboard(window, args.out, suffix)
    view = window.certificates
    view.model.set_checked(view.model.checked_ids(), False)
    view.model.set_checked(
        [r.id for r in rows_named(window, ("Example Release Signing", "Legacy Version One"))],
        True,
    )
    detail_windows(window, args.out, suffix)
    wizard_pages(window, args.out, suffix)
    renewal_pages(window, args.out, suffix)
    import_feedback(window, work, args.out, suffix)
    window.close()
    signer_pages(folder, args.out, suffix, (width, height))
    users_pages(folder, args.out, suffix, (width, height))
    policy_pages(folder, args.out, suffix, (width, height))
    roles_page(folder, args.out, suffix, (width, height))
    dashboard_pages(folder, work, args.out, suffix, (width, height))
    audit_pages(folder, work, args.out, suffix, (width, height))
    desktop_fonts(folder, args.out, suffix, (width, height))
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
