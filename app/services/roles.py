"""Roles: the four built-in ones, whose permissions are Certdesk's own, and custom roles,
whose permissions the store's key custodian signs (its line in the roster,
models.roster), so that a role's permissions changed in the database grant nothing and
an older definition put back is known as older. Faces never name a permission to decide
anything: they ask the operation registry (`operations.refusal`); the Roles page only
shows and sets the permissions of a role."""

from collections.abc import Iterable
from dataclasses import dataclass

import peewee

from app.errors import NotFoundError, ValidationError
from app.services import attestations, custody, journal
from app.services.names import check_name
from app.services.operations import operation
from app.services.session import Session, write_transaction
from models import Role, RolePermission, User
from models.permissions import (
    ALL_PERMISSIONS,
    BUILTIN_ROLES,
    CERTIFICATES_VIEW,
    PERMISSION_WORDS,
    ROLES_MANAGE,
    SIGNER,
)

# What the faces show of the permissions (they decide nothing by them).
__all__ = ["ALL_PERMISSIONS", "BUILTIN_ROLES", "PERMISSION_WORDS", "SIGNER"]

MAX_ROLE_NAME = 64
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class RoleRow:
    name: str
    description: str
    builtin: bool
    permissions: frozenset[str]  # as Certdesk (built-in) or the custodian (custom) says
    users: int  # the users who have it
    tampered: bool = False  # the database's rows say otherwise: they grant nothing


@operation("role.list", CERTIFICATES_VIEW, reads=True)
def list_roles(session: Session) -> list[RoleRow]:
    """The built-in roles first, in Certdesk's order, then the custom ones by name."""
    held: dict[int, set[str]] = {}
    for role_id, permission in RolePermission.select(
        RolePermission.role, RolePermission.permission
    ).tuples():
        held.setdefault(role_id, set()).add(permission)
    counts = dict(
        User.select(User.role, peewee.fn.COUNT(User.id))
        .where(~User.deleted)
        .group_by(User.role)
        .tuples()
    )
    order = list(BUILTIN_ROLES)
    rows = []
    for r in Role.select():
        granted = custody.granted_by(session, r)
        tampered = granted != frozenset(held.get(r.id, ()))
        builtin = r.name in BUILTIN_ROLES  # by its name: the row's flag is not signed
        rows.append(RoleRow(r.name, r.description, builtin, granted, counts.get(r.id, 0), tampered))
    return sorted(
        rows,
        key=lambda r: (
            not r.builtin,
            order.index(r.name) if r.builtin and r.name in order else 0,
            r.name.casefold(),
        ),
    )


@operation("role.add", ROLES_MANAGE, target="name")
def add_role(
    session: Session, name: str, permissions: Iterable[str], description: str = ""
) -> RoleRow:
    """A custom role with these permissions, signed by the custodian."""
    name = _name(name)
    chosen = _permissions(permissions)
    description = _description(description)
    with write_transaction(session):
        if Role.select().where(peewee.fn.lower(Role.name) == name.lower()).exists():
            raise ValidationError("role", f"a role named {name!r} exists already")
        role = Role.create(name=name, description=description, builtin=False)
        _grant(role, chosen)
        custody.sign_role(session, name, chosen)
        journal.record(session.user_name, "role.add", name, permissions=",".join(sorted(chosen)))
    return RoleRow(name, description, False, chosen, 0)


@operation("role.edit", ROLES_MANAGE, target="name")
def edit_role(
    session: Session,
    name: str,
    permissions: Iterable[str] | None = None,
    description: str | None = None,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> bool:
    """A custom role's permissions (`permissions`, or those it has now, with `add` and
    without `remove`) or description; False when nothing changed. Its users have the
    new permissions from their next sign-in; what they attested in the role as it was
    is signed again by the Administrator editing it (as at a change of a user's role),
    so that the rows they wrote go on handing keys on."""
    description = None if description is None else _description(description)
    add, remove = frozenset(add), frozenset(remove)
    with write_transaction(session):
        role = _custom(name)
        # What the custodian signed, not the rows (which someone may have added to).
        held = custody.granted_by(session, role)
        chosen = None
        if permissions is not None or add or remove:
            base = held if permissions is None else frozenset(permissions)
            chosen = _permissions((base | add) - remove)
        changes = {}
        if chosen is not None and chosen != held:
            changes["permissions"] = ",".join(sorted(chosen))
        if description is not None and description != role.description:
            changes["description"] = description
        if not changes:
            return False
        if chosen is not None and chosen != held:
            for user in User.select().where((User.role == role.id) & ~User.deleted):
                keys = custody.verified_keys(session, user.name, user.public_keys, user.certified)
                if keys is not None and custody.record_holds(session, user):
                    attestations.take_over(session, user.id, user.name, keys, held)
            RolePermission.delete().where(RolePermission.role == role.id).execute()
            _grant(role, chosen)
            custody.sign_role(session, role.name, chosen)
        if description is not None:
            Role.update(description=description).where(Role.id == role.id).execute()
        journal.record(session.user_name, "role.edit", role.name, **changes)
    return True


@operation("role.delete", ROLES_MANAGE, target="name")
def delete_role(session: Session, name: str) -> None:
    """Delete a custom role no user has."""
    with write_transaction(session):
        role = _custom(name)
        holders = User.select().where((User.role == role.id) & ~User.deleted).count()
        if holders:
            raise ValidationError(
                "role", f"{holders:,} user(s) have the role {name!r}: give them another first"
            )
        RolePermission.delete().where(RolePermission.role == role.id).execute()
        role.delete_instance()
        custody.sign_role(session, role.name, None)
        journal.record(session.user_name, "role.delete", role.name)


def _grant(role: Role, permissions: frozenset[str]) -> None:
    fields = [RolePermission.role, RolePermission.permission]
    RolePermission.insert_many([(role.id, p) for p in sorted(permissions)], fields=fields).execute()


def _custom(name: str) -> Role:
    role = Role.get_or_none(Role.name == name)
    if role is None:
        raise NotFoundError(f"No role {name!r} in this store.")
    if role.name in BUILTIN_ROLES:
        raise ValidationError(
            "role", f"{name!r} is a built-in role: its permissions are Certdesk's own"
        )
    return role


def _name(name: str) -> str:
    name = check_name("role", name, MAX_ROLE_NAME)
    if name.casefold() in {r.casefold() for r in BUILTIN_ROLES}:
        raise ValidationError("role", f"{name!r} is a built-in role's name")
    return name


def _permissions(permissions: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(permissions)
    unknown = sorted(chosen - set(ALL_PERMISSIONS))
    if unknown:
        raise ValidationError(
            "permissions", f"no permission {unknown[0]!r}; they are {', '.join(ALL_PERMISSIONS)}"
        )
    if not chosen:
        raise ValidationError("permissions", "give the role at least one permission")
    return chosen


def _description(text: str) -> str:
    return check_name("description", text, MAX_DESCRIPTION) if text.strip() else ""
