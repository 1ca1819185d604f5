"""Every test gets its own store folder, QSettings and data folders; the keyring is the
fail backend unless a test installs its own; Qt runs offscreen."""

import os
import subprocess
import sys

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import pytest

from PySide6.QtCore import QCoreApplication, QSettings

from app import keyslots, remember
from tests import certgen
from ui import tasks

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test reads or writes the developer's real data, settings or keyring."""
    home = tmp_path / "home"
    home.mkdir()
    for variable, sub in (
        ("HOME", ""),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(variable, str(home / sub))
    monkeypatch.setenv("CERTDESK_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("CERTDESK_USER", raising=False)
    monkeypatch.delenv("CERTDESK_PASSWORD", raising=False)
    # Argon2id at full strength costs 64 MiB and ~0.15 s per unlock; tests keep the
    # algorithm and lower the cost. One test checks the production defaults.
    monkeypatch.setattr(keyslots, "DEFAULT_PARAMS", keyslots.Argon2Params(1, 1, 1024))
    QCoreApplication.setOrganizationName("CertdeskTests")
    QCoreApplication.setApplicationName("Certdesk")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "qt"))
    remember.reset()
    yield
    # No worker may outlive its test (they hold the store open).
    tasks.wait_for_tasks(10)
    remember.reset()


@pytest.fixture
def store_dir(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def session(store_dir):
    from app.services import users

    session, _ = users.initialise_store(store_dir, "admin", PASSWORD)
    yield session
    session.close()


@pytest.fixture
def certs():
    return certgen


def cli_env(tmp_path, store, **extra: str) -> dict[str, str]:
    """The environment of a `certdesk` subprocess: this test's own folders and store, the
    admin's credentials, the fail keyring; nothing of the developer's."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
        "CERTDESK_STORE": str(store),
        "CERTDESK_USER": "admin",
        "CERTDESK_PASSWORD": PASSWORD,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **extra,
    }


@pytest.fixture
def cli(tmp_path, store_dir):
    env = cli_env(tmp_path, store_dir)

    def run(*args, env_extra=None, drop=()):
        run_env = {k: v for k, v in (env | (env_extra or {})).items() if k not in drop}
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            env=run_env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    return run
