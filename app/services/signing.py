"""Signing a file with a certificate's key held in the store: a detached CMS signature.

Checked in this order, and every refusal is an audit event: the `sign` permission, the
certificate enabled, valid and holding a key, the owner or a policy allowing it now,
the PIN, the reason. The key is unsealed only after all of that, for the signature.
"""

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from app.crypto.parse import quietly
from app.crypto.pins import pin_matches
from app.crypto.sealing import SealError
from app.errors import CertdeskError, PermissionDenied, StoreDamagedError, ValidationError
from app.services import audit, policies
from app.services.certificates import find
from app.services.session import Session, write_transaction
from models import Certificate, CertificateDer, User
from models.base import utcnow
from models.permissions import SIGN

MAX_REASON = 500


def needs_pin(session: Session, ref: int | str) -> bool:
    """Whether `sign_data` will want a PIN for this certificate (for the faces to ask)."""
    session.require(SIGN)
    return find(ref).pin_hash is not None


def sign_data(
    session: Session,
    ref: int | str,
    data: bytes,
    reason: str | None = None,
    pin: str | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The DER of a detached CMS (PKCS#7) signature of `data`, signer certificate included."""
    now = now or utcnow()
    session.authorize(SIGN, "certificate.sign", str(ref))
    cert = find(ref)
    reason = (reason or "").strip()
    details = {"sha256": hashlib.sha256(data).hexdigest(), "reason": reason or None}
    try:
        _check(session, cert, now, reason, pin)
    except CertdeskError as exc:
        outcome = "denied" if isinstance(exc, PermissionDenied) else "failed"
        with write_transaction(session):
            audit.record(session.user_name, "certificate.sign", cert.alias, outcome, why=str(exc))
        raise
    try:
        signature = _signature(session, cert, data)
    except CertdeskError as exc:
        with write_transaction(session):
            audit.record(session.user_name, "certificate.sign", cert.alias, "failed", why=str(exc))
        raise
    with write_transaction(session):
        Certificate.update(usage_count=Certificate.usage_count + 1, last_used=now).where(
            Certificate.id == cert.id
        ).execute()
        audit.record(session.user_name, "certificate.sign", cert.alias, **details)
    return signature


def _check(session: Session, cert: Certificate, now, reason: str, pin: str | None) -> None:
    if not cert.enabled:
        raise PermissionDenied(f"{cert.alias!r} is disabled: nobody can sign with it.")
    if cert.private_key_id is None:
        raise CertdeskError(f"{cert.alias!r} has no private key in this store.")
    if not cert.private_key.algorithm.startswith(("RSA", "EC")):
        raise CertdeskError(
            f"{cert.alias!r}: CMS signatures here need an RSA or ECDSA key, "
            f"not {cert.private_key.algorithm}."
        )
    if not cert.not_before <= now <= cert.not_after:
        raise CertdeskError(
            f"{cert.alias!r} is not valid now (valid {cert.not_before:%Y-%m-%d} to "
            f"{cert.not_after:%Y-%m-%d})."
        )
    user = User.get_or_none(User.id == session.user_id)
    if user is None:
        raise PermissionDenied(f"{session.user_name} is no longer a user of this store.")
    decision = policies.decide(user, cert, now)
    if not decision.allowed:
        raise PermissionDenied(
            f"{session.user_name} may not sign with {cert.alias!r}: {decision.why}."
        )
    if cert.pin_hash is not None and (pin is None or not pin_matches(pin, cert.pin_hash)):
        raise ValidationError("pin", "wrong PIN" if pin else "this certificate asks for its PIN")
    if cert.ask_reason and not reason:
        raise ValidationError("reason", "this certificate asks for a reason for each signature")
    if len(reason) > MAX_REASON:
        raise ValidationError("reason", f"at most {MAX_REASON} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in reason):
        raise ValidationError("reason", "one line of text, no control characters")


def _signature(session: Session, cert: Certificate, data: bytes) -> bytes:
    certificate = x509.load_der_x509_certificate(CertificateDer.get_by_id(cert.id).der)
    sealed = cert.private_key
    try:
        pkcs8 = session.store.sealer.open(sealed.sealed, sealed.uid, sealed.spki_sha256)
    except SealError:
        raise StoreDamagedError(
            f"{cert.alias!r}: its sealed private key does not open; run `certdesk check`"
        ) from None
    key = serialization.load_der_private_key(pkcs8, password=None)
    # The row's link to its key is not sealed: only the keys themselves prove they pair.
    try:
        matches = key.public_key() == quietly(certificate.public_key)
    except (ValueError, UnsupportedAlgorithm):
        matches = False
    if not matches:
        raise StoreDamagedError(
            f"{cert.alias!r}: its private key does not belong to its certificate; "
            "the store is damaged: run `certdesk check`"
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertdeskError(
            f"{cert.alias!r}: CMS signatures here need an RSA or ECDSA key, not {sealed.algorithm}"
        )
    strong_curve = isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256
    digest = hashes.SHA384() if strong_curve else hashes.SHA256()
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(certificate, key, digest)
        .sign(serialization.Encoding.DER, options)
    )
