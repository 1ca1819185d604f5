"""Keyring backends installed by tests with `keyring.set_keyring`."""

import time

from keyring.backend import KeyringBackend


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
