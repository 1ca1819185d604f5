"""User groups' members: who a policy naming a user group reaches."""

from collections.abc import Sequence

from app.errors import NotFoundError, ValidationError
from app.services import attestations, journal, key_grants
from app.services.operations import operation
from app.services.session import Session, write_transaction
from app.services.users import validate_user_group_name
from models import User, UserGroup, UserGroupMember, statements
from models.permissions import USERS_MANAGE


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
