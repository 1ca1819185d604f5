"""Certificate groups: creating, editing and deleting them, and who is in which."""

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from app.errors import NotFoundError, PermissionDenied, StoreExistsError, ValidationError
from app.services import attestations, certificates, journal, key_grants
from app.services.certificates import CertificateRow
from app.services.names import check_name
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.services.targets import BulkResult, Ref, resolve
from models import CertificateGroup, CertificateGroupMember, PolicyCertificateGroup, statements
from models.permissions import (
    ADMINISTRATOR,
    CERTIFICATES_VIEW,
    GROUPS_ADD_CERTIFICATES,
    GROUPS_MANAGE,
    GROUPS_REMOVE_CERTIFICATES,
)

MAX_GROUP_NAME = 100
MAX_GROUP_DESCRIPTION = 1000


class GroupExistsError(StoreExistsError):
    pass


@dataclass(frozen=True)
class GroupRow:
    id: int
    name: str
    description: str
    members: int


@dataclass(frozen=True)
class GroupShare:
    """A group some chosen certificates are in, and how many of them it holds."""

    name: str
    holds: int


def validate_group_name(name: str) -> str:
    return check_name("group name", name, MAX_GROUP_NAME)


def validate_description(text: str) -> str:
    """One line of free text (the Groups page shows it in a column); may be empty."""
    if not text.strip():
        return ""
    return check_name("description", text, MAX_GROUP_DESCRIPTION)


@operation("group.list", CERTIFICATES_VIEW, reads=True)
def list_groups(session: Session) -> list[GroupRow]:
    members = peewee.fn.COUNT(CertificateGroupMember.id)
    query = (
        CertificateGroup.select(
            CertificateGroup.id, CertificateGroup.name, CertificateGroup.description, members
        )
        .join(CertificateGroupMember, peewee.JOIN.LEFT_OUTER)
        .group_by(CertificateGroup.id)
        .tuples()
    )
    rows = [GroupRow(*values) for values in query]
    return sorted(rows, key=lambda g: g.name.casefold())


@operation("group.of_certificates", CERTIFICATES_VIEW, reads=True)
def groups_of(session: Session, ids: Sequence[int]) -> list[GroupShare]:
    """The groups these certificates are in, each with how many of them it holds."""
    holds: dict[int, int] = {}
    for gid, _cid in statements.memberships(session.store.db, list(dict.fromkeys(ids))):
        holds[gid] = holds.get(gid, 0) + 1
    names = CertificateGroup.select(CertificateGroup.id, CertificateGroup.name).where(
        CertificateGroup.id.in_(list(holds))
    )
    shares = [GroupShare(g.name, holds[g.id]) for g in names]
    return sorted(shares, key=lambda s: s.name.casefold())


@operation("group.members", CERTIFICATES_VIEW, reads=True)
def list_members(session: Session, name: str) -> list[CertificateRow]:
    """The certificates in the group, by alias."""
    group = _get(name)
    ids = [
        m.certificate_id
        for m in CertificateGroupMember.select(CertificateGroupMember.certificate).where(
            CertificateGroupMember.group == group.id
        )
    ]
    rows = certificates.certificate_rows(session, ids)
    return sorted(rows, key=lambda r: r.alias.casefold())


@operation("group.create", GROUPS_MANAGE, target="name")
def create_group(session: Session, name: str, description: str = "") -> GroupRow:
    name = validate_group_name(name)
    description = validate_description(description)
    with write_transaction(session):
        _refuse_taken(name)
        group = CertificateGroup.create(name=name, description=description)
        journal.record(session.user_name, "group.create", name)
    return GroupRow(group.id, group.name, group.description, 0)


@operation("group.edit", GROUPS_MANAGE, target="name")
def edit_group(
    session: Session, name: str, new_name: str | None = None, description: str | None = None
) -> GroupRow:
    """Rename the group and/or set its description (None leaves either as it is), in
    one transaction; both are checked before anything is written."""
    new_name = None if new_name is None else validate_group_name(new_name)
    description = None if description is None else validate_description(description)
    with write_transaction(session):
        group = _get(name)
        old = group.name
        changed: dict[str, str] = {}
        if new_name is not None and new_name != group.name:
            _refuse_taken(new_name, but=group.id)
            changed["new_name"] = group.name = new_name
        if description is not None and description != group.description:
            group.description = description
            changed["description"] = "changed"
        if changed:
            group.save()
            journal.record(session.user_name, "group.edit", old, **changed)
        members = group.members.count()
    return GroupRow(group.id, group.name, group.description, members)


@operation("group.delete", GROUPS_MANAGE, target="name")
def delete_group(session: Session, name: str) -> int:
    """Delete the group (its certificates stay); returns how many members it had. As
    with removing certificates from groups, leaving any of them in no group at all needs
    the Administrator role."""
    with write_transaction(session):
        group = _get(name)
        members = group.members.count()
        stranded = statements.aliases_only_in_group(session.store.db, group.id)
        if stranded and session.role != ADMINISTRATOR:
            journal.record(session.user_name, "group.delete", name, "denied", stranded=stranded)
            shown = ", ".join(repr(a) for a in stranded[:3])
            more = f" and {len(stranded) - 3} more" if len(stranded) > 3 else ""
            raise PermissionDenied(
                f"{name!r} is the only group of {shown}{more}; deleting it needs the "
                "Administrator role."
            )
        scope = key_grants.reached(session, [], [group.id])
        for what, model in (("members", CertificateGroupMember), ("pcg", PolicyCertificateGroup)):
            rows = model.select(model.id).where(model.group == group.id)
            attestations.revoke_rows(session, what, [row.id for row in rows])
        group.delete_instance()
        key_grants.sync(session, scope)
        journal.record(session.user_name, "group.delete", name, members=members)
    return members


