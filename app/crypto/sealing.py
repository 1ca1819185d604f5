"""Sub-keys derived from the master key, and AES-256-GCM sealing of private keys."""

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_SIZE = 12


def derive_subkey(master_key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"certdesk/{purpose}".encode(),
    ).derive(master_key)


class SealError(Exception):
    """A sealed blob that does not open: wrong key, wrong id, or damaged bytes."""


class Sealer:
    """Seals private keys with the key's id as associated data, so blobs cannot be swapped."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, associated: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, associated.encode())

    def open(self, blob: bytes, associated: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], associated.encode())
        except (InvalidTag, ValueError) as exc:
            raise SealError(str(exc) or "authentication failed") from exc
