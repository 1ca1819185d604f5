"""A certificate's PIN as a factor of its key's wraps: a key pair derived from the PIN and
a salt (Argon2id, then the hybrid HPKE suite of app.crypto.user_keys), to which each
grantee's wrap of the key's data key is sealed once more. A grantee without the PIN holds
a wrap they cannot open; someone with the wrap and a computer can still try PINs, each
try costing one Argon2id derivation (the README says what that means for a short PIN).
"""

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.crypto.pins import ITERATIONS, LANES, MEMORY_KIB
from app.crypto.secret_text import secret_bytes
from app.crypto.user_keys import SUITE, WrapError

SALT_BYTES = 16
_MLKEM_SEED, _X25519, _MLKEM_PUBLIC = 64, 32, 1184
PUBLIC_BYTES = _MLKEM_PUBLIC + _X25519


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


class PinKey:
    """The key pair of one PIN and salt: kept only for the operation that needs it."""

    def __init__(self, pin: str, salt: bytes):
        kdf = Argon2id(
            salt=salt,
            length=_MLKEM_SEED + _X25519,
            iterations=ITERATIONS,
            lanes=LANES,
            memory_cost=MEMORY_KIB,
        )
        seed = kdf.derive(secret_bytes(pin))
        self._mlkem = mlkem.MLKEM768PrivateKey.from_seed_bytes(seed[:_MLKEM_SEED])
        self._x25519 = x25519.X25519PrivateKey.from_private_bytes(seed[_MLKEM_SEED:])

    def public(self) -> bytes:
        return (
            self._mlkem.public_key().public_bytes_raw()
            + self._x25519.public_key().public_bytes_raw()
        )

    def unwrap(self, wrapped: bytes, purpose: bytes) -> bytes:
        """What `pin_wrap` sealed to this PIN's public key; WrapError for another PIN."""
        private = hpke.MLKEM768X25519PrivateKey(self._mlkem, self._x25519)
        try:
            return SUITE.decrypt(wrapped, private, purpose)
        except (InvalidTag, ValueError) as exc:
            raise WrapError("the wrap does not open with this PIN") from exc


def pin_wrap(public: bytes, wrapped: bytes, purpose: bytes) -> bytes:
    """A grantee's wrap sealed once more, to the PIN's public key, for `purpose` alone."""
    if len(public) != PUBLIC_BYTES:
        raise ValueError(f"a PIN's public key is {PUBLIC_BYTES} bytes, not {len(public)}")
    mlkem_public = mlkem.MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC])
    x_public = x25519.X25519PublicKey.from_public_bytes(public[_MLKEM_PUBLIC:])
    return SUITE.encrypt(wrapped, hpke.MLKEM768X25519PublicKey(mlkem_public, x_public), purpose)
