"""`keyslots.json`: one slot per user, opening that user's key pairs and through them the
store's master key.

password → Argon2id → key-encryption key (KEK) → AES-256-GCM opens the user's private
halves (app.crypto.user_keys); the master key is wrapped (HPKE) to the user's public
half, so that an administrator can wrap it anew for every user without knowing their
passwords, and a password only ever opens its own user's keys. The Argon2id parameters
are stored in each slot so that they can be raised later.

A slot of version 1 (a store made before key pairs) wraps the master key under the KEK
itself. It opens as before, and is replaced by a keyed slot under the same KEK at its
user's next sign-in (`upgraded`), so that a KEK remembered in the keyring still opens it.

Every field of every slot is checked when the file is read, the Argon2id cost within
bounds, so that an edited or damaged file is reported as such at once instead of failing
later as a wrong password, a crash, or an Argon2 run of hours. The file is replaced
atomically, and the version it replaces is kept beside it as `keyslots.json.bak`.

cryptography is imported where a slot is wrapped or unwrapped, not with the module: the
login dialog reads the file for its list of users, and shows before cryptography loads.
"""

import base64
import binascii
import errno
import hashlib
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from app.crypto.secret_text import secret_bytes
from app.errors import (
    AuthenticationError,
    CertdeskError,
    NewerSchemaError,
    StoreDamagedError,
    StoreFullError,
    ValidationError,
)
from app.files import FileRefusedError, display_path, read_regular

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.crypto.user_keys import PublicKeys, UserKeys

SLOTS_FILE = "keyslots.json"
BACKUP_FILE = "keyslots.json.bak"
# Temp files of an atomic write; one left by a killed process is removed under the lock.
TEMP_PREFIX = ".keyslots-"
FORMAT = "certdesk-keyslots"
VERSION = 2
# The versions this Certdesk reads: 1 holds only slots of the kind made before key pairs.
READABLE_VERSIONS = (1, 2)
# A slot takes ~300 bytes: thousands of users fit; a huge file is refused, not read whole.
MAX_FILE_BYTES = 4 * 1024 * 1024

# Bounds on what a slot may ask of Argon2id: RFC 9106's settings lie well inside, and an
# edited slot cannot make an unlock run for hours or allocate without end.
ITERATIONS = (1, 10)
LANES = (1, 16)
# 1 GiB, 16 times the default: room to raise the cost, no unlock of a minute and 4 GB.
# Argon2 itself needs at least 8 KiB per lane.
MAX_MEMORY_KIB = 1024 * 1024
SALT_BYTES = (16, 64)
NONCE_BYTES = 12
WRAPPED_BYTES = 48  # a version-1 slot's: the 32-byte master key and the 16-byte GCM tag
# A keyed slot's sizes (app.crypto.user_keys, whose import waits for a sign-in).
SEALED_BYTES = 128 + 16  # the private halves and the GCM tag
PUBLIC_BYTES = 1184 + 32 + 32
MASTER_BYTES = 1088 + 32 + 32 + 16
SIGNATURE_BYTES = 64  # Ed25519's
MAX_USER_NAME = 64
_STORE_ID = re.compile(r"[0-9a-f]{32}")
_TOP_FIELDS = {"format", "version", "store_id", "slots"}
_KDF_FIELDS = {"kdf", "iterations", "lanes", "memory_kib", "salt", "nonce"}
_LEGACY_FIELDS = _KDF_FIELDS | {"wrapped"}
_SLOT_FIELDS = _KDF_FIELDS | {"sealed", "public", "master"}
# The custodian's anchor, in a keyed slot once its user has seen the store's custodian;
# the next master key, while the store's key is being changed (`rotating`).
_OPTIONAL = frozenset({"custodian", "next"})
ANCHOR_BYTES = 32


@dataclass(frozen=True)
class Argon2Params:
    """RFC 9106's second recommended setting by default (t=3, p=4, m=64 MiB)."""

    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 64 * 1024


