"""User groups and their members: who a policy naming a user group reaches."""

from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import NotFoundError, ValidationError
from app.services import attestations, journal, key_grants, users
from app.services.names import check_name
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.services.users import UserRow, validate_user_group_name
from models import Policy, PolicyUserGroup, User, UserGroup, UserGroupMember, statements
from models.permissions import CERTIFICATES_VIEW, USERS_MANAGE

MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class UserGroupRow:
    name: str
    description: str
    members: tuple[str, ...]
    policies: tuple[str, ...]  # those that name the group as who


@operation("user_group.list", CERTIFICATES_VIEW, reads=True)
def list_user_groups(session: Session) -> list[UserGroupRow]:
    members: dict[int, list[str]] = {}
    named = (
        UserGroupMember.select(UserGroupMember.user_group, User.name)
        .join(User)
        .where(~User.deleted)
        .tuples()
    )
    for group_id, user in named:
        members.setdefault(group_id, []).append(user)
    policies: dict[int, list[str]] = {}
    for group_id, policy in (
        PolicyUserGroup.select(PolicyUserGroup.user_group, Policy.name).join(Policy).tuples()
    ):
        policies.setdefault(group_id, []).append(policy)
    rows = [
        UserGroupRow(
            group.name,
            group.description,
            tuple(sorted(members.get(group.id, []), key=str.casefold)),
            tuple(sorted(policies.get(group.id, []), key=str.casefold)),
        )
        for group in UserGroup.select()
    ]
    return sorted(rows, key=lambda r: r.name.casefold())


@operation("user_group.create", USERS_MANAGE, target="name")
def create_user_group(session: Session, name: str, description: str = "") -> UserGroupRow:
    name = validate_user_group_name(name)
    description = _description(description)
    with write_transaction(session):
        if UserGroup.get_or_none(UserGroup.name == name) is not None:
            raise ValidationError("name", f"a user group named {name!r} exists already")
        UserGroup.create(name=name, description=description)
        journal.record(session.user_name, "user_group.create", name)
    return UserGroupRow(name, description, (), ())


@operation("user_group.edit", USERS_MANAGE, target="name")
def edit_user_group(
    session: Session, name: str, new_name: str | None = None, description: str | None = None
) -> bool:
    """Rename the user group or set its description; False when nothing changed. The
    policies and memberships name the group by its row, so they follow a rename."""
    new_name = None if new_name is None else validate_user_group_name(new_name)
    description = None if description is None else _description(description)
    with write_transaction(session):
        group = _group(name)
        changes = {}
        if new_name is not None and new_name != group.name:
            taken = UserGroup.get_or_none(UserGroup.name == new_name)
            if taken is not None and taken.id != group.id:
                raise ValidationError("name", f"a user group named {new_name!r} exists already")
            changes["name"] = new_name
        if description is not None and description != group.description:
            changes["description"] = description
        if not changes:
            return False
        UserGroup.update(**changes).where(UserGroup.id == group.id).execute()
        details = {"renamed": changes["name"]} if "name" in changes else {}
        journal.record(session.user_name, "user_group.edit", group.name, **details)
    return True


@operation("user_group.delete", USERS_MANAGE, target="name")
def delete_user_group(session: Session, name: str) -> None:
    """Delete the user group: its members stay users, the policies naming it stop
    reaching them, and the keys only those policies gave them go. Its rows are revoked
    first, so that none put back in the database hands a key on."""
    with write_transaction(session):
        group = _group(name)
        held = list(UserGroupMember.select().where(UserGroupMember.user_group == group.id))
        links = [
            r.id for r in PolicyUserGroup.select().where(PolicyUserGroup.user_group == group.id)
        ]
        attestations.revoke_rows(session, "ugm", [m.id for m in held])
        attestations.revoke_rows(session, "pug", links)
        group.delete_instance(recursive=True)
        key_grants.sync(session, statements.GrantScope(users=[m.user_id for m in held]))
        journal.record(
            session.user_name, "user_group.delete", name, members=len(held), policies=len(links)
        )


@operation("user_group.list_members", CERTIFICATES_VIEW, reads=True)
def list_members(session: Session, name: str) -> list[UserRow]:
    """The users in the group, as `users.list_users` describes them."""
    group = _group(name)
    return [row for row in users.list_users(session) if group.name in row.user_groups]


def _group(name: str) -> UserGroup:
    group = UserGroup.get_or_none(UserGroup.name == name)
    if group is None:
        raise NotFoundError(f"No user group {name!r} in this store.")
    return group


def _description(text: str) -> str:
    return check_name("description", text, MAX_DESCRIPTION) if text.strip() else ""


@operation("user_group.members", USERS_MANAGE, target="name")
def change_members(
    session: Session, name: str, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> tuple[int, int]:
    """Put the users `add` in the user group `name` (made if missing) and take the users
    `remove` out; the wraps the group's policies give follow, in the same transaction.
    Rows taken out are revoked first, so that none put back hands a key on. Returns how
    many were put in and taken out (members already in, or not in, count for nothing)."""
    name = validate_user_group_name(name)
    if not add and not remove:
        raise ValidationError("members", "name users to add or to remove")
    if set(add) & set(remove):
        both = sorted(set(add) & set(remove))[0]
        raise ValidationError("members", f"{both!r} is both added and removed")
    with write_transaction(session):
        adding, removing = _users(add), _users(remove)
        group = UserGroup.get_or_none(UserGroup.name == name)
        if group is None and not adding:
            raise NotFoundError(f"No user group {name!r} in this store.")
        if group is None:
            group = UserGroup.create(name=name)
            journal.record(session.user_name, "user_group.create", name)
        members = UserGroupMember.select().where(UserGroupMember.user_group == group.id)
        held = {row.user_id: row.id for row in members}
        gone = [held[user.id] for user in removing if user.id in held]
        attestations.revoke_rows(session, "ugm", gone)
        UserGroupMember.delete().where(UserGroupMember.id.in_(gone)).execute()
        new = [
            UserGroupMember.create(user_group=group, user=user).id
            for user in adding
            if user.id not in held
        ]
        attestations.attest_rows(session, "ugm", new)
        changed = [user.id for user in adding + removing]
        key_grants.sync(session, statements.GrantScope(users=changed))
        journal.record(
            session.user_name, "user_group.members", name, added=len(new), removed=len(gone)
        )
    return len(new), len(gone)


def _users(names: Sequence[str]) -> list[User]:
    rows = []
    for name in dict.fromkeys(names):
        row = User.get_or_none((User.name == name) & ~User.deleted)
        if row is None:
            raise NotFoundError(f"No user {name!r} in this store.")
        rows.append(row)
    return rows
