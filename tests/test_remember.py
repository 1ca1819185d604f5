"""'Remember me': only a real keyring, never a plaintext one, and never a hang."""

import base64
import time

import keyring
import pytest

from app import cli, remember
from app.services import store_folders, users
from tests.helpers.keyrings import MemoryKeyring, PlaintextKeyring, SilentKeyring
from tests.helpers.stores import PASSWORD


@pytest.fixture
def use_keyring():
    original = keyring.get_keyring()

    def install(backend):
        keyring.set_keyring(backend)
        remember.reset()
        return backend

    yield install
    keyring.set_keyring(original)
    remember.reset()


def test_fail_backend_means_no_remember_option():
    assert remember.available() is False
    assert remember.remember("store", "admin", b"k" * 32) is False
    assert remember.recall("store", "admin") is None


def test_plaintext_backend_is_refused(use_keyring):
    backend = use_keyring(PlaintextKeyring())
    assert remember.available() is False
    assert remember.remember("store", "admin", b"k" * 32) is False
    assert backend.secrets == {}


def test_real_backend_remembers_recalls_and_forgets(use_keyring):
    backend = use_keyring(MemoryKeyring())
    assert remember.available()
    assert remember.remember("store", "admin", b"\x01" * 32)
    stored = backend.secrets[("certdesk", "store:admin")]
    assert stored == base64.b64encode(b"\x01" * 32).decode("ascii")  # printable, not raw
    assert remember.recall("store", "admin") == b"\x01" * 32
    remember.forget("store", "admin")
    assert remember.recall("store", "admin") is None


def test_silent_keyring_does_not_hang(use_keyring, monkeypatch):
    monkeypatch.setattr(remember, "TIMEOUT_S", 0.3)
    use_keyring(SilentKeyring())
    started = time.monotonic()
    assert remember.recall("store", "admin") is None
    assert time.monotonic() - started < 2


def test_cli_signs_in_with_a_remembered_login(use_keyring, store_dir, monkeypatch):
    use_keyring(MemoryKeyring())
    session, kek = users.initialise_store(store_dir, "admin", PASSWORD)
    session.close()
    assert remember.remember(store_folders.store_id(store_dir), "admin", kek)
    monkeypatch.setenv("CERTDESK_USER", "admin")
    monkeypatch.delenv("CERTDESK_PASSWORD", raising=False)
    signed_in = cli.signin.open_session(store_dir)
    assert signed_in.user_name == "admin"
    signed_in.close()


def test_the_keyring_holds_the_kek_and_never_the_password(use_keyring, store_dir):
    backend = use_keyring(MemoryKeyring())
    session, kek = users.initialise_store(store_dir, "admin", PASSWORD)
    session.close()
    assert remember.remember(store_folders.store_id(store_dir), "admin", kek)
    ((service, account), stored) = backend.secrets.popitem()
    assert (service, account) == ("certdesk", f"{store_folders.store_id(store_dir)}:admin")
    assert base64.b64decode(stored, validate=True) == kek  # the key-encryption key itself
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in stored and secret not in account  # nor the password in any form
