"""Certificate PINs, kept only as Argon2id hashes in PHC string form (parameters and salt
travel with the hash, so the cost can be raised later without breaking old PINs)."""

import os

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from app.crypto.secret_text import secret_bytes
from app.errors import ValidationError

# For PINs set from now on; a PIN set before still opens as it is.
MIN_PIN_LENGTH = 6
MAX_PIN_LENGTH = 64
# Lighter than a store password's Argon2id: a PIN is checked on every signing.
ITERATIONS, LANES, MEMORY_KIB = 2, 1, 19 * 1024


def validate_pin(pin: str) -> None:
    if len(pin) < MIN_PIN_LENGTH:
        raise ValidationError("pin", f"at least {MIN_PIN_LENGTH} characters")
    if len(pin) > MAX_PIN_LENGTH:
        raise ValidationError("pin", f"at most {MAX_PIN_LENGTH} characters")
    if any(ord(ch) < 32 for ch in pin):
        raise ValidationError("pin", "no control characters")


def hash_pin(pin: str) -> str:
    validate_pin(pin)
    kdf = Argon2id(
        salt=os.urandom(16), length=32, iterations=ITERATIONS, lanes=LANES, memory_cost=MEMORY_KIB
    )
    return kdf.derive_phc_encoded(secret_bytes(pin))


def pin_matches(pin: str, encoded: str) -> bool:
    try:
        Argon2id.verify_phc_encoded(secret_bytes(pin), encoded)
    except (InvalidKey, ValueError):
        return False
    return True
