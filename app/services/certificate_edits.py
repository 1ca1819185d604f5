"""The General settings of a certificate: alias, owner, description, reason and PIN."""

from dataclasses import dataclass

from app.crypto.pins import hash_pin, validate_pin
from app.errors import ValidationError
from app.services import attestations, journal, key_grants
from app.services.aliases import available_alias, validate_alias
from app.services.certificates import CertificateRow, certificate_rows, find
from app.services.operations import describe, operation
from app.services.session import Session, write_transaction
from models import Certificate, PrivateKey, User, statements
from models.permissions import CERTIFICATES_EDIT, POLICIES_MANAGE

MAX_DESCRIPTION_LENGTH = 4000


@dataclass(frozen=True)
class GeneralChanges:
    """What to change; None (or False for the clear_ flags) leaves a setting as it is."""

    alias: str | None = None
    owner: str | None = None
    clear_owner: bool = False
    description: str | None = None
    ask_reason: bool | None = None
    pin: str | None = None  # held only until it is hashed
    clear_pin: bool = False


def access_refusal(session: Session) -> str | None:
    """Why the session may not change a certificate's owner, PIN or reason, or None. These
    decide who may sign with it and how: changing them is granting, as a policy does, so
    they need the policies' permission beside the edit's."""
    return session.refusal(POLICIES_MANAGE)


def _changes_access(changes: GeneralChanges) -> bool:
    return (
        changes.owner is not None
        or changes.clear_owner
        or changes.ask_reason is not None
        or changes.pin is not None
        or changes.clear_pin
    )


@operation("certificate.edit", CERTIFICATES_EDIT, target="ref")
def edit_certificate(session: Session, ref: int | str, changes: GeneralChanges) -> CertificateRow:
    """Apply the changes in one transaction; every field is checked before anything is
    written, and a refused field is named in the ValidationError. `ref` is an id or an
    alias (see certificates.find)."""
    new_alias = validate_alias(changes.alias) if changes.alias is not None else None
    if changes.description is not None and len(changes.description) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError("description", f"at most {MAX_DESCRIPTION_LENGTH} characters")
    if _changes_access(changes):
        session.authorize(POLICIES_MANAGE, "certificate.edit", describe(ref))
    if changes.pin is not None:
        validate_pin(changes.pin)
    with write_transaction(session):
        cert = find(ref)
        alias = cert.alias
        changed: dict[str, object] = {}
        if new_alias is not None and new_alias != cert.alias:
            changed["alias"] = cert.alias = available_alias(
                session.store.db, new_alias, but=cert.id
            )
        if changes.clear_owner and cert.owner_id is not None:
            cert.owner = None
            changed["owner"] = None
        elif changes.owner is not None:
            owner = User.get_or_none((User.name == changes.owner) & ~User.deleted)
            if owner is None:
                raise ValidationError("owner", f"no user named {changes.owner!r}")
            if owner.id != cert.owner_id:
                cert.owner = owner
                changed["owner"] = owner.name
        if changes.description is not None and changes.description != cert.description:
            cert.description = changes.description
            changed["description"] = "changed"
        if changes.ask_reason is not None and changes.ask_reason != cert.ask_reason:
            cert.ask_reason = changes.ask_reason
            changed["ask_reason"] = changes.ask_reason
        if changes.pin is not None:
            cert.pin_hash = hash_pin(changes.pin)
            changed["pin"] = "set"
        elif changes.clear_pin and cert.pin_hash is not None:
            cert.pin_hash = None
            changed["pin"] = "cleared"
        if changed:
            if "owner" in changed:
                attestations.revoke_rows(session, "owned", [cert.id])  # as the row reads now
            cert.save()
            if "owner" in changed:
                attestations.attest_rows(session, "owned", [cert.id])
                key_grants.sync(session, key_grants.reached(session, [cert.id]))
            if "pin" in changed:
                for key in _keys_of(session, cert):
                    key_grants.set_pin(session, key, changes.pin)
            journal.record(session.user_name, "certificate.edit", alias, **changed)
    return certificate_rows(session, [cert.id])[0]


def _keys_of(session: Session, cert: Certificate) -> list[PrivateKey]:
    """The key of `cert` and those of the pending requests that renew it, by attested
    rows (a request put in the database names any key): a renewal takes its PIN."""
    checker = key_grants.Checker(session)
    renewing = statements.attested_renewal_keys(session.store.db, cert.id, checker)
    wanted = [cert.private_key_id, *renewing]
    return list(PrivateKey.select().where(PrivateKey.id.in_(wanted)))
