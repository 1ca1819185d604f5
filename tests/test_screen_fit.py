"""Every window fits a small or scaled screen (issue 10, item 4): 1024x700 at twice the
scale (512x350 logical) and 1366x768 at 1.5. Each size runs in a process of its own,
because QT_SCALE_FACTOR applies only before the QApplication starts; the offscreen
platform's screen is given its size by a configuration file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The main window with a few certificates, a certificate's window and the CSR wizard;
# for each, whether its frame lies in the screen's available area and which of its
# buttons do not lie inside it.
PROGRAM = """
import json, sys, time
from pathlib import Path

sys.path.insert(0, sys.argv[1])
work = Path(sys.argv[2])
from app import keyslots

keyslots.DEFAULT_PARAMS = keyslots.Argon2Params(1, 1, 1024)
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialogButtonBox, QWizard

QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(work / "ini"))
app = QApplication([])
app.setStyle("Fusion")
from app.services import certificate_import, users
from tests.helpers import certgen
from ui import tasks
from ui.main_window import MainWindow


def settle():
    for _ in range(200):
        QCoreApplication.processEvents()
        if tasks.idle():
            break
    QCoreApplication.processEvents()


session, _ = users.initialise_store(work / "store", "admin", "correct horse battery")
names = ["Build Agent Signing 2026", "Example Release Signing", "Legacy Firmware"]
paths = [
    certgen.write(work, f"{n}.pem", certgen.pem(certgen.make_cert(name)[0]))
    for n, name in enumerate(names)
]
certificate_import.import_files(session, paths)
found = {}


def look(name, window, buttons):
    settle()
    area = window.screen().availableGeometry()
    outside = [
        b.text()
        for b in buttons
        if not window.rect().contains(b.mapTo(window, b.rect().bottomRight()))
        or not window.rect().contains(b.mapTo(window, b.rect().topLeft()))
    ]
    found[name] = {
        "fits": area.contains(window.frameGeometry()),
        "frame": window.frameGeometry().getRect(),
        "area": area.getRect(),
        "outside": outside,
    }


main = MainWindow(session)
main.show()
main.open_page("Certificates")  # the window opens on the Dashboard
deadline = time.monotonic() + 20
while main.certificates.model.rowCount() < len(names) and time.monotonic() < deadline:
    QCoreApplication.processEvents()  # every page reads at the start: wait for this one
settle()
main.certificates.model.set_checked(main.certificates.model.checked_ids(), False)
look("main window", main, [])
certificate = main.certificates.open_certificate(main.certificates.model.row_at(0).id)
settle()
box = certificate.findChild(QDialogButtonBox)
look("certificate window", certificate, box.findChildren(QAbstractButton))
certificate.reject()
wizard = main.requests.new_request()
settle()
shown = [QWizard.WizardButton.NextButton, QWizard.WizardButton.CancelButton]
look("CSR wizard", wizard, [wizard.button(which) for which in shown])
wizard.reject()
main.close()
print(json.dumps(found))
"""


@pytest.mark.parametrize(
    ("screen", "scale"), [((1024, 700), "2"), ((1366, 768), "1.5")], ids=["2x", "1.5x"]
)
def test_every_window_and_its_buttons_fit_a_scaled_screen(tmp_path, screen, scale):
    width, height = screen
    config = tmp_path / "screen.json"
    shape = {"name": "small", "x": 0, "y": 0, "width": width, "height": height}
    shape |= {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"windowFrameMargins": False, "screens": [shape]}))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "QT_SCALE_FACTOR": scale,
    }
    program = tmp_path / "fit.py"
    program.write_text(PROGRAM)
    done = subprocess.run(
        [sys.executable, str(program), str(ROOT), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(found) == {"main window", "certificate window", "CSR wizard"}
    for name, seen in found.items():
        assert seen["fits"], (name, seen)
        assert seen["outside"] == [], (name, seen)
