"""'Remember me': only a real keyring, never a plaintext one, and never a hang."""

import time

import keyring
import pytest
from keyring.backend import KeyringBackend

from app import cli, remember
from app.services import users
from tests.conftest import PASSWORD


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt's file backend: must never be used."""


class SilentKeyring(MemoryKeyring):
    """A Secret Service that never answers."""

    def get_password(self, service, username):
        time.sleep(5)


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
    assert stored != "\x01" * 32  # base64 of the KEK, not a password
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
    remember.remember(users.store_id(store_dir), "admin", kek)
    monkeypatch.setenv("CERTDESK_USER", "admin")
    monkeypatch.delenv("CERTDESK_PASSWORD", raising=False)
    signed_in = cli.signin.open_session(store_dir)
    assert signed_in.user_name == "admin"
    signed_in.close()
