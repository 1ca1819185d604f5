"""Every test gets its own store folder, QSettings and data folders; the keyring is the
fail backend unless a test installs its own; Qt runs offscreen."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import pytest

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

from app import keyslots, remember
from tests.helpers import certgen
from tests.helpers.cli import cli_env, run_in_process, run_process
from tests.helpers.stores import PASSWORD, SIGNER_PASSWORD, import_keys, make_store
from ui import tasks


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
    remember.reset()
    app = QApplication.instance()
    for widget in app.topLevelWidgets() if isinstance(app, QApplication) else ():
        if widget.isModal() and widget.isVisible():
            widget.hide()  # a dialog a test left open is not the next test's modal one
    # No worker may outlive its test (they hold the store open).
    assert tasks.wait_for_tasks(10), "a background task outlived its test by 10 s"


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
def closed_store(store_dir):
    """A store for the CLI (cheap Argon2id parameters, made in-process), closed again;
    its Administrator is admin, with PASSWORD, as the `cli` fixtures sign in."""
    return make_store(store_dir)


@pytest.fixture
def certs():
    return certgen


def _runner(run, tmp_path, store_dir):
    env = cli_env(tmp_path, store_dir)

    def cli(*args, env_extra=None, drop=()):
        run_env = {k: v for k, v in (env | (env_extra or {})).items() if k not in drop}
        return run(args, run_env)

    return cli


@pytest.fixture
def cli(tmp_path, store_dir):
    """`certdesk ARGS...` run in this process (see tests/helpers/cli.py): the CLI
    contract, at the speed of a function call."""
    return _runner(run_in_process, tmp_path, store_dir)


@pytest.fixture
def cli_process(tmp_path, store_dir):
    """`certdesk ARGS...` as a real `python -m app` process, with the same environment
    as `cli`: for what only a process shows."""
    return _runner(run_process, tmp_path, store_dir)


@pytest.fixture
def granted(session, tmp_path, certs):
    """K1 allowed to bob by a policy naming him; K2 allowed to the user group "ops"
    (carol) through the certificate group "release"; K3 allowed to nobody."""
    from app.services import certificate_groups, policies, users
    from app.services.policies import PolicySpec
    from models.permissions import SIGNER

    users.add_user(session, "bob", SIGNER_PASSWORD, SIGNER)
    users.add_user(session, "carol", SIGNER_PASSWORD, SIGNER, user_groups=["ops"])
    import_keys(session, tmp_path, certs, "K1", "K2", "K3")
    certificate_groups.add_to_groups(session, ["K2"], ["release"])
    policies.add_policy(session, PolicySpec("bob signs K1", certificates=("K1",), users=("bob",)))
    policies.add_policy(
        session, PolicySpec("ops release", certificate_groups=("release",), user_groups=("ops",))
    )
    return session
