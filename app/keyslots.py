"""`keyslots.json`: one slot per user wrapping the store's master key.

password → Argon2id → key-encryption key (KEK) → AES-256-GCM unwraps the master key.
The Argon2id parameters are stored in each slot so that they can be raised later.
"""

import base64
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.errors import AuthenticationError, StoreDamagedError, ValidationError

SLOTS_FILE = "keyslots.json"
FORMAT = "certdesk-keyslots"


@dataclass(frozen=True)
class Argon2Params:
    """RFC 9106's second recommended setting by default (t=3, p=4, m=64 MiB)."""

    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 64 * 1024


DEFAULT_PARAMS = Argon2Params()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derive_kek(password: str, salt: bytes, params: Argon2Params) -> bytes:
    return Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(password.encode("utf-8"))


def _aad(store_id: str, user: str) -> bytes:
    # Binds a slot to its store and user: a slot copied elsewhere does not unwrap.
    return f"certdesk-keyslot\x00{store_id}\x00{user}".encode()


@dataclass
class KeySlots:
    store_id: str
    slots: dict[str, dict]

    @classmethod
    def new(cls) -> "KeySlots":
        return cls(store_id=secrets.token_hex(16), slots={})

    @classmethod
    def load(cls, folder: Path) -> "KeySlots":
        path = folder / SLOTS_FILE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT or not isinstance(doc.get("slots"), dict):
                raise ValueError("not a key-slot file")
            return cls(store_id=str(doc["store_id"]), slots=dict(doc["slots"]))
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreDamagedError(f"{path}: the key-slot file is damaged ({exc})") from exc

    def save(self, folder: Path) -> None:
        """Write atomically: temp file, fsync, rename, so a crash leaves the old or the new."""
        doc = {"format": FORMAT, "version": 1, "store_id": self.store_id, "slots": self.slots}
        fd, tmp = tempfile.mkstemp(prefix=".keyslots-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, folder / SLOTS_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if hasattr(os, "O_DIRECTORY"):
            dir_fd = os.open(folder, os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def users(self) -> list[str]:
        return sorted(self.slots, key=str.casefold)

    def add(
        self, user: str, password: str, master_key: bytes, params: Argon2Params | None = None
    ) -> bytes:
        """Wrap the master key for `user`; return the KEK (for "remember me")."""
        if not password:
            raise ValidationError("password", "must not be empty")
        params = params or DEFAULT_PARAMS
        salt = secrets.token_bytes(16)
        kek = derive_kek(password, salt, params)
        nonce = secrets.token_bytes(12)
        wrapped = AESGCM(kek).encrypt(nonce, master_key, _aad(self.store_id, user))
        self.slots[user] = {
            "kdf": "argon2id",
            "iterations": params.iterations,
            "lanes": params.lanes,
            "memory_kib": params.memory_kib,
            "salt": _b64(salt),
            "nonce": _b64(nonce),
            "wrapped": _b64(wrapped),
        }
        return kek

    def remove(self, user: str) -> None:
        self.slots.pop(user, None)

    def kek_for(self, user: str, password: str) -> bytes:
        slot = self._slot(user)
        params = Argon2Params(slot["iterations"], slot["lanes"], slot["memory_kib"])
        return derive_kek(password, _unb64(slot["salt"]), params)

    def unwrap(self, user: str, kek: bytes) -> bytes:
        """The master key, or AuthenticationError for a wrong password or KEK."""
        slot = self._slot(user)
        try:
            return AESGCM(kek).decrypt(
                _unb64(slot["nonce"]), _unb64(slot["wrapped"]), _aad(self.store_id, user)
            )
        except (InvalidTag, ValueError) as exc:
            raise AuthenticationError(f"Wrong password for user {user!r}.") from exc

    def _slot(self, user: str) -> dict:
        try:
            return self.slots[user]
        except KeyError:
            raise AuthenticationError(f"No user {user!r} in this store.") from None
