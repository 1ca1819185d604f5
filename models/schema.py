"""Schema version and ordered migrations.

Each step runs in one transaction and checks before it alters, so that a step
interrupted half-way can run again. A store written by a newer Certdesk is refused.
"""

from collections.abc import Callable

import peewee

from models.base import BaseModel, database
from models.permissions import BUILTIN_ROLES

SCHEMA_VERSION = 1


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()


def schema_version() -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def _v1_initial() -> None:
    from models import ALL_MODELS
    from models.users import Role, RolePermission

    database.create_tables(ALL_MODELS, safe=True)
    for name, (description, permissions) in BUILTIN_ROLES.items():
        role, _ = Role.get_or_create(
            name=name, defaults={"description": description, "builtin": True}
        )
        for permission in permissions:
            RolePermission.get_or_create(role=role, permission=permission)


MIGRATIONS: list[tuple[int, Callable[[], None]]] = [(1, _v1_initial)]


class NewerSchema(Exception):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


def migrate() -> int:
    """Bring the bound database to SCHEMA_VERSION; return the version it had."""
    found = schema_version()
    if found > SCHEMA_VERSION:
        raise NewerSchema(found)
    for version, step in MIGRATIONS:
        if version <= found:
            continue
        with database.atomic():
            step()
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=version)
    return found