@operation(
    "group.add_certificates", GROUPS_ADD_CERTIFICATES, target=lambda a: ", ".join(a["group_names"])
)
def add_to_groups(session: Session, refs: Sequence[Ref], group_names: Sequence[str]) -> BulkResult:
    """Put every certificate named in every group named. A group that does not exist
    yet is created when the user may manage groups, and refused otherwise."""
    result = BulkResult()
    db = session.store.db
    with write_transaction(session):
        targets = resolve(db, refs, result)
        if not targets:  # nothing to add: create no group either
            return result
        groups = _groups(session, group_names, create=session.can(GROUPS_MANAGE), result=result)
        if not groups:
            return result
        had = set(statements.memberships(db, [t.id for t in targets]))
        rows = [(g.id, t.id) for t in targets for g in groups if (g.id, t.id) not in had]
        attestations.attest_rows(session, "members", statements.add_memberships(db, rows))
        key_grants.sync(session, key_grants.reached(session, sorted({cid for _, cid in rows})))
        names = ", ".join(g.name for g in groups)
        changed = {cid for _, cid in rows}
        journal.record_many(
            session.user_name,
            "group.add_certificates",
            [t.alias for t in targets if t.id in changed],
            groups=names,
        )
        for target in targets:
            message = f"added to {names}" if target.id in changed else f"already in {names}"
            result.add(target.alias, True, message)
        result.changed_ids = [t.id for t in targets if t.id in changed]
    return result


@operation(
    "group.remove_certificates",
    GROUPS_REMOVE_CERTIFICATES,
    target=lambda a: ", ".join(a["group_names"]),
)
def remove_from_groups(
    session: Session, refs: Sequence[Ref], group_names: Sequence[str]
) -> BulkResult:
    """Take every certificate named out of every group named. Leaving a certificate in no
    group at all needs the Administrator role: groups are how policies reach it."""
    result = BulkResult()
    db = session.store.db
    with write_transaction(session):
        groups = _groups(session, group_names, create=False, result=result)
        targets = resolve(db, refs, result)
        group_ids = {g.id for g in groups}
        if not group_ids:
            return result
        current: dict[int, set[int]] = {}
        for gid, cid in statements.memberships(db, [t.id for t in targets]):
            current.setdefault(cid, set()).add(gid)
        removing: list[tuple[int, set[int]]] = []
        refused: list[str] = []
        names = ", ".join(g.name for g in groups)
        for target in targets:
            mine = current.get(target.id, set())
            leaving = mine & group_ids
            if not leaving:
                result.add(target.alias, True, f"not in {names}")
            elif leaving == mine and session.role != ADMINISTRATOR:
                refused.append(target.alias)
                result.add(
                    target.alias,
                    False,
                    "removing its last group needs the Administrator role",
                )
            else:
                removing.append((target.id, leaving))
                result.add(target.alias, True, f"removed from {names}")
        leaving_by_group: dict[int, list[int]] = {}
        for cid, leaving in removing:
            for gid in leaving:
                leaving_by_group.setdefault(gid, []).append(cid)
        for gid, cids in leaving_by_group.items():
            ids = statements.membership_ids(db, gid, cids)
            attestations.revoke_rows(session, "members", ids)
            statements.remove_memberships(db, gid, cids)
        key_grants.sync(session, key_grants.reached(session, [cid for cid, _ in removing]))
        removed_ids = {cid for cid, _ in removing}
        journal.record_many(
            session.user_name,
            "group.remove_certificates",
            [t.alias for t in targets if t.id in removed_ids],
            groups=names,
        )
        journal.record_many(
            session.user_name, "group.remove_certificates", refused, "denied", groups=names
        )
        result.changed_ids = [t.id for t in targets if t.id in removed_ids]
    return result


def _groups(
    session: Session, names: Sequence[str], create: bool, result: BulkResult
) -> list[CertificateGroup]:
    found = []
    for raw in dict.fromkeys(names):
        try:
            name = validate_group_name(raw)
        except ValidationError as exc:
            result.add(raw, False, str(exc))
            continue
        group = find_group(name)
        if group is None and create:
            group = CertificateGroup.create(name=name)
            journal.record(session.user_name, "group.create", name)
            result.notes.append(f"created the certificate group {name!r}")
        if group is None:
            result.add(name, False, f"no certificate group named {name!r}")
        else:
            found.append(group)
    return found


def find_group(name: str) -> CertificateGroup | None:
    """By exact name, else ignoring case (group names are unique regardless of case)."""
    group = CertificateGroup.get_or_none(CertificateGroup.name == name)
    if group is None:
        group = (
            CertificateGroup.select()
            .where(peewee.fn.lower(CertificateGroup.name) == name.lower())
            .first()
        )
    return group


def _get(name: str) -> CertificateGroup:
    group = find_group(name)
    if group is None:
        raise NotFoundError(f"No certificate group named {name!r}.")
    return group


def _refuse_taken(name: str, but: int | None = None) -> None:
    """Names are unique regardless of case: the refusal names the group as it is stored
    ("Production"), not as typed ("PRODUCTION")."""
    query = CertificateGroup.select().where(peewee.fn.lower(CertificateGroup.name) == name.lower())
    if but is not None:
        query = query.where(CertificateGroup.id != but)
    taken = query.first()
    if taken is not None:
        raise GroupExistsError(f"A certificate group named {taken.name!r} already exists.")
