"""Schema version and ordered migration steps.

A new store gets the current schema at once: the tables and indexes the models declare,
the built-in roles, and SCHEMA_VERSION. The steps in MIGRATIONS only bring an existing
store of a lower version up to it, one version at a time. Each step runs in one
transaction (stamping its version in the same one) and uses the idempotent helpers
below, so that a step which ran before (or half-way, on a database without
transactional DDL) can run again. A store written by a newer Certdesk is refused.

To change the schema: change the models (a new store gets the change from them), add
`Step(N, "what it does", function)` to MIGRATIONS doing the same to an existing store
with `add_column_if_missing` / `add_index_if_missing` (by table and column names, as the
schema was at N, not by today's models), and set SCHEMA_VERSION = N.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import peewee
from playhouse.migrate import SchemaMigrator, make_index_name

from models.base import BaseModel, database
from models.permissions import BUILTIN_ROLES

SCHEMA_VERSION = 7


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()


def schema_version() -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def _stamp(version: int) -> None:
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=version)


# -- idempotent helpers for the steps -------------------------------------------------

Table = str | type[peewee.Model]


def _table_name(table: Table) -> str:
    return table if isinstance(table, str) else table._meta.table_name


def _migrator() -> SchemaMigrator:
    # SqliteMigrator here (SQLCipher is an SqliteDatabase); PostgresqlMigrator there.
    return SchemaMigrator.from_database(database)


def column_names(table: Table) -> list[str]:
    return [column.name for column in database.get_columns(_table_name(table))]


def add_column_if_missing(table: Table, field: peewee.Field, column_name: str = "") -> bool:
    """Add the field's column to the table unless a column of that name is there; True if
    added. A NOT NULL field needs a default, which the rows already there get (as the
    column's DEFAULT: one ALTER TABLE, no table rebuild). The field's index, if it
    declares one, is added too."""
    name = _table_name(table)
    column = column_name or field.column_name
    if not column:
        raise ValueError(f"{name}: give the column name of an unbound field")
    if column in column_names(name):
        return False
    field = field.clone()
    index, unique = field.index, field.unique
    field.index = field.unique = False  # added below, by name, if missing
    if not field.null:
        default = field.default() if callable(field.default) else field.default
        if default is None:
            raise ValueError(f"{name}.{column}: a NOT NULL column needs a default for old rows")
        literal = peewee.ValueLiterals(
            peewee.NodeList((peewee.SQL("DEFAULT"), peewee.Value(field.db_value(default))))
        )
        field.constraints = [*(field.constraints or ()), literal]
    _migrator().alter_add_column(name, column, field, allow_not_null=True).run()
    if index or unique:
        add_index_if_missing(name, [column], unique=unique)
    return True


def add_index_if_missing(
    table: Table,
    columns: Sequence[str | peewee.Field],
    unique: bool = False,
    name: str = "",
) -> bool:
    """Create the index unless one of its name is there; True if created. The name
    defaults to the one peewee gives a declared index (table_col1_col2), so that a
    store upgraded by a step and a new store made from the models have the same names.
    An index of that name on other columns is an error, not silently kept."""
    table_name = _table_name(table)
    columns = [c.column_name if isinstance(c, peewee.Field) else c for c in columns]
    name = name or make_index_name(table_name, columns)
    for index in database.get_indexes(table_name):
        if index.name == name:
            if list(index.columns) != columns or bool(index.unique) != unique:
                raise ValueError(
                    f"index {name} exists on {table_name} ({', '.join(index.columns)}"
                    f"{', unique' if index.unique else ''}), not as this step makes it"
                )
            return False
    _migrator().add_index(table_name, columns, unique, name=name).run()
    return True


# -- the steps ------------------------------------------------------------------------


def _v2_audit_user_action_index() -> None:
    # The Audit Log page filters by user and by user and action (newest first, on the
    # time index of schema 1); certificate.not_after ("expiring", sorting) and
    # audit_event.time are indexed since schema 1.
    add_index_if_missing("audit_event", ("user", "action"))


def _v3_signer_downloads() -> None:
    # Certificates are public: the built-in Signer downloads them. No release of schema
    # 1 or 2 can edit a role, so the built-in Signer is still as it was seeded and is
    # given the permission and its new description as a new store seeds them. The names
    # are those of schema 3, not today's constants.
    role = peewee.Table("role", ("id", "name", "description", "builtin")).bind(database)
    grant = peewee.Table("role_permission", ("id", "role_id", "permission")).bind(database)
    signer = role.select(role.id).where((role.name == "Signer") & role.builtin).scalar()
    if signer is None:
        return
    role.update(
        description="Sees certificates, downloads them, and signs with those a policy allows."
    ).where(role.id == signer).execute()
    held = grant.select().where(
        (grant.role_id == signer) & (grant.permission == "certificates.download")
    )
    if not held.exists():
        grant.insert(role_id=signer, permission="certificates.download").execute()


def _v4_certificate_name_order_index() -> None:
    # The table's order (statements.ORDERS["name"]). Collated, which the migrator's
    # add_index cannot say; IF NOT EXISTS keeps the step idempotent.
    database.execute_sql(
        'CREATE INDEX IF NOT EXISTS "certificate_alias_nocase" '
        'ON "certificate" ("alias" COLLATE NOCASE, "id")'
    )


def _v5_user_public_keys() -> None:
    # Filled in at each user's next sign-in, when their key slot gets key pairs.
    add_column_if_missing("user", peewee.BlobField(null=True), "public_keys")


# The tables of schema 6, as peewee made them from that schema's models.
_V6_TABLES = (
    'CREATE TABLE IF NOT EXISTS "custodian" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"public_keys" BLOB NOT NULL, "awaiting" TEXT NOT NULL, "awaiting_signature" BLOB, '
    '"audit_from" INTEGER NOT NULL, "audit_from_signature" BLOB)',
    'CREATE TABLE IF NOT EXISTS "custodian_wrap" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"user_id" INTEGER NOT NULL, "wrapped" BLOB NOT NULL, FOREIGN KEY ("user_id") '
    'REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "custodian_wrap_user_id" ON "custodian_wrap" ("user_id")',
    'CREATE TABLE IF NOT EXISTS "key_grant" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"private_key_id" INTEGER NOT NULL, "user_id" INTEGER NOT NULL, "wrapped" BLOB NOT NULL, '
    'FOREIGN KEY ("private_key_id") REFERENCES "private_key" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX IF NOT EXISTS "key_grant_user_id" ON "key_grant" ("user_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "key_grant_private_key_id_user_id" '
    'ON "key_grant" ("private_key_id", "user_id")',
)


def _v6_key_custody() -> None:
    # The custodian is made, users certified and keys moved to data keys at the next
    # sign-in of an Administrator (app.services.custody), which needs their keys.
    add_column_if_missing("user", peewee.BlobField(null=True), "certified")
    add_column_if_missing("user", peewee.BlobField(null=True), "record_signature")
    add_column_if_missing("private_key", peewee.BlobField(null=True), "custodian_wrap")
    add_column_if_missing("audit_event", peewee.BlobField(null=True), "signature")
    for statement in _V6_TABLES:
        database.execute_sql(statement)
    add_index_if_missing("certificate", ("owner_id", "private_key_id"))


_V7_ATTESTATIONS = (
    'CREATE TABLE IF NOT EXISTS "attestation" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"signer_id" INTEGER NOT NULL, "items" TEXT NOT NULL, "signature" BLOB NOT NULL, '
    '"revokes" INTEGER NOT NULL, '
    'FOREIGN KEY ("signer_id") REFERENCES "user" ("id") ON DELETE CASCADE)',
    'CREATE INDEX IF NOT EXISTS "attestation_signer_id" ON "attestation" ("signer_id")',
)
# The rows that decide who may sign, each naming the attestation that covers it.
_V7_ATTESTED = (
    ("policy", "attestation"),
    ("policy_certificate", "attestation"),
    ("policy_certificate_group", "attestation"),
    ("policy_user", "attestation"),
    ("policy_user_group", "attestation"),
    ("certificate_group_member", "attestation"),
    ("user_group_member", "attestation"),
    ("request_group", "attestation"),
    ("certificate", "owner_attestation"),
    ("request", "owner_attestation"),
    ("request", "renews_attestation"),
)


def _v7_attestations() -> None:
    # An older store's rows are attested when its custodian is made (app.services.custody).
    for statement in _V7_ATTESTATIONS:
        database.execute_sql(statement)
    for table, column in _V7_ATTESTED:
        add_column_if_missing(table, peewee.IntegerField(null=True), column)
    add_column_if_missing("custodian", peewee.TextField(default=""), "roster")
    add_column_if_missing("private_key", peewee.BlobField(null=True), "pin_public")
    add_column_if_missing("private_key", peewee.BlobField(null=True), "pin_salt")
    add_column_if_missing("key_grant", peewee.BooleanField(default=False), "pin_sealed")
    add_column_if_missing("custodian", peewee.IntegerField(default=0), "roster_serial")
    add_column_if_missing("custodian", peewee.BlobField(null=True), "roster_signature")
    add_column_if_missing("user", peewee.BooleanField(default=False), "deleted")


class Step(NamedTuple):
    version: int  # the schema version the store has once the step is done
    description: str  # named in the error if the step fails
    run: Callable[[], None]


# Schema 1 is the first released schema: no step makes it (a store has it or newer).
MIGRATIONS: list[Step] = [
    Step(2, "index audit events by user and action", _v2_audit_user_action_index),
    Step(3, "let the built-in Signer download certificates", _v3_signer_downloads),
    Step(4, "index certificates in the table's name order", _v4_certificate_name_order_index),
    Step(5, "keep each user's public keys", _v5_user_public_keys),
    Step(6, "keep the custodian and the wraps of each key", _v6_key_custody),
    Step(7, "sign who may sign, the roster, PINs; keep deleted users", _v7_attestations),
]


class NewerSchema(Exception):
    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


class StepFailed(Exception):
    """A migration step raised: nothing of it was kept; the store stays at `reached`."""

    def __init__(self, step: Step, reached: int, cause: BaseException):
        detail = " ".join(str(cause).split()) or type(cause).__name__
        super().__init__(f"schema step {step.version} ({step.description}) failed: {detail}")
        self.step = step
        self.reached = reached
        self.cause = cause


def create_current_schema() -> None:
    """A new, empty database: the models' tables and indexes, the built-in roles, and
    SCHEMA_VERSION, in one transaction; no migration step runs."""
    from models import ALL_MODELS
    from models.users import Role, RolePermission

    with database.atomic():
        database.create_tables(ALL_MODELS)
        for name, (description, permissions) in BUILTIN_ROLES.items():
            role = Role.create(name=name, description=description, builtin=True)
            for permission in permissions:
                RolePermission.create(role=role, permission=permission)
        _stamp(SCHEMA_VERSION)


def _write_transaction():
    # On SQLite, take the write lock first: two processes opening the same old store
    # queue here, and the second finds the step done instead of failing half-way.
    if isinstance(database.obj, peewee.SqliteDatabase):
        return database.atomic("IMMEDIATE")
    return database.atomic()


def run_steps(steps: Iterable[Step], found: int) -> int:
    """Run the steps above version `found`, each in its own transaction; the version
    reached. A step another process finished meanwhile is skipped."""
    reached = found
    for step in steps:
        if step.version <= reached:
            continue
        try:
            with _write_transaction():
                now = schema_version()
                if now > SCHEMA_VERSION:  # a newer Certdesk upgraded it meanwhile
                    raise NewerSchema(now)
                if now < step.version:
                    step.run()
                    _stamp(step.version)
        except NewerSchema:
            raise
        except Exception as exc:
            raise StepFailed(step, reached, exc) from exc
        reached = step.version
    return reached


def migrate() -> int:
    """Bring the bound database to SCHEMA_VERSION; return the version it had (0: new)."""
    found = schema_version()
    if found > SCHEMA_VERSION:
        raise NewerSchema(found)
    if found == 0:
        create_current_schema()
    else:
        run_steps(MIGRATIONS, found)
    return found