DEFAULT_PARAMS = Argon2Params()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def derive_kek(password: str, salt: bytes, params: Argon2Params) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # see the module's docstring

    try:
        return Argon2id(
            salt=salt,
            length=32,
            iterations=params.iterations,
            lanes=params.lanes,
            memory_cost=params.memory_kib,
        ).derive(secret_bytes(password))
    except MemoryError:
        raise CertdeskError(
            f"not enough memory to check the password (its key slot asks Argon2id for "
            f"{params.memory_kib // 1024:,} MiB)"
        ) from None


def _aad(store_id: str, user: str) -> bytes:
    # Binds a version-1 slot to its store and user: a slot copied elsewhere does not unwrap.
    return f"certdesk-keyslot\x00{store_id}\x00{user}".encode()


def _sealed_aad(store_id: str, user: str, public: bytes, anchor: bytes | None) -> bytes:
    # Binds the private halves to their store, user and public halves, and to the
    # custodian the user trusts: a slot copied to another user or store does not open,
    # nor one whose public halves or anchor were replaced or removed.
    aad = b"certdesk-user-keys\x00" + f"{store_id}\x00{user}\x00".encode() + public
    return aad if anchor is None else aad + b"\x00custodian\x00" + anchor


def master_purpose(store_id: str, user: str) -> bytes:
    """HPKE's `info` of the master key's wrap to `user`: moved to another user's slot or
    another store, it does not open."""
    return f"certdesk-master-key\x00{store_id}\x00{user}".encode()


