"""Attestations: the rows that decide who may sign with a key (owners, policies, group
memberships, requests), signed by the user who wrote them (app.services.attestations).

Each such row names the attestation that covers it; the attestation holds one item per
row, in the row's own identities (a certificate by its public key's SHA-256, a user by
name, a policy or group by id), and its writer's signature of all of them. A row is
attested when its attestation's signature holds and lists the item the row reads as
now; the grant query (models.statements `_grantees`) reads only such rows when it makes
wraps, through `certdesk_attested(attestation, item)`, which each connection has.
"""

from collections.abc import Callable
from contextvars import ContextVar

import peewee

from models.base import BaseModel
from models.permissions import (
    CERTIFICATES_REQUEST,
    GROUPS_ADD_CERTIFICATES,
    POLICIES_MANAGE,
    USERS_MANAGE,
)
from models.users import User

SEP = "\x1f"  # between an item's parts: no name, id or hash holds it

OWNER = "owner"  # (certificate's public key, owner)
POLICY = "policy"  # (policy, effect, enabled)
POLICY_USER = "policy-user"  # (policy, user)
POLICY_USER_GROUP = "policy-user-group"  # (policy, user group)
POLICY_CERTIFICATE = "policy-certificate"  # (policy, certificate's public key)
POLICY_GROUP = "policy-group"  # (policy, certificate group)
MEMBER = "member"  # (certificate group, certificate's public key)
USER_MEMBER = "user-member"  # (user group, user)
REQUEST_OWNER = "request-owner"  # (request's key's public key, owner)
REQUEST_RENEWS = "request-renews"  # (request's key's public key, renewed one's)
REQUEST_GROUP = "request-group"  # (request's key's public key, certificate group)

# Who may write each kind of row: a renewal gives the new key its predecessor's owner,
# policies and groups, which a Certificate Manager's request may do.
ATTESTED_BY: dict[str, frozenset[str]] = {
    OWNER: frozenset({POLICIES_MANAGE, CERTIFICATES_REQUEST}),
    POLICY: frozenset({POLICIES_MANAGE}),
    POLICY_USER: frozenset({POLICIES_MANAGE}),
    POLICY_USER_GROUP: frozenset({POLICIES_MANAGE}),
    POLICY_CERTIFICATE: frozenset({POLICIES_MANAGE, CERTIFICATES_REQUEST}),
    POLICY_GROUP: frozenset({POLICIES_MANAGE}),
    MEMBER: frozenset({GROUPS_ADD_CERTIFICATES, CERTIFICATES_REQUEST}),
    USER_MEMBER: frozenset({USERS_MANAGE}),
    REQUEST_OWNER: frozenset({POLICIES_MANAGE, CERTIFICATES_REQUEST}),
    REQUEST_RENEWS: frozenset({CERTIFICATES_REQUEST}),
    REQUEST_GROUP: frozenset({CERTIFICATES_REQUEST}),
}


class Attestation(BaseModel):
    """Items one user wrote, and their signature of them (app.crypto.key_wraps)."""

    signer = peewee.ForeignKeyField(User, backref="attestations", on_delete="CASCADE")
    items = peewee.TextField()  # sorted, one per line
    signature = peewee.BlobField()
    # A revocation: its items, as rows just removed read, hold no more in any attestation
    # made before it (app.services.attestations `revoke_rows`).
    revokes = peewee.BooleanField(default=False)


def sql_item(kind: str, *expressions: str) -> str:
    """An item as SQL reads it from a row's columns: its kind and parts, SEP between."""
    return " || char(31) || ".join([f"'{kind}'", *expressions])


# What checks an item against its attestation while a query reads attested rows (the
# grant query, for the wraps it makes); outside it, nothing is attested.
checking: ContextVar[Callable[[int, str], bool] | None] = ContextVar("checking", default=None)


def attested(attestation_id: int | None, item_text: str | None) -> int:
    """`certdesk_attested` in SQL."""
    check = checking.get()
    if check is None or attestation_id is None or item_text is None:
        return 0
    return int(check(attestation_id, item_text))
