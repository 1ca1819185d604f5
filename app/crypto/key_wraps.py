"""What keys are wrapped and signed for, so that no wrap or signature can serve another.

The store's custodian is a key pair like a user's (app.crypto.user_keys). Its private
halves are wrapped to each Administrator; each private key's own data key is wrapped to
the custodian and to each user who may sign with it; and the custodian signs each user's
public keys, so that a key is only ever wrapped to keys it certified. Each wrap's HPKE
`info` and each signed statement names the store, the purpose and the holder: moved to
another key, user, purpose or store, a wrap does not open and a signature does not
verify.
"""

import hashlib
import secrets

from app.crypto.sealing import derive_subkey
from app.crypto.user_keys import PublicKeys

DATA_KEY_BYTES = 32
ANCHOR_BYTES = 32


def anchor_of(custodian: PublicKeys) -> bytes:
    """What a user's key slot keeps of the custodian's public keys: their SHA-256."""
    return hashlib.sha256(custodian.raw).digest()


def new_data_key() -> bytes:
    return secrets.token_bytes(DATA_KEY_BYTES)


def custodian_purpose(store_id: str, user: str) -> bytes:
    """The custodian's private halves wrapped to Administrator `user`."""
    return f"certdesk-custodian\x00{store_id}\x00{user}".encode()


def data_key_purpose(
    store_id: str, key_uid: str, holder: str | None, pin_public: bytes | None = None
) -> bytes:
    """The data key of private key `key_uid` wrapped to user `holder` (None: the
    custodian). The custodian's wrap of a key with a PIN names the PIN's public key
    (app.crypto.pin_keys): one given another PIN's, or none, does not open."""
    who = "custodian" if holder is None else f"user\x00{holder}"
    purpose = f"certdesk-data-key\x00{store_id}\x00{key_uid}\x00{who}"
    if holder is None and pin_public is not None:
        purpose += f"\x00pin\x00{hashlib.sha256(pin_public).hexdigest()}"
    return purpose.encode()


def pin_purpose(store_id: str, key_uid: str, holder: str) -> bytes:
    """User `holder`'s wrap of the data key of `key_uid` sealed to its PIN's public key."""
    return f"certdesk-pin\x00{store_id}\x00{key_uid}\x00{holder}".encode()


def awaiting(store_id: str, users: list[str]) -> bytes:
    """What the custodian signs to name the users of an older store whose keys it will
    certify when they first have some (sorted, so that the order does not matter)."""
    return f"certdesk-awaiting\x00{store_id}\x00".encode() + "\x00".join(sorted(users)).encode()


def audit_from(store_id: str, first_id: int) -> bytes:
    """What the custodian signs to say that every audit event from `first_id` on is signed
    by its user."""
    return f"certdesk-audit-from\x00{store_id}\x00{first_id}".encode()


def audit_event(store_id: str, event_hash: str, first_hash: str | None = None) -> bytes:
    """What a user signs for the events of one append: the hashes of its first and its
    last, so that the signature covers those events and no event put before them. Without
    `first_hash`, what Certdesk signed before (the last's alone, which the chain ties to
    every event before it)."""
    if first_hash is None:
        return f"certdesk-audit-event\x00{store_id}\x00{event_hash}".encode()
    return f"certdesk-audit-append\x00{store_id}\x00{first_hash}\x00{event_hash}".encode()


def audit_head(store_id: str, event_id: int, event_hash: str, roster: int) -> bytes:
    """What a user signs for the newest audit event and roster their session saw, kept
    in the store folder (app.audit_heads)."""
    return f"certdesk-audit-head\x00{store_id}\x00{event_id}\x00{event_hash}\x00{roster}".encode()


def user_record(store_id: str, user: str, role: str, enabled: bool) -> bytes:
    """What the custodian signs when it sets a user's role or enabled state."""
    state = "enabled" if enabled else "disabled"
    return f"certdesk-user-record\x00{store_id}\x00{user}\x00{role}\x00{state}".encode()


def roster(store_id: str, serial: int, records: str) -> bytes:
    """What the custodian signs for every user's name, role and enabled state, one
    record a line, as of change `serial`."""
    return f"certdesk-roster\x00{store_id}\x00{serial}\x00".encode() + records.encode()


def key_name(master_key: bytes) -> str:
    """A name of the store's master key that gives nothing of it away (a sub-key of it)."""
    return derive_subkey(master_key, "key-change").hex()


def next_key(store_id: str, master_key: bytes, next_master_key: bytes, wraps: bytes) -> bytes:
    """What the custodian signs to change the store's key from `master_key` to
    `next_master_key`, each named by `key_name`, with `wraps` (app.keyslots
    `KeySlots.next_wraps`): one signed change is taken only from the key it was made
    for, never again later, and only with the next key wrapped to each slot as it was."""
    names = f"{key_name(master_key)}\x00{key_name(next_master_key)}\x00{wraps.hex()}"
    return f"certdesk-next-key\x00{store_id}\x00{names}".encode()


def certification(store_id: str, user: str, public: bytes) -> bytes:
    """What the custodian signs to certify that `public` are `user`'s keys."""
    return f"certdesk-user-certificate\x00{store_id}\x00{user}\x00".encode() + public


def attestation(store_id: str, signer: str, items: str, revokes: bool = False) -> bytes:
    """What a user signs for the rows they wrote that decide who may sign
    (models.attestations): their items, one per line; or (`revokes`) for the rows they
    removed."""
    kind = "certdesk-revocation" if revokes else "certdesk-attestation"
    return f"{kind}\x00{store_id}\x00{signer}\x00".encode() + items.encode()