class _Damaged(Exception):
    """What is wrong with one field, worded for the user."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(doc: dict, key: str, low: int, high: int, where: str) -> int:
    value = doc[key]
    # bool is an int to Python, not to a person editing JSON.
    if type(value) is not int or not low <= value <= high:
        raise _Damaged(f"{where}{key} must be a whole number from {low:,} to {high:,}, "
                       f"not {_show(value)}")  # fmt: skip
    return value


def _bytes(doc: dict, key: str, low: int, high: int, where: str) -> bytes:
    value = doc[key]
    if not isinstance(value, str):
        raise _Damaged(f"{where}{key} must be base64 text, not {_show(value)}")
    try:
        data = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _Damaged(f"{where}{key} is not valid base64") from None
    if not low <= len(data) <= high:
        size = f"{low}" if low == high else f"{low} to {high}"
        raise _Damaged(f"{where}{key} must hold {size} bytes, not {len(data)}")
    return data


def _fields(doc: object, expected: set[str], what: str, optional: frozenset = frozenset()) -> dict:
    if not isinstance(doc, dict):
        raise _Damaged(f"{what} must be a JSON object, not {type(doc).__name__}")
    if missing := sorted(expected - doc.keys()):
        raise _Damaged(f"{what} lacks the field {missing[0]!r}")
    if unknown := sorted(doc.keys() - expected - optional):
        raise _Damaged(f"{what} has an unknown field {_show(unknown[0])}")
    return doc


@dataclass(frozen=True)
class Slot:
    """One user's slot. Keyed: `sealed` holds the user's private halves under the KEK,
    `public` their public halves, `master` the master key wrapped to them, `custodian`
    the SHA-256 of the custodian's public keys the user trusts (None until they have
    seen one), sealed in with the private halves: someone who can write the database
    cannot swap the custodian without the user's password; `next` the next master key
    wrapped to them while the store's key changes. Of version 1 (`public` None):
    `sealed` is the master key itself under the KEK."""

    params: Argon2Params
    salt: bytes
    nonce: bytes
    sealed: bytes
    public: bytes | None = None
    master: bytes | None = None
    custodian: bytes | None = None
    next: bytes | None = None

    @property
    def keyed(self) -> bool:
        return self.public is not None and self.master is not None

    def to_json(self) -> dict:
        doc = {
            "kdf": "argon2id",
            "iterations": self.params.iterations,
            "lanes": self.params.lanes,
            "memory_kib": self.params.memory_kib,
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
        }
        if not self.keyed:
            return doc | {"wrapped": _b64(self.sealed)}
        doc |= {
            "sealed": _b64(self.sealed),
            "public": _b64(self.public),
            "master": _b64(self.master),
        }
        if self.custodian is not None:
            doc["custodian"] = _b64(self.custodian)
        if self.next is not None:
            doc["next"] = _b64(self.next)
        return doc

    @classmethod
    def from_json(cls, user: object, doc: object) -> "Slot":
        if not isinstance(user, str) or not 0 < len(user) <= MAX_USER_NAME:
            raise _Damaged(f"a slot's user name must be 1 to {MAX_USER_NAME} characters, "
                           f"not {_show(user)}")  # fmt: skip
        where = f"slot {user!r}: "
        legacy = isinstance(doc, dict) and "wrapped" in doc
        fields, optional = (_LEGACY_FIELDS, frozenset()) if legacy else (_SLOT_FIELDS, _OPTIONAL)
        doc = _fields(doc, fields, f"slot {user!r}", optional)
        if doc["kdf"] != "argon2id":
            raise _Damaged(f"{where}kdf must be 'argon2id', not {_show(doc['kdf'])}")
        lanes = _whole(doc, "lanes", *LANES, where)
        params = Argon2Params(
            iterations=_whole(doc, "iterations", *ITERATIONS, where),
            lanes=lanes,
            memory_kib=_whole(doc, "memory_kib", 8 * lanes, MAX_MEMORY_KIB, where),
        )
        salt = _bytes(doc, "salt", *SALT_BYTES, where)
        nonce = _bytes(doc, "nonce", NONCE_BYTES, NONCE_BYTES, where)
        if legacy:
            wrapped = _bytes(doc, "wrapped", WRAPPED_BYTES, WRAPPED_BYTES, where)
            return cls(params, salt, nonce, wrapped)
        return cls(
            params,
            salt,
            nonce,
            sealed=_bytes(doc, "sealed", SEALED_BYTES, SEALED_BYTES, where),
            public=_bytes(doc, "public", PUBLIC_BYTES, PUBLIC_BYTES, where),
            master=_bytes(doc, "master", MASTER_BYTES, MASTER_BYTES, where),
            custodian=(
                _bytes(doc, "custodian", ANCHOR_BYTES, ANCHOR_BYTES, where)
                if "custodian" in doc
                else None
            ),
            next=_bytes(doc, "next", MASTER_BYTES, MASTER_BYTES, where) if "next" in doc else None,
        )


def new_slot(
    store_id: str,
    user: str,
    password: str,
    master_key: bytes,
    params: Argon2Params | None = None,
    custodian: bytes | None = None,
) -> tuple[Slot, bytes]:
    """A slot for `user` with a new pair of key pairs, trusting the custodian anchored by
    `custodian`, and its KEK (for "remember me"). Argon2id runs here: callers do this
    before taking the store's write lock."""
    if not password:
        raise ValidationError("password", "must not be empty")
    params = params or DEFAULT_PARAMS
    salt = secrets.token_bytes(16)
    kek = derive_kek(password, salt, params)
    return _keyed(store_id, user, params, salt, kek, master_key, custodian), kek


def upgraded(store_id: str, user: str, slot: Slot, kek: bytes) -> Slot:
    """A version-1 slot, opened by `kek`, as a keyed slot under the same KEK (its salt and
    parameters), with a new pair of key pairs; AuthenticationError if `kek` does not open
    it."""
    master_key = _unwrap_legacy(store_id, user, slot, kek)
    return _keyed(store_id, user, slot.params, slot.salt, kek, master_key)


