"""Private keys sealed in the store: each under its own data key, bound to its own uid and
public key, the data key wrapped to the custodian (and to the key's grantees by
app.services.key_grants)."""

import secrets
from collections.abc import MutableMapping

from app.crypto import encodings
from app.crypto.certinfo import key_algorithm_text, spki_sha256_of_public_key
from app.crypto.key_wraps import data_key_purpose, new_data_key
from app.crypto.sealing import Sealer
from app.services.session import Session
from models import PrivateKey
from models.base import blob


def seal_key(
    session: Session, key, fresh: MutableMapping[int, bytes], pin_of: PrivateKey | None = None
) -> PrivateKey:
    """Seal at once: the PKCS#8 bytes exist only for the length of this call. The seal
    binds the key's public key hash, the one certificates and requests are matched by.
    The new data key is put in `fresh` (by the key's id) for `key_grants.sync` to wrap
    to the key's grantees in the same transaction. In a store that has no custodian yet
    (one made before data keys, until an Administrator signs in) the key is sealed as
    that store's others are, under the master key's sub-key. `pin_of`: a key whose PIN
    (app.crypto.pin_keys) this one takes, as a renewal takes its certificate's."""
    public_key = key.public_key()
    uid = secrets.token_hex(16)
    spki_sha256 = spki_sha256_of_public_key(public_key)
    pkcs8 = encodings.private_key_pkcs8(key)
    custodian = session.custodian_public
    pin_public = None if pin_of is None or pin_of.pin_public is None else blob(pin_of.pin_public)
    if custodian is None:
        pin_public = None
        sealed, wrap, data_key = session.store.sealer.seal(pkcs8, uid, spki_sha256), None, None
    else:
        data_key = new_data_key()
        sealed = Sealer(data_key).seal(pkcs8, uid, spki_sha256)
        purpose = data_key_purpose(session.store.store_id, uid, None, pin_public)
        wrap = custodian.wrap(data_key, purpose)
    row = PrivateKey.create(
        uid=uid,
        algorithm=key_algorithm_text(public_key),
        spki_sha256=spki_sha256,
        sealed=sealed,
        custodian_wrap=wrap,
        pin_public=pin_public,
        pin_salt=None if pin_public is None else blob(pin_of.pin_salt),
    )
    if data_key is not None:
        fresh[row.id] = data_key
    return row
