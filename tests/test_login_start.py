"""`certdesk` with a store shows its login dialog before importing what only the signed-in
console needs: the main window with its pages, the command line's commands with the
services they bring, and the store's own code (peewee, the driver, the models, the
cryptography), which loads with the sign-in. Checked in a fresh interpreter, the real
`python -m app` path."""

import json
import subprocess
import sys

import pytest

from tests.helpers.cli import cli_env
from tests.helpers.stores import PASSWORD, make_store

LATE = ("ui.main_window", "app.cli.certificates", "app.services.certificate_import")
# What the sign-in brings: the store, its database's code and its cryptography.
STORE_CODE = (
    "app.store",
    "app.services.users",
    "app.services.session",
    "models",
    "peewee",
    "sqlcipher3",
    "cryptography",
)

# Runs the real entry point; when the login dialog first shows, prints which of the
# modules are loaded and which worker threads run, then signs in as the dialog does and
# prints the modules again, and leaves at once (no event loop to wait on).
PROBE = """
import json, os, sys, threading
import ui.login
shown = ui.login.LoginDialog.showEvent
names = json.loads(sys.argv[2])

def loaded():
    return {name: name in sys.modules for name in names}

def report(self, event):
    shown(self, event)
    workers = sorted(t.name for t in threading.enumerate() if t.name.startswith("certdesk"))
    print(json.dumps({"modules": loaded(), "workers": workers}), flush=True)
    from app.services import logins
    logins.sign_in(self.folder, "admin", sys.argv[3]).close()
    print(json.dumps({"modules": loaded()}), flush=True)
    os._exit(0)

ui.login.LoginDialog.showEvent = report
from app.__main__ import main
main(["--store", sys.argv[1]])
"""


@pytest.fixture(scope="module")
def start_to_login(tmp_path_factory) -> list[dict]:
    """What the probe printed when the dialog showed, then once signed in."""
    tmp_path = tmp_path_factory.mktemp("login")
    store = make_store(tmp_path / "store")
    env = cli_env(tmp_path, store, QT_QPA_PLATFORM="offscreen")
    names = json.dumps([*LATE, *STORE_CODE, "keyring"])
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(store), names, PASSWORD],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.strip().splitlines()[-2:]]


def test_the_login_dialog_shows_before_the_main_window_and_the_commands_load(start_to_login):
    shown, _ = start_to_login
    assert {name: shown["modules"][name] for name in LATE} == dict.fromkeys(LATE, False)


def test_the_login_dialog_shows_before_the_store_code_loads(start_to_login):
    shown, signed_in = start_to_login
    assert {name: shown["modules"][name] for name in STORE_CODE} == dict.fromkeys(STORE_CODE, False)
    # The names are those of modules the sign-in does load.
    assert {name: signed_in["modules"][name] for name in STORE_CODE} == dict.fromkeys(
        STORE_CODE, True
    )


def test_the_keyring_is_asked_once_the_login_dialog_is_painted(start_to_login):
    shown, _ = start_to_login
    assert shown["workers"] == []
    assert not shown["modules"]["keyring"]