def _keyed(
    store_id: str,
    user: str,
    params: Argon2Params,
    salt: bytes,
    kek: bytes,
    master_key: bytes,
    custodian: bytes | None = None,
) -> Slot:
    from app.crypto.user_keys import UserKeys  # see the module's docstring

    keys = UserKeys.generate()
    public = keys.public()
    master = public.wrap(master_key, master_purpose(store_id, user))
    return _sealed(
        store_id, user, params, salt, kek, keys.private_bytes(), public.raw, master, custodian
    )


def _sealed(
    store_id: str,
    user: str,
    params: Argon2Params,
    salt: bytes,
    kek: bytes,
    private: bytes,
    public: bytes,
    master: bytes,
    custodian: bytes | None,
) -> Slot:
    """A keyed slot: the private halves sealed under `kek`, beside the public halves, the
    master key's wrap and the custodian's anchor."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # see the module's docstring

    nonce = secrets.token_bytes(NONCE_BYTES)
    aad = _sealed_aad(store_id, user, public, custodian)
    sealed = AESGCM(kek).encrypt(nonce, private, aad)
    return Slot(params, salt, nonce, sealed, public, master, custodian)


def _open_private(store_id: str, user: str, slot: Slot, kek: bytes) -> bytes:
    """A keyed slot's private halves; AuthenticationError if `kek` does not open them."""
    from cryptography.exceptions import InvalidTag  # see the module's docstring
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(kek).decrypt(
            slot.nonce, slot.sealed, _sealed_aad(store_id, user, slot.public or b"", slot.custodian)
        )
    except (InvalidTag, ValueError) as exc:
        raise AuthenticationError(f"Wrong password for user {user!r}.") from exc


