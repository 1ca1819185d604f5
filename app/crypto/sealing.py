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
    """Seals private keys with the key's id and the SHA-256 of its public key (SPKI) as
    associated data: a blob cannot be moved to another key row, nor its recorded public
    key changed."""

    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, uid: str, spki_sha256: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, plaintext, _associated(uid, spki_sha256))

    def open(self, blob: bytes, uid: str, spki_sha256: str) -> bytes:
        """Keys sealed before the public key was bound in (associated data: the id only)
        open too: stores hold them. Callers compare the opened key's public key with
        the certificate's, which makes either kind safe to use."""
        nonce, sealed = blob[:NONCE_SIZE], blob[NONCE_SIZE:]
        try:
            return self._aead.decrypt(nonce, sealed, _associated(uid, spki_sha256))
        except (InvalidTag, ValueError):
            pass
        try:
            return self._aead.decrypt(nonce, sealed, uid.encode())
        except (InvalidTag, ValueError) as exc:
            raise SealError(str(exc) or "authentication failed") from exc


def _associated(uid: str, spki_sha256: str) -> bytes:
    return f"certdesk-key/2 uid={uid} spki-sha256={spki_sha256}".encode()
