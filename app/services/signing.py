"""Signing a file with a certificate's key held in the store: a detached CMS signature.

Checked in this order, and every refusal is an audit event: the `sign` permission, the
certificate enabled, holding a key, valid, its extensions allowing signing, the owner or
a policy allowing it now, the PIN, the reason. Only then is the content read, in
chunks, and the key unsealed, matched against the certificate and used for the signature.
`signable_certificates` lists what the same checks let the signed-in user sign with.
"""

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import peewee
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app import attempts
from app.crypto import cms
from app.crypto.parse import quietly
from app.crypto.pins import pin_matches
from app.crypto.purpose import SigningVerdict, signing_verdict
from app.errors import (
    CertdeskError,
    NotFoundError,
    PermissionDenied,
    StoreDamagedError,
    ValidationError,
)
from app.files import free_name, new_file, open_regular
from app.services import journal, key_grants, policies
from app.services.certificates import find, issuer_certificates
from app.services.names import check_name
from app.services.operations import operation
from app.services.session import Session, write_transaction
from models import Certificate, CertificateDer, PrivateKey, User
from models.base import utcnow
from models.permissions import CERTIFICATES_VIEW, SIGN

MAX_REASON = 500
CHUNK_SIZE = 1024 * 1024  # what is held of the content at a time
SIGNATURE_SUFFIX = ".p7s"
NOT_ALLOWED = "Not allowed"


@dataclass(frozen=True)
class SigningChoice:
    """A certificate the signed-in user may sign with, as the owner or through a policy."""

    id: int
    alias: str
    # The policy that allows it; "" when the user owns it, None when neither allows it.
    policy: str | None
    needs_pin: bool
    asks_reason: bool
    not_after: dt.datetime
    blocked: str  # "" when it signs; else what stops it, in short ("Disabled")
    why_not: str  # and in a sentence ("It is disabled: nobody can sign with it.")


class Obstacle(NamedTuple):
    """What keeps everyone from signing with a certificate."""

    error: type[CertdeskError]
    words: str  # what follows the alias in the error ("is disabled: nobody can ...")
    short: str  # for a list ("Disabled")


@operation("certificate.needs_pin", SIGN, reads=True)
def needs_pin(session: Session, ref: int | str) -> bool:
    """Whether `sign_data` will want a PIN for this certificate (for the faces to ask)."""
    return find(ref).pin_hash is not None


@operation("certificate.signing_purpose", CERTIFICATES_VIEW, reads=True)
def signing_purpose(session: Session, ref: int | str) -> SigningVerdict:
    """Whether the certificate's extensions let `sign_data` use it, and why."""
    return signing_verdict(_parsed(find(ref)))


@operation("certificate.signable", SIGN, reads=True)
def signable_certificates(session: Session, now: dt.datetime | None = None) -> list[SigningChoice]:
    """The certificates the owner rule or a policy lets the signed-in user sign with now
    (`policies.decide`, as `sign_data` asks it), by alias; each says what keeps everyone
    from signing with it when the certificate itself does (disabled, no key, ...)."""
    user = User.get_or_none(User.id == session.user_id)
    return [] if user is None else _signable(user, now or utcnow())


@operation("user.signable", CERTIFICATES_VIEW, reads=True)
def signable_by(session: Session, name: str, now: dt.datetime | None = None) -> list[SigningChoice]:
    """What `signable_certificates` lists for the user `name`: what may this user sign,
    and which policy (or ownership) decides it."""
    user = User.get_or_none((User.name == name) & ~User.deleted)
    if user is None:
        raise NotFoundError(f"No user {name!r} in this store.")
    return _signable(user, now or utcnow())


def _signable(user: User, now: dt.datetime) -> list[SigningChoice]:
    query = (
        Certificate.select(Certificate, PrivateKey)
        .join(PrivateKey, peewee.JOIN.LEFT_OUTER)
        .where(Certificate.id.in_(policies.certificates_for(user)))
    )
    decided = ((cert, policies.decide(user, cert, now)) for cert in query)
    choices = [_choice(cert, decision, now) for cert, decision in decided if decision.allowed]
    return sorted(choices, key=lambda c: c.alias.casefold())