def _unwrap_legacy(store_id: str, user: str, slot: Slot, kek: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag  # see the module's docstring
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(kek).decrypt(slot.nonce, slot.sealed, _aad(store_id, user))
    except (InvalidTag, ValueError) as exc:
        raise AuthenticationError(f"Wrong password for user {user!r}.") from exc


@dataclass(frozen=True)
class OpenedSlot:
    """What a slot opens: the master key, and for a keyed slot its user's private halves
    (app.crypto.user_keys), the custodian's anchor they trust and the next master key
    (while the store's key changes)."""

    master_key: bytes = field(repr=False)
    private: bytes | None = field(repr=False)
    custodian: bytes | None
    next_master_key: bytes | None = field(default=None, repr=False)


@dataclass
class KeySlots:
    store_id: str
    slots: dict[str, Slot]
    # The user whose `user add` wrote this file and had not committed yet: if the database
    # never got them, their slot is an interrupted add's and is dropped (store.py).
    pending: str | None = None
    # While the store's key is being changed: the custodian's signature of the change
    # from the master key to the slots' next one (app.crypto.key_wraps.next_key).
    rotation: bytes | None = None
    # While the `pending` add waits to commit during such a change: the signature from
    # before the add, which holds again if the add is dropped (store._settle).
    pending_rotation: bytes | None = None
    # The file as `load` read it (already checked): what `save` keeps as the .bak.
    loaded: bytes | None = field(default=None, repr=False, compare=False)

    @classmethod
    def new(cls) -> "KeySlots":
        return cls(store_id=secrets.token_hex(16), slots={})

    @classmethod
    def load(cls, folder: Path, name: str = SLOTS_FILE) -> "KeySlots":
        path = folder / name
        hint = ""
        if name == SLOTS_FILE and (folder / BACKUP_FILE).exists():
            hint = f"; {BACKUP_FILE} beside it holds the version before the last change"
        try:
            data = read_regular(path, MAX_FILE_BYTES)
        except FileRefusedError as exc:
            raise _damaged(path, exc.reason, hint) from None
        slots = cls.parse(data, path, hint)
        slots.loaded = data
        return slots

    @classmethod
    def parse(cls, data: bytes, path: str | os.PathLike, hint: str = "") -> "KeySlots":
        """The slot file's content checked field by field; StoreDamagedError naming the
        first field that is wrong."""
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _damaged(path, "not JSON", hint) from None
        try:
            optional = frozenset({"pending", "rotation", "pending_rotation"})
            doc = _fields(doc, _TOP_FIELDS, "the file", optional)
            if doc["format"] != FORMAT:
                raise _Damaged(f"format must be {FORMAT!r}, not {_show(doc['format'])}")
            version = doc["version"]
            if type(version) is int and version > max(READABLE_VERSIONS):
                raise NewerSchemaError(
                    f"{display_path(path)}: the key-slot file is of version {version}; this "
                    f"Certdesk reads up to version {VERSION}. Update Certdesk to open the store."
                )
            if version not in READABLE_VERSIONS or type(version) is not int:
                raise _Damaged(f"version must be 1 or {VERSION}, not {_show(version)}")
            store_id = doc["store_id"]
            if not isinstance(store_id, str) or not _STORE_ID.fullmatch(store_id):
                raise _Damaged(f"store_id must be 32 hex digits, not {_show(store_id)}")
            if not isinstance(doc["slots"], dict):
                raise _Damaged("slots must be a JSON object")
            slots = {user: Slot.from_json(user, slot) for user, slot in doc["slots"].items()}
            if version == 1 and any(slot.keyed for slot in slots.values()):
                raise _Damaged("version 1 holds no slot with key pairs")
            pending = doc.get("pending")
            if pending is not None and pending not in slots:
                raise _Damaged(f"pending must name one of the slots, not {_show(pending)}")
            rotation, pending_rotation = (
                _bytes(doc, key, SIGNATURE_BYTES, SIGNATURE_BYTES, "") if key in doc else None
                for key in ("rotation", "pending_rotation")
            )
        except _Damaged as exc:
            raise _damaged(path, str(exc), hint) from None
        return cls(store_id, slots, pending, rotation, pending_rotation)

    def dump(self) -> bytes:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "store_id": self.store_id,
            "slots": {user: slot.to_json() for user, slot in self.slots.items()},
        }
        if self.pending is not None:
            doc["pending"] = self.pending
        if self.rotation is not None:
            doc["rotation"] = _b64(self.rotation)
        if self.pending_rotation is not None:
            doc["pending_rotation"] = _b64(self.pending_rotation)
        return json.dumps(doc, indent=2, sort_keys=True).encode("utf-8")

    def save(self, folder: Path) -> None:
        """Replace keyslots.json atomically (temp file, fsync, rename: a crash leaves the
        old or the new), keeping the version it replaces as keyslots.json.bak (the first
        file of a store is copied there). The caller holds the store's write lock."""
        data = self.dump()
        try:
            if self.loaded is not None:
                _write_atomic(folder / BACKUP_FILE, self.loaded)
            _write_atomic(folder / SLOTS_FILE, data)
            if self.loaded is None:
                _write_atomic(folder / BACKUP_FILE, data)
            if hasattr(os, "O_DIRECTORY"):  # the renames reach the disk before the caller goes on
                dir_fd = os.open(folder, os.O_DIRECTORY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            why = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
            error = StoreFullError if exc.errno == errno.ENOSPC else CertdeskError
            raise error(
                f"{display_path(folder / SLOTS_FILE)}: cannot write the key-slot file ({why}); "
                "it is as it was"
            ) from None
        self.loaded = data

    def users(self) -> list[str]:
        return sorted(self.slots, key=str.casefold)

    def add(
        self,
        user: str,
        password: str,
        master_key: bytes,
        params: Argon2Params | None = None,
        custodian: bytes | None = None,
    ) -> bytes:
        """A slot for `user`, with new key pairs, the master key wrapped to them and the
        custodian's anchor; return the KEK (for "remember me")."""
        self.slots[user], kek = new_slot(
            self.store_id, user, password, master_key, params, custodian
        )
        return kek

    def remove(self, user: str) -> None:
        self.slots.pop(user, None)

    def kek_for(self, user: str, password: str) -> bytes:
        slot = self._slot(user)
        return derive_kek(password, slot.salt, slot.params)

    def open(self, user: str, kek: bytes) -> "OpenedSlot":
        """The master key and the user's private halves, or AuthenticationError for a
        wrong password or KEK (a KEK remembered in the keyring may be of any length:
        ValueError)."""
        from app.crypto.user_keys import UserKeys, WrapError  # see the module's docstring

        slot = self._slot(user)
        if not slot.keyed:
            return OpenedSlot(_unwrap_legacy(self.store_id, user, slot, kek), None, None)
        private = _open_private(self.store_id, user, slot, kek)
        keys = UserKeys(private)
        purpose = master_purpose(self.store_id, user)
        try:
            master_key = keys.unwrap(slot.master, purpose)
            next_key = None if slot.next is None else keys.unwrap(slot.next, purpose)
        except WrapError:
            raise StoreDamagedError(
                f"{SLOTS_FILE}: the slot of {user!r} is damaged (its master key does not "
                "open with its keys)"
            ) from None
        return OpenedSlot(master_key, private, slot.custodian, next_key)

    def rotating(
        self,
        master_key: bytes,
        next_master_key: bytes,
        recipients: dict[str, bytes],
        replaced: dict[str, Slot] | None = None,
    ) -> "KeySlots":
        """The slots of `recipients` (user name: the public keys their slot must hold,
        the ones the custodian certified), the `replaced` ones first replaced, each with
        `master_key` (the database's key now) and `next_master_key` wrapped to them;
        every other slot left out. The caller sets `rotation` to the custodian's
        signature of the change, changes the database's key, then keeps `rotated`."""
        from app.crypto.user_keys import PublicKeys  # see the module's docstring

        slots = {}
        for user, public in recipients.items():
            slot = (replaced or {}).get(user) or self._slot(user)
            if slot.public != public:
                raise StoreDamagedError(
                    f"{SLOTS_FILE}: the slot of {user!r} holds other keys than the ones the "
                    "custodian certified; the store's key was not changed"
                )
            holder, purpose = PublicKeys(public), master_purpose(self.store_id, user)
            slots[user] = replace(
                slot,
                master=holder.wrap(master_key, purpose),
                next=holder.wrap(next_master_key, purpose),
            )
        return KeySlots(self.store_id, slots, loaded=self.loaded)

    def change_held(self, holder: str, keys: "UserKeys") -> tuple[bytes, bytes] | None:
        """The master key and the next one in `holder`'s slot, opened by `keys` (their
        UserKeys): the change of key under way, as they hold it."""
        from app.crypto.user_keys import WrapError  # see the module's docstring

        mine = self.slots.get(holder)
        if mine is None or mine.next is None:
            return None
        purpose = master_purpose(self.store_id, holder)
        try:
            return keys.unwrap(mine.master, purpose), keys.unwrap(mine.next, purpose)
        except WrapError:
            return None

    def with_next_key(self, user: str, slot: Slot, next_master_key: bytes) -> Slot:
        """`user`'s new `slot` with `next_master_key` wrapped to it, so that it still opens
        the store once the change of key under way is finished."""
        from app.crypto.user_keys import PublicKeys  # see the module's docstring

        wrapped = PublicKeys(slot.public).wrap(next_master_key, master_purpose(self.store_id, user))
        return replace(slot, next=wrapped)

    def sign_change(
        self, sign: "Callable[[bytes], bytes]", master_key: bytes, next_master_key: bytes
    ) -> None:
        """`rotation` made the signature (`sign`, the custodian's) of the change from
        `master_key` to `next_master_key`, with the slots' next keys as they are now."""
        self.rotation = sign(self._change(master_key, next_master_key))

    def change_signed(
        self, custodian: "PublicKeys | None", master_key: bytes, next_master_key: bytes
    ) -> bool:
        """Whether `rotation` is the `custodian`'s signature of the change from
        `master_key` to `next_master_key`, with the slots' next keys as they are now."""
        if custodian is None or self.rotation is None:
            return False
        return custodian.verify(self.rotation, self._change(master_key, next_master_key))

    def _change(self, master_key: bytes, next_master_key: bytes) -> bytes:
        from app.crypto.key_wraps import next_key  # see the module's docstring

        return next_key(self.store_id, master_key, next_master_key, self.next_wraps())

    def next_wraps(self) -> bytes:
        """What the custodian's signature of a change of key covers of the slots: each
        slot's next master key as wrapped (SHA-256 of them, by user), so that a next key
        taken out or replaced in one slot makes the change one nobody signed."""
        digest = hashlib.sha256()
        for user in sorted(self.slots):
            if (wrapped := self.slots[user].next) is not None:
                digest.update(f"{len(user)}:{user}".encode() + len(wrapped).to_bytes(4) + wrapped)
        return digest.digest()

    def rotated(self) -> "KeySlots":
        """Each slot's next master key as its master key (slots without one left out: they
        had no part in the change); the slots as they are if none has one."""
        if all(slot.next is None for slot in self.slots.values()):
            return self
        slots = {
            user: replace(slot, master=slot.next, next=None)
            for user, slot in self.slots.items()
            if slot.next is not None
        }
        pending = self.pending if self.pending in slots else None
        return KeySlots(self.store_id, slots, pending, loaded=self.loaded)

    def without_next(self) -> "KeySlots":
        """Every slot without its next master key: a change of the store's key no
        custodian signed, not taken."""
        slots = {user: replace(slot, next=None) for user, slot in self.slots.items()}
        return KeySlots(self.store_id, slots, self.pending, loaded=self.loaded)

    def anchored(self, user: str, kek: bytes, custodian: bytes) -> Slot:
        """`user`'s keyed slot, opened by `kek`, sealed again under the same KEK with
        `custodian` as the custodian's anchor."""
        slot = self._slot(user)
        private = _open_private(self.store_id, user, slot, kek)
        anchored = _sealed(
            self.store_id,
            user,
            slot.params,
            slot.salt,
            kek,
            private,
            slot.public,
            slot.master,
            custodian,
        )
        return replace(anchored, next=slot.next)  # a change of the store's key under way

    def resealed(
        self, user: str, kek: bytes, password: str, params: Argon2Params | None = None
    ) -> tuple[Slot, bytes]:
        """`user`'s slot, opened by `kek`, sealed under `password` instead (a new salt and
        KEK; the same key pairs and master-key wrap, and key pairs for a slot of version
        1), and its KEK. AuthenticationError if `kek` does not open the slot. Argon2id runs
        here: callers do this before taking the store's write lock."""
        if not password:
            raise ValidationError("password", "must not be empty")
        slot = self._slot(user)
        params = params or DEFAULT_PARAMS
        salt = secrets.token_bytes(16)
        if not slot.keyed:
            master_key = _unwrap_legacy(self.store_id, user, slot, kek)
            new_kek = derive_kek(password, salt, params)
            return _keyed(self.store_id, user, params, salt, new_kek, master_key), new_kek
        private = _open_private(self.store_id, user, slot, kek)
        new_kek = derive_kek(password, salt, params)
        resealed = _sealed(
            self.store_id,
            user,
            params,
            salt,
            new_kek,
            private,
            slot.public,
            slot.master,
            slot.custodian,
        )
        return replace(resealed, next=slot.next), new_kek

    def _slot(self, user: str) -> Slot:
        try:
            return self.slots[user]
        except KeyError:
            raise AuthenticationError(f"No user {user!r} in this store.") from None


def _damaged(path: str | os.PathLike, detail: str, hint: str = "") -> StoreDamagedError:
    return StoreDamagedError(f"{display_path(path)}: the key-slot file is damaged ({detail}){hint}")


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
