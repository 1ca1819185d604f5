"""Private keys sealed in the store: each bound to its own uid and public key."""

import secrets

from app.crypto import encodings
from app.crypto.certinfo import key_algorithm_text, spki_sha256_of_public_key
from app.services.session import Session
from models import PrivateKey


def seal_key(session: Session, key) -> PrivateKey:
    """Seal at once: the PKCS#8 bytes exist only for the length of this call. The seal
    binds the key's public key hash, the one certificates and requests are matched by."""
    public_key = key.public_key()
    uid = secrets.token_hex(16)
    spki_sha256 = spki_sha256_of_public_key(public_key)
    sealed = session.store.sealer.seal(encodings.private_key_pkcs8(key), uid, spki_sha256)
    return PrivateKey.create(
        uid=uid,
        algorithm=key_algorithm_text(public_key),
        spki_sha256=spki_sha256,
        sealed=sealed,
    )
