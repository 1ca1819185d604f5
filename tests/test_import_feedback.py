"""What an import says while it runs and when it ends, and where the file dialogs open."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QFileDialog

from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.errors import CertdeskError
from app.services import (
    certificate_groups,
    certificate_import,
    certificates,
    signing_requests,
    users,
)
from tests.helpers.gui import settle, wait_rows
from tests.helpers.stores import PASSWORD
from ui import file_dialogs, import_flow, tasks
from ui.dialogs import failure_text
from ui.import_flow import ImportFlow
from ui.main_window import MainWindow
from ui.save_dialog import save_new_file
from ui.wording import curly_quotes, plural


@pytest.fixture
def window(qtbot, session):
    win = MainWindow(session)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.certificates.loaded, timeout=5000):
        win.show()
    settle(qtbot)
    return win


def finished_flow(qtbot, flow: ImportFlow) -> ImportFlow:
    qtbot.waitUntil(lambda: flow.progress_dialog is None, timeout=30_000)
    settle(qtbot)
    return flow


def key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# -- while it runs ---------------------------------------------------------------------


def test_a_bundle_moves_the_bar_per_certificate_and_the_busy_state_shows_at_once(
    qtbot, window, tmp_path, certs, monkeypatch
):
    monkeypatch.setattr(certificate_import, "PROGRESS_INTERVAL_S", 0)  # every step
    key = certs.ec_key()
    bundle = b"".join(certs.pem(certs.make_cert(f"Bulk {i:03d}", key=key)[0]) for i in range(300))
    path = str(certs.write(tmp_path, "bundle.pem", bundle))
    seen = []
    original = ImportFlow._on_progress

    def record(flow, done, total, text):
        seen.append((done, total, flow.progress_dialog is not None))
        original(flow, done, total, text)

    monkeypatch.setattr(ImportFlow, "_on_progress", record)
    window.certificates.import_files([path])
    # Before the event loop runs once: the cursor and the status bar already say so.
    assert window.cursor().shape() == Qt.CursorShape.BusyCursor
    assert window.statusBar().currentMessage() == "Importing bundle.pem…"
    flow = finished_flow(qtbot, window.certificates.import_flow)
    wait_rows(qtbot, window, 300)
    dones = [done for done, _total, _open in seen]
    assert dones == sorted(dones) and len(set(dones)) > 300  # one file, hundreds of steps
    assert all(still_open for *_, still_open in seen)  # all of it before the end
    assert seen[-1][0] == seen[-1][1] == 1 + 2 * 300  # read, then each parsed and stored
    assert window.cursor().shape() != Qt.CursorShape.BusyCursor
    assert window.statusBar().currentMessage() == "Imported 300 certificates."
    assert flow.summary_box is None  # nothing more to say than the status bar


def test_the_service_reports_a_growing_bundle_without_going_back(session, tmp_path, certs):
    """Throttled as it is in the console: the steps only grow, and a bundle still gives
    more than one step."""
    key = certs.ec_key()
    bundle = b"".join(certs.pem(certs.make_cert(f"Grow {i:03d}", key=key)[0]) for i in range(400))
    paths = [certs.write(tmp_path, "grow.pem", bundle), certs.write(tmp_path, "x.txt", b"no")]
    calls = []
    certificate_import.import_files(session, paths, progress=lambda *a: calls.append(a[:2]))
    dones = [done for done, _ in calls]
    assert dones == sorted(dones) and dones[0] == 1
    assert all(done <= total for done, total in calls)


# -- the summary -----------------------------------------------------------------------


def test_a_key_alone_says_which_certificate_it_was_linked_to(qtbot, window, tmp_path, certs):
    cert, key = certs.make_cert("Leaf")
    window.certificates.import_files([str(certs.write(tmp_path, "leaf.crt", certs.pem(cert)))])
    finished_flow(qtbot, window.certificates.import_flow)
    window.certificates.import_files([str(certs.write(tmp_path, "leaf.key", key_pem(key)))])
    flow = finished_flow(qtbot, window.certificates.import_flow)
    text = flow.summary_box.text()
    assert text.splitlines()[0] == "Linked 1 private key."
    assert "Linked the private key in leaf.key to “Leaf”." in text
    assert "Imported 0" not in text and "(s)" not in text
    assert window.statusBar().currentMessage() == "Linked 1 private key."
    assert window.certificates.model.row_at(0).has_private_key


def test_duplicates_are_named_and_all_listed_in_the_details(qtbot, window, tmp_path, certs):
    names = [f"Twice {i:02d}" for i in range(10)]
    paths = [
        str(certs.write(tmp_path, f"{n}.pem", certs.pem(certs.make_cert(n)[0]))) for n in names
    ]
    broken = str(certs.write(tmp_path, "broken.cer", b"\x30\x03\x02"))
    certificate_import.import_files(window.session, paths)
    window.certificates.import_files([*paths, broken])
    flow = finished_flow(qtbot, window.certificates.import_flow)
    box = flow.summary_box
    lines = box.text().splitlines()
    assert lines[0] == (
        "Imported 0 certificates; 10 certificates already in the store, skipped; 1 file failed."
    )
    assert "“Twice 00”, “Twice 01”" in box.text()
    assert "“Twice 04” and 5 more (Show Details… names them)." in box.text()
    assert "• broken.cer:" in box.text()
    details = box.detailedText().splitlines()
    assert [line for line in details if "already in the store" in line] == [
        f"{p}: already in the store as “{n}”, skipped" for p, n in zip(paths, names, strict=True)
    ]
    assert details[-1].startswith(f"{broken}: ")
    assert box.icon() == box.Icon.Warning


def test_an_issued_certificate_for_no_request_says_it_matched_none(
    qtbot, window, tmp_path, certs, monkeypatch
):
    signing_requests.create_request(
        window.session, "Waiting", KeySpec("ECDSA"), RequestSpec(common_name="Waiting")
    )
    unrelated = str(certs.write(tmp_path, "unrelated.cer", certs.pem(certs.make_cert("Other")[0])))
    asked = []

    def open_dialog(parent, title, folder, filters):
        asked.append((title, folder, filters))
        return [unrelated], filters

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", open_dialog)
    window.open_page("Requests")
    window.requests.import_action.trigger()
    flow = finished_flow(qtbot, window.requests.import_flow)
    box = flow.summary_box
    assert box.windowTitle() == "Import Issued Certificate"
    assert (
        "unrelated.cer matched no pending request: no request holds its key. It was "
        "imported as an ordinary certificate, “Other”." in box.text()
    )
    assert box.icon() == box.Icon.Warning
    assert window.requests.model.rowCount() == 1  # still pending
    assert asked[0][0] == "Import Issued Certificate" and "*.cer" in asked[0][2]


def test_a_renewal_says_which_certificate_is_the_old_one(
    qtbot, window, session, tmp_path, certs, monkeypatch
):
    first = signing_requests.create_request(
        session, "Release", KeySpec("ECDSA"), RequestSpec(common_name="Release")
    )
    path = certs.write(tmp_path, "v1.pem", certs.issue_for_request(first.csr_pem))
    certificate_import.import_files(session, [path])
    renewal = signing_requests.renew(session, "Release", KeySpec("ECDSA"))
    issued = str(certs.write(tmp_path, "v2.pem", certs.issue_for_request(renewal.csr_pem)))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *_a: ([issued], ""))
    window.requests.reload()
    settle(qtbot)
    window.requests.import_action.trigger()
    flow = finished_flow(qtbot, window.requests.import_flow)
    superseded = next(c.superseded for f in flow._report.files for c in f.completions)
    assert superseded.startswith("Release (superseded ")
    assert (
        "Completed the request “Release”: the certificate “Release” holds its private key. "
        "It renews the certificate that was “Release”, which is kept, disabled, as "
        f"“{superseded}”." in flow.summary_box.text()
    )
    assert flow.summary_box.icon() == flow.summary_box.Icon.Information


# -- the file dialogs ------------------------------------------------------------------


def test_the_import_dialog_remembers_its_folder_per_purpose_and_offers_keys(
    qtbot, window, tmp_path, certs, monkeypatch
):
    documents = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation))
    (documents / "Documents").mkdir()
    assert file_dialogs.default_folder() in (documents / "Documents", documents)
    default = str(file_dialogs.default_folder())
    chosen = tmp_path / "from-the-ca"
    chosen.mkdir()
    leaf = str(certs.write(chosen, "leaf.pem", certs.pem(certs.make_cert("Leaf")[0])))
    asked = []

    def open_dialog(parent, title, folder, filters):
        asked.append((title, folder, filters))
        return ([leaf] if len(asked) == 1 else []), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", open_dialog)
    monkeypatch.chdir(tmp_path)
    window.certificates.choose_files()
    finished_flow(qtbot, window.certificates.import_flow)
    window.certificates.choose_files()  # the same purpose: the folder chosen last
    window.requests.import_issued()  # another purpose: its own folder, not yet chosen
    assert [folder for _t, folder, _f in asked] == [default, str(chosen), default]
    assert str(tmp_path) not in {default}  # never the working directory
    assert "*.key" in asked[0][2] and "*.pfx" in asked[0][2] and "*.p7b" in asked[0][2]
    assert asked[0][2] == import_flow.FILE_FILTER


def test_save_dialogs_remember_their_folder_per_purpose(qtbot, tmp_path, monkeypatch):
    folders = {"cer": tmp_path / "certs", "csr": tmp_path / "csrs"}
    for folder in folders.values():
        folder.mkdir()
    proposed = []

    def save_dialog(parent, title, name, filters, selectedFilter="", options=None):
        proposed.append(name)
        return str(folders[title] / Path(name).name), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    home = file_dialogs.default_folder()
    for title, purpose in (("cer", file_dialogs.SAVE_CERTIFICATE), ("csr", file_dialogs.SAVE_CSR)):
        for name in ("one", "two"):
            save_new_file(None, title, f"{name}.{title}", "", lambda p, _f: p, purpose)
    assert proposed == [
        str(home / "one.cer"),
        str(folders["cer"] / "two.cer"),
        str(home / "one.csr"),
        str(folders["csr"] / "two.csr"),
    ]


def test_a_second_download_to_the_same_folder_proposes_a_free_name(qtbot, tmp_path, monkeypatch):
    proposed = []

    def save_dialog(parent, title, name, filters, selectedFilter="", options=None):
        proposed.append(name)
        return name, ""

    def write(path, _filter):
        path.write_bytes(b"certificate")  # as app.files does: never over an existing file
        return path

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    folder = tmp_path / "downloads"
    folder.mkdir()
    file_dialogs.remember_folder(file_dialogs.SAVE_CERTIFICATE, str(folder / "x.cer"))
    for _ in range(3):
        save_new_file(None, "Save", "Build Agent.cer", "", write, file_dialogs.SAVE_CERTIFICATE)
    assert [Path(p).name for p in proposed] == [
        "Build Agent.cer",
        "Build Agent (2).cer",
        "Build Agent (3).cer",
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(p).name for p in proposed)


# -- wording -----------------------------------------------------------------------------


def test_plurals_and_quotes_read_as_the_windows_word_them(session):
    assert [plural(n, "file") for n in (0, 1, 2, 1200)] == [
        "0 files",
        "1 file",
        "2 files",
        "1,200 files",
    ]
    assert plural(2, "private key") == "2 private keys"
    certificate_groups.create_group(session, "production")
    with pytest.raises(CertdeskError) as refused:
        certificate_groups.create_group(session, "production")
    assert str(refused.value) == "A certificate group named 'production' already exists."  # CLI
    assert failure_text(refused.value) == "A certificate group named “production” already exists."
    assert curly_quotes('alias: "O\'Brien" is already in use') == (
        "alias: “O'Brien” is already in use"
    )
    assert curly_quotes("the store's key") == "the store's key"


@pytest.mark.parametrize("page", ["Certificates", "Requests"])
def test_closing_the_window_cancels_an_import_of_either_page(qtbot, window, tmp_path, certs, page):
    """Each page's import stops at the next file when the window closes, rather than
    keeping the window open until every file is in."""
    key = certs.ec_key()
    paths = [
        str(certs.write(tmp_path, f"{i:03}.pem", certs.pem(certs.make_cert(f"C{i}", key=key)[0])))
        for i in range(150)
    ]
    view = window.open_page(page)
    flow = view.import_paths(paths) if page == "Requests" else None
    if flow is None:
        view.import_files(paths)
        flow = view.import_flow
    window.close()  # returns once the workers are done
    assert flow._cancel.is_set() and tasks.wait_for_tasks(0)
    session, _ = users.sign_in(window.session.folder, "admin", PASSWORD)
    try:
        assert len(certificates.list_certificates(session)) < len(paths)
    finally:
        session.close()
