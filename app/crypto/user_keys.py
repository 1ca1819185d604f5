"""Each user's two key pairs: an HPKE pair (RFC 9180) for receiving keys wrapped to them,
and an Ed25519 pair for signing what they do.

The HPKE suite is the hybrid ML-KEM-768 + X25519 KEM with HKDF-SHA256 and AES-256-GCM:
a key wrapped today stays safe if either half holds, so against a future quantum
attacker too. A wrap is bound to what it is for by HPKE's `info` (the store, the user,
the purpose): moved to another purpose, user or store, it does not open.

The private halves travel as one fixed-length blob (the ML-KEM seed, the X25519 and the
Ed25519 private keys), the public halves as another; both in raw encodings, so that
their lengths are checked before anything is parsed.
"""

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, mlkem, x25519

SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_MLKEM_SEED, _X25519, _ED25519 = 64, 32, 32
_MLKEM_PUBLIC = 1184
PRIVATE_BYTES = _MLKEM_SEED + _X25519 + _ED25519
PUBLIC_BYTES = _MLKEM_PUBLIC + _X25519 + _ED25519


class WrapError(Exception):
    """A wrap that does not open with this key and purpose: another user's, another
    purpose's, or damaged."""


@dataclass(frozen=True)
class PublicKeys:
    """A user's public halves: what keys are wrapped to and signatures checked against."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != PUBLIC_BYTES:
            raise ValueError(f"public keys must be {PUBLIC_BYTES} bytes, not {len(self.raw)}")

    def wrap(self, secret: bytes, purpose: bytes) -> bytes:
        """`secret` (a key) sealed to these keys' HPKE half for `purpose` alone."""
        mlkem_public = mlkem.MLKEM768PublicKey.from_public_bytes(self.raw[:_MLKEM_PUBLIC])
        x_public = x25519.X25519PublicKey.from_public_bytes(
            self.raw[_MLKEM_PUBLIC : _MLKEM_PUBLIC + _X25519]
        )
        return SUITE.encrypt(secret, hpke.MLKEM768X25519PublicKey(mlkem_public, x_public), purpose)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether `signature` is these keys' Ed25519 signature of `data`."""
        signer = ed25519.Ed25519PublicKey.from_public_bytes(self.raw[-_ED25519:])
        try:
            signer.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class UserKeys:
    """A user's private halves, open: kept only for the operation that needs them."""

    def __init__(self, private: bytes):
        if len(private) != PRIVATE_BYTES:
            raise ValueError(f"private keys must be {PRIVATE_BYTES} bytes, not {len(private)}")
        seed, rest = private[:_MLKEM_SEED], private[_MLKEM_SEED:]
        self._mlkem = mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
        self._x25519 = x25519.X25519PrivateKey.from_private_bytes(rest[:_X25519])
        self._signer = ed25519.Ed25519PrivateKey.from_private_bytes(rest[_X25519:])

    @classmethod
    def generate(cls) -> "UserKeys":
        keys = cls.__new__(cls)
        keys._mlkem = mlkem.MLKEM768PrivateKey.generate()
        keys._x25519 = x25519.X25519PrivateKey.generate()
        keys._signer = ed25519.Ed25519PrivateKey.generate()
        return keys

    def private_bytes(self) -> bytes:
        """The blob `UserKeys(...)` takes back: to be sealed at once (keyslots)."""
        return (
            self._mlkem.private_bytes_raw()
            + self._x25519.private_bytes_raw()
            + self._signer.private_bytes_raw()
        )

    def public(self) -> PublicKeys:
        return PublicKeys(
            self._mlkem.public_key().public_bytes_raw()
            + self._x25519.public_key().public_bytes_raw()
            + self._signer.public_key().public_bytes_raw()
        )

    def unwrap(self, wrapped: bytes, purpose: bytes) -> bytes:
        """What `PublicKeys.wrap` sealed to these keys for `purpose`; WrapError if it was
        sealed to other keys, for another purpose, or changed since."""
        private = hpke.MLKEM768X25519PrivateKey(self._mlkem, self._x25519)
        try:
            return SUITE.decrypt(wrapped, private, purpose)
        except (InvalidTag, ValueError) as exc:
            raise WrapError("the wrap does not open with these keys for this purpose") from exc

    def sign(self, data: bytes) -> bytes:
        return self._signer.sign(data)
