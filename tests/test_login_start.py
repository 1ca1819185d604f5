"""`certdesk` with a store shows its login dialog before importing what only the signed-in
console needs: the main window with its pages, and the command line's commands with the
services they bring. Checked in a fresh interpreter, the real `python -m app` path."""

import json
import subprocess
import sys

from tests.helpers.cli import cli_env
from tests.helpers.stores import make_store

# Runs the real entry point; when the login dialog first shows, prints which of the
# late modules are loaded and leaves at once (no event loop to wait on).
PROBE = """
import json, os, sys
import ui.login
shown = ui.login.LoginDialog.showEvent

def report(self, event):
    shown(self, event)
    late = ("ui.main_window", "app.cli.certificates", "app.services.certificate_import")
    print(json.dumps({name: name in sys.modules for name in late}), flush=True)
    os._exit(0)

ui.login.LoginDialog.showEvent = report
from app.__main__ import main
main(["--store", sys.argv[1]])
"""


def test_the_login_dialog_shows_before_the_main_window_and_the_commands_load(tmp_path):
    store = make_store(tmp_path / "store")
    env = cli_env(tmp_path, store, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(store)],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {
        "ui.main_window": False,
        "app.cli.certificates": False,
        "app.services.certificate_import": False,
    }
