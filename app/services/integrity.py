"""`certdesk check`: is the store whole? Database pages, key slots, sealed keys, audit chain."""

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from app.crypto.certinfo import spki_sha256_of_public_key
from app.crypto.parse import quietly
from app.crypto.sealing import SealError
from app.errors import CertdeskError
from app.services.audit import chain_breaks
from app.services.session import Session
from app.store import load_slots
from models import Certificate, CertificateDer, PrivateKey, Request, User, database
from models.permissions import AUDIT_VIEW


def check_store(session: Session) -> list[str]:
    """One line per problem found; an empty list means the store is intact. Each sealed
    key is opened to prove it can be, and matched against the public key of every
    certificate and request that holds it; the plaintext is dropped at once."""
    session.require(AUDIT_VIEW)
    problems: list[str] = []
    for (line,) in database.execute_sql("PRAGMA integrity_check").fetchall():
        if line != "ok":
            problems.append(f"database: {line}")
    for (line,) in database.execute_sql("PRAGMA cipher_integrity_check").fetchall():
        problems.append(f"database page: {line}")
    try:
        slotted = set(load_slots(session.folder).users())
        known = {name for (name,) in User.select(User.name).tuples()}
        problems += [f"key slots: no slot for the user {n!r}" for n in sorted(known - slotted)]
        problems += [f"key slots: a slot for no user, {n!r}" for n in sorted(slotted - known)]
    except CertdeskError as exc:
        problems.append(f"key slots: {exc}")
    public_keys = _open_keys(session, problems)
    for alias, key_id, der in (
        Certificate.select(Certificate.alias, Certificate.private_key, CertificateDer.der)
        .join(CertificateDer)
        .where(Certificate.private_key.is_null(False))
        .order_by(Certificate.id)
        .tuples()
    ):
        if key_id in public_keys and public_keys[key_id] != _public_key(
            x509.load_der_x509_certificate, der
        ):
            problems.append(
                f"certificate {alias!r}: its private key does not belong to its certificate"
            )
    for request_id, alias, key_id, csr_pem in (
        Request.select(Request.id, Request.alias, Request.private_key, Request.csr_pem)
        .where(Request.private_key.is_null(False))
        .order_by(Request.id)
        .tuples()
    ):
        if key_id in public_keys and public_keys[key_id] != _public_key(
            x509.load_pem_x509_csr, csr_pem.encode()
        ):
            problems.append(
                f"request {request_id} ({alias!r}): its private key does not belong to its request"
            )
    problems.extend(f"audit event {i}: its hash or link does not match" for i in chain_breaks())
    return problems


def _open_keys(session: Session, problems: list[str]) -> dict[int, object]:
    """The public key of every sealed key that opens, by key id."""
    sealer = session.store.sealer
    public_keys: dict[int, object] = {}
    for key_id, uid, spki_sha256, sealed in PrivateKey.select(
        PrivateKey.id, PrivateKey.uid, PrivateKey.spki_sha256, PrivateKey.sealed
    ).tuples():
        try:
            pkcs8 = sealer.open(sealed, uid, spki_sha256)
            public_key = serialization.load_der_private_key(pkcs8, password=None).public_key()
        except SealError as exc:
            problems.append(f"private key {key_id}: does not open ({exc})")
            continue
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            problems.append(f"private key {key_id}: opens to no readable key ({exc})")
            continue
        # Keys sealed before the hash was bound in could carry another key's hash, and
        # imports and requests find keys by it.
        if spki_sha256_of_public_key(public_key) != spki_sha256:
            problems.append(f"private key {key_id}: its recorded public key hash is not its own")
        public_keys[key_id] = public_key
    return public_keys


def _public_key(load, data: bytes):
    """The public key of a certificate or request, None when it cannot be read."""
    try:
        return quietly(lambda: load(data).public_key())
    except (ValueError, UnsupportedAlgorithm):
        return None