@operation("certificate.signing_choice", SIGN, reads=True)
def signing_choice(
    session: Session, ref: int | str, now: dt.datetime | None = None
) -> SigningChoice:
    """What a signature with this certificate asks of the signed-in user, and what stops
    it now: the certificate itself, or the owner rule and the policies (`policy` None)."""
    now = now or utcnow()
    cert = find(ref)
    user = User.get_or_none(User.id == session.user_id)
    if user is None:
        raise PermissionDenied(f"{session.user_name} is no longer a user of this store.")
    return _choice(cert, policies.decide(user, cert, now), now)


def _choice(cert: Certificate, decision: policies.Decision, now: dt.datetime) -> SigningChoice:
    obstacle = _obstacle(cert, now)
    if obstacle is not None:
        blocked, why_not = obstacle.short, f"It {obstacle.words}."
    elif not decision.allowed:
        blocked, why_not = NOT_ALLOWED, f"You may not sign with it: {decision.why}."
    else:
        blocked = why_not = ""
    return SigningChoice(
        id=cert.id,
        alias=cert.alias,
        policy=decision.policy if decision.allowed else None,
        needs_pin=cert.pin_hash is not None,
        asks_reason=cert.ask_reason,
        not_after=cert.not_after,
        blocked=blocked,
        why_not=why_not,
    )


@operation("certificate.sign", SIGN, target="ref")
def sign_data(
    session: Session,
    ref: int | str,
    content: BinaryIO,
    reason: str | None = None,
    pin: str | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """The DER of a detached CMS (PKCS#7) signature of `content`, read to its end: the
    signer certificate and its issuers found in the store are included."""
    now = now or utcnow()
    cert = find(ref)
    reason = (reason or "").strip()
    try:
        certificate = _check(session, cert, now, reason, pin)
    except CertdeskError as exc:
        outcome = "denied" if isinstance(exc, PermissionDenied) else "failed"
        with write_transaction(session):
            journal.record(session.user_name, "certificate.sign", cert.alias, outcome, why=str(exc))
        raise
    try:
        signature, sha256 = _signature(session, cert, certificate, content, now, pin)
    except CertdeskError as exc:
        with write_transaction(session):
            journal.record(
                session.user_name, "certificate.sign", cert.alias, "failed", why=str(exc)
            )
        raise
    with write_transaction(session):
        Certificate.update(usage_count=Certificate.usage_count + 1, last_used=now).where(
            Certificate.id == cert.id
        ).execute()
        journal.record(
            session.user_name, "certificate.sign", cert.alias, sha256=sha256, reason=reason or None
        )
    return signature


@dataclass(frozen=True)
class SignedFile:
    content: Path
    signature: Path


def signature_path(content: str | Path) -> Path:
    """Where `sign_file` puts the signature of `content`: `<file>.p7s` beside it, or the
    first free `<file> (2).p7s`, … (a signature never replaces a file)."""
    return free_name(Path(f"{content}{SIGNATURE_SUFFIX}"))


def sign_file(
    session: Session,
    ref: int | str,
    content: str | Path,
    reason: str | None = None,
    pin: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SignedFile:
    """`sign_data` of the regular file `content`, its signature written to the new file
    `signature_path(content)`; `progress(bytes read, size, "")` as the file is read. A
    refused or failed signature leaves no file."""
    with open_regular(content) as handle:
        reader = _Progress(handle, progress) if progress is not None else handle
        out = signature_path(content)
        with new_file(out) as written:
            written.write(sign_data(session, ref, reader, reason, pin))
    return SignedFile(Path(content), out)


class _Progress:
    """A file read through, telling how far: a large file's signature shows it moving."""

    def __init__(self, handle: BinaryIO, progress: Callable[[int, int, str], None]):
        self._handle, self._progress = handle, progress
        self._size = os.fstat(handle.fileno()).st_size
        self._done = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._done += len(data)
        self._progress(self._done, self._size, "")
        return data


def _obstacle(cert: Certificate, now: dt.datetime) -> Obstacle | None:
    """What keeps everyone, the owner too, from signing with `cert` at `now`."""
    if not cert.enabled:
        return Obstacle(PermissionDenied, "is disabled: nobody can sign with it", "Disabled")
    if cert.private_key_id is None:
        return Obstacle(CertdeskError, "has no private key in this store", "No private key")
    algorithm = cert.private_key.algorithm
    if not algorithm.startswith(("RSA", "EC")):
        words = f"has an {algorithm} key: CMS signatures here need RSA or ECDSA"
        return Obstacle(CertdeskError, words, f"{algorithm} key")
    if not cert.not_before <= now <= cert.not_after:
        words = f"is not valid now (valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d})"
        return Obstacle(
            CertdeskError, words, "Expired" if now > cert.not_after else "Not yet valid"
        )
    verdict = signing_verdict(_parsed(cert))
    if not verdict.allowed:
        return Obstacle(CertdeskError, f"is not for signing: {verdict.why}", "Not for signing")
    return None


def _check(
    session: Session, cert: Certificate, now, reason: str, pin: str | None
) -> x509.Certificate:
    obstacle = _obstacle(cert, now)
    if obstacle is not None:
        raise obstacle.error(f"{cert.alias!r} {obstacle.words}.")
    certificate = _parsed(cert)
    user = User.get_or_none(User.id == session.user_id)
    if user is None:
        raise PermissionDenied(f"{session.user_name} is no longer a user of this store.")
    decision = policies.decide(user, cert, now)
    if not decision.allowed:
        raise PermissionDenied(
            f"{session.user_name} may not sign with {cert.alias!r}: {decision.why}."
        )
    if cert.pin_hash is not None:
        _check_pin(session, cert, pin)
    if cert.ask_reason and not reason:
        raise ValidationError("reason", "this certificate asks for a reason for each signature")
    if reason:
        # Held to the rule of names, as typed: the reason is read in audit lines.
        check_name("reason", reason, MAX_REASON)
    return certificate


def _check_pin(session: Session, cert: Certificate, pin: str | None) -> None:
    """Wrong PINs in a row for a certificate make each next try wait longer (app.attempts);
    each is in the audit log as a refused signature."""
    if pin is None:
        raise ValidationError("pin", "this certificate asks for its PIN")
    attempts.wait(session.folder, attempts.PIN, cert.sha256)
    if not pin_matches(pin, cert.pin_hash):
        attempts.failed(session.folder, attempts.PIN, cert.sha256)
        raise ValidationError("pin", "wrong PIN")
    attempts.succeeded(session.folder, attempts.PIN, cert.sha256)


def _parsed(cert: Certificate) -> x509.Certificate:
    return quietly(x509.load_der_x509_certificate, CertificateDer.get_by_id(cert.id).der)


def _signature(
    session: Session,
    cert: Certificate,
    certificate: x509.Certificate,
    content: BinaryIO,
    now,
    pin: str | None,
) -> tuple[bytes, str]:
    """The signature and the content's SHA-256 (for the audit trail)."""
    try:
        public_key = quietly(certificate.public_key)
    except (ValueError, UnsupportedAlgorithm):
        raise _not_its_key(cert) from None
    algorithm = cms.digest_for(public_key)
    message_digest, sha256 = _digests(content, algorithm)
    key = _unsealed_key(session, cert, public_key, pin)
    chain = issuer_certificates(cert, certificate)
    signature = cms.detached_signature(certificate, key, algorithm, message_digest, now, chain)
    return signature, sha256


def _digests(content: BinaryIO, algorithm: hashes.HashAlgorithm) -> tuple[bytes, str]:
    """The `algorithm` digest and the SHA-256 of the content, in one pass."""
    signing = hashes.Hash(algorithm)
    sha256 = None if isinstance(algorithm, hashes.SHA256) else hashes.Hash(hashes.SHA256())
    try:
        while chunk := content.read(CHUNK_SIZE):
            signing.update(chunk)
            if sha256 is not None:
                sha256.update(chunk)
    except OSError as exc:
        raise CertdeskError(f"the file to sign cannot be read ({exc.strerror or exc})") from None
    digest = signing.finalize()
    return digest, (digest if sha256 is None else sha256.finalize()).hex()


def _unsealed_key(
    session: Session, cert: Certificate, public_key, pin: str | None
) -> cms.SigningKey:
    sealed = cert.private_key
    key = serialization.load_der_private_key(
        key_grants.open_key(session, sealed, cert.alias, pin), password=None
    )
    # The row's link to its key is not sealed: only the keys themselves prove they pair.
    if key.public_key() != public_key:
        raise _not_its_key(cert)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertdeskError(
            f"{cert.alias!r}: CMS signatures here need an RSA or ECDSA key, not {sealed.algorithm}"
        )
    return key


def _not_its_key(cert: Certificate) -> StoreDamagedError:
    return StoreDamagedError(
        f"{cert.alias!r}: its private key does not belong to its certificate; "
        "the store is damaged: run `certdesk check`"
    )
