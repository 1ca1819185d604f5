"""Schema versions: a new store gets the current schema at once; a store of schema 1
(tests/data/store-v1, made by the schema-1 code) or 2 is brought to it by the steps,
keeping its rows and audit chain, with the built-in roles a new store has; steps are
idempotent; a failing step names itself and leaves the store as it was, never reported
as damaged."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import peewee
import pytest
from sqlcipher3 import dbapi2 as sqlcipher

import models
from app import store
from app.errors import SchemaMigrationError, StoreDamagedError, StoreFullError
from models import schema
from models.schema import SCHEMA_VERSION, Step
from tests.helpers.cli import cli_env

FIXTURE = Path(__file__).parent / "data" / "store-v1"
FIXTURE_PASSWORD = "certdesk v1 fixture"  # see tests/data/store-v1/README.md
BOB_PASSWORD = "bob v1 fixture"  # bob is a Signer there
PASSWORD = "correct horse battery"


# -- helpers ----------------------------------------------------------------------------


def schema_of(db: peewee.Database) -> dict[str, tuple[frozenset, frozenset]]:
    """Each table's columns (name, type, null, primary key) and indexes (name, columns,
    unique), as the database reports them: what a new and an upgraded store must share.
    Column defaults are left out: a column added to old rows keeps its DEFAULT there."""
    return {
        table: (
            frozenset(
                (c.name, c.data_type.upper(), c.null, c.primary_key) for c in db.get_columns(table)
            ),
            frozenset((i.name, tuple(i.columns), bool(i.unique)) for i in db.get_indexes(table)),
        )
        for table in db.get_tables()
    }


def _column_of(expression) -> str:
    """A declared index's column: a field, or a field with its collation (a NodeList
    whose first node is the field), which SQLite reports by the column's name."""
    if isinstance(expression, peewee.NodeList):
        expression = expression.nodes[0]
    return expression.column_name


def declared_schema() -> dict[str, tuple[frozenset, frozenset]]:
    """Each model's column names and its declared indexes."""
    declared = {}
    for model in models.ALL_MODELS:
        indexes = frozenset(
            (index._name, tuple(_column_of(f) for f in index._expressions), bool(index._unique))
            for index in model._meta.fields_to_index()
        )
        columns = frozenset(f.column_name for f in model._meta.sorted_fields)
        declared[model._meta.table_name] = (columns, indexes)
    return declared


def roles_of(db: peewee.Database) -> dict[str, tuple[str, bool, frozenset[str]]]:
    """Each role's description, built-in flag and permissions, as stored."""
    permissions: dict[int, set[str]] = {}
    for role_id, permission in db.execute_sql("SELECT role_id, permission FROM role_permission"):
        permissions.setdefault(role_id, set()).add(permission)
    return {
        name: (description, bool(builtin), frozenset(permissions.get(role_id, ())))
        for role_id, name, description, builtin in db.execute_sql(
            "SELECT id, name, description, builtin FROM role"
        )
    }


BUILTIN = {
    name: (description, True, frozenset(permissions))
    for name, (description, permissions) in models.permissions.BUILTIN_ROLES.items()
}


def stamped_versions(db: peewee.Database) -> list[int]:
    return [v for (v,) in db.execute_sql("SELECT version FROM schema_version")]


def new_store(folder: Path) -> store.Store:
    opened, _ = store.create_store(folder, "admin", PASSWORD, lambda _store, _keys: None)
    return opened


def v1_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "v1"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("README.md"))
    os.chmod(folder, 0o700)
    for path in folder.iterdir():  # as a store's files are; git keeps no such modes
        os.chmod(path, 0o600)
    return folder


def open_v1(folder: Path) -> store.Store:
    return store.unlock_store(folder, "admin", FIXTURE_PASSWORD)[0]


def open_as_schema_2(folder: Path, monkeypatch) -> dict[str, tuple[str, bool, frozenset[str]]]:
    """Open the store as the schema-2 code did (only the steps up to 2 run); its roles."""
    with monkeypatch.context() as patched:
        patched.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        patched.setattr(schema, "SCHEMA_VERSION", 2)
        patched.setattr(models, "SCHEMA_VERSION", 2)
        opened = open_v1(folder)
        try:
            assert stamped_versions(opened.db) == [2]
            return roles_of(opened.db)
        finally:
            opened.close()


def certdesk(
    tmp_path: Path, folder: Path, *args: str, user: str = "admin"
) -> subprocess.CompletedProcess:
    password = BOB_PASSWORD if user == "bob" else FIXTURE_PASSWORD
    env = cli_env(tmp_path, folder, CERTDESK_USER=user, CERTDESK_PASSWORD=password)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def failing_step(version: int = SCHEMA_VERSION):
    """A step that alters the schema, then fails as a real mistake would: adding a
    column that is already there (what a naive `add_column` does on a new store)."""

    def run() -> None:
        schema.add_index_if_missing("certificate", ("subject",))
        schema._migrator().add_column("audit_event", "time", peewee.IntegerField(null=True)).run()

    return Step(version, "add the time column again", run)


# -- the steps' list --------------------------------------------------------------------


def test_steps_are_consecutive_and_end_at_schema_version():
    versions = [step.version for step in schema.MIGRATIONS]
    assert versions == list(range(2, SCHEMA_VERSION + 1))
    assert all(step.description for step in schema.MIGRATIONS)


# -- (1) a new store --------------------------------------------------------------------


def test_new_store_has_the_declared_schema_and_runs_no_step(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(
        schema, "MIGRATIONS", [Step(v, "", lambda v=v: ran.append(v)) for v in (2, 3)]
    )
    opened = new_store(tmp_path / "new")
    try:
        found = schema_of(opened.db)
        assert stamped_versions(opened.db) == [SCHEMA_VERSION]
        assert roles_of(opened.db) == BUILTIN
    finally:
        opened.close()
    assert ran == []
    assert not list((tmp_path / "new").glob("certdesk.db.schema-*"))
    declared = declared_schema()
    assert set(found) == set(declared)
    for table, (columns, indexes) in declared.items():
        assert {c[0] for c in found[table][0]} == columns, table
        assert found[table][1] == indexes, table
    assert ("audit_event_user_action", ("user", "action"), False) in found["audit_event"][1]


# -- (2) the schema-1 fixture -----------------------------------------------------------


def test_fixture_is_a_schema_1_store():
    assert (FIXTURE / "certdesk.db").stat().st_size > store.PAGE_BYTES
    assert not (FIXTURE / "certdesk.db-wal").exists()
    assert json.loads((FIXTURE / "keyslots.json").read_text())["slots"].keys() == {"admin", "bob"}


def test_v1_store_reaches_the_schema_of_a_new_store(tmp_path):
    folder = v1_copy(tmp_path)
    upgraded = open_v1(folder)
    key_hex = upgraded.db._key_hex
    try:
        upgraded_schema = schema_of(upgraded.db)
        assert stamped_versions(upgraded.db) == [SCHEMA_VERSION]
        aliases = {c.alias for c in models.Certificate.select()}
        assert aliases == {"Release Signing", "Build 2030"}
        assert models.CertificateGroup.get().name == "Production"
        assert models.User.select().count() == 2
        assert models.AuditEvent.select().count() == 12
        assert roles_of(upgraded.db) == BUILTIN
    finally:
        upgraded.close()
    fresh = new_store(tmp_path / "new")
    try:
        assert upgraded_schema == schema_of(fresh.db)
        assert roles_of(fresh.db) == BUILTIN
    finally:
        fresh.close()
    # The copy from before the migration is the schema-1 database as it was, under the
    # store's key and readable by its owner only.
    copy = folder / "certdesk.db.schema-1.bak"
    assert copy.stat().st_mode & 0o777 == 0o600
    connection = sqlcipher.connect(str(copy))
    try:
        connection.execute(f"PRAGMA key = \"x'{key_hex}'\"")
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        aliases = {a for (a,) in connection.execute("SELECT alias FROM certificate")}
        assert aliases == {"Release Signing", "Build 2030"}
    finally:
        connection.close()


def test_v1_store_passes_check_and_keeps_its_audit_chain(tmp_path):
    folder = v1_copy(tmp_path)
    checked = certdesk(tmp_path, folder, "check")
    assert checked.returncode == 0, checked.stderr
    assert "The store is intact" in checked.stdout
    audit = certdesk(tmp_path, folder, "audit", "--verify", "--json")
    assert audit.returncode == 0, audit.stderr
    # The fixture's 12, and at the admin's first sign-in: their slot given key pairs,
    # the custodian made and trusted, the fixture's two keys moved to data keys.
    assert "audit chain of 16 event(s) is intact" in audit.stderr
    events = json.loads(audit.stdout)
    assert events[0]["action"] == "store.create"
    assert [(e["action"], e["user"], e["details"]) for e in events[12:]] == [
        ("user.keys", "admin", {}),
        ("custodian.create", "admin", {}),
        ("custodian.trust", "admin", {}),
        ("key.move", "admin", {"keys": 2}),
    ]
    assert (folder / "certdesk.db.before-data-keys.bak").exists()
    listed = certdesk(tmp_path, folder, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {row["alias"] for row in json.loads(listed.stdout)} == {"Release Signing", "Build 2030"}
    assert (folder / "certdesk.db.schema-1.bak").exists()


def test_a_schema_2_stores_signer_is_given_the_download_and_the_new_description(
    tmp_path, monkeypatch
):
    folder = v1_copy(tmp_path)
    before = open_as_schema_2(folder, monkeypatch)
    assert before["Signer"] == (
        "Sees certificates and signs with those a policy allows.",
        True,
        frozenset({"certificates.view", "sign"}),
    )
    opened = open_v1(folder)
    try:
        assert stamped_versions(opened.db) == [SCHEMA_VERSION]
        after = roles_of(opened.db)
    finally:
        opened.close()
    assert after == BUILTIN
    assert after["Signer"] == (
        "Sees certificates, downloads them, and signs with those a policy allows.",
        True,
        frozenset({"certificates.view", "certificates.download", "sign"}),
    )
    assert {name: after[name] for name in after if name != "Signer"} == {
        name: before[name] for name in before if name != "Signer"
    }
    assert (folder / "certdesk.db.schema-2.bak").exists()


def test_a_signer_of_an_upgraded_store_exports_through_the_cli(tmp_path):
    folder = v1_copy(tmp_path)
    out = tmp_path / "release.cer"
    exported = certdesk(
        tmp_path, folder, "export", "Release Signing", "--out", str(out), user="bob"
    )
    assert exported.returncode == 0, exported.stderr
    assert out.read_bytes().startswith(b"0\x82")  # DER
    refused = certdesk(tmp_path, folder, "disable", "Release Signing", user="bob")
    assert refused.returncode == 1
    assert "lacks the permission certificates.enable_disable (role Signer)" in refused.stderr


def test_upgraded_store_opens_again_without_a_step_or_a_copy(tmp_path, monkeypatch):
    folder = v1_copy(tmp_path)
    open_v1(folder).close()
    (folder / "certdesk.db.schema-1.bak").unlink()
    monkeypatch.setattr(schema, "MIGRATIONS", [failing_step(2)])
    open_v1(folder).close()
    assert not list(folder.glob("certdesk.db.schema-*"))


# -- (3) idempotent steps ---------------------------------------------------------------


def test_running_every_step_twice_changes_nothing(tmp_path):
    folder = v1_copy(tmp_path)
    opened = open_v1(folder)
    try:
        once = schema_of(opened.db)
        for step in schema.MIGRATIONS:
            with opened.db.atomic():
                step.run()
        assert schema.run_steps(schema.MIGRATIONS, 1) == SCHEMA_VERSION
        assert schema_of(opened.db) == once
        assert roles_of(opened.db) == BUILTIN
        assert stamped_versions(opened.db) == [SCHEMA_VERSION]
    finally:
        opened.close()


def test_add_column_if_missing_adds_once_and_fills_old_rows(tmp_path):
    opened = new_store(tmp_path / "new")
    try:
        count = models.AuditEvent.select().count()
        models.AuditEvent.create(user="u", action="a", prev_hash="p", hash="h")
        flag = peewee.BooleanField(default=False, index=True)
        note = peewee.TextField(null=True)
        assert schema.add_column_if_missing(models.AuditEvent, flag, "reviewed")
        assert schema.add_column_if_missing("audit_event", note, "note")
        assert not schema.add_column_if_missing(models.AuditEvent, flag, "reviewed")
        assert not schema.add_column_if_missing(models.AuditEvent, models.AuditEvent.user)
        columns = {c.name: c for c in opened.db.get_columns("audit_event")}
        assert not columns["reviewed"].null and columns["note"].null
        rows = opened.db.execute_sql("SELECT reviewed, note FROM audit_event").fetchall()
        assert rows == [(0, None)] * (count + 1)
        indexes = {i.name: i.columns for i in opened.db.get_indexes("audit_event")}
        assert indexes["audit_event_reviewed"] == ["reviewed"]
        with pytest.raises(ValueError, match="needs a default"):
            schema.add_column_if_missing(models.AuditEvent, peewee.IntegerField(), "n")
    finally:
        opened.close()


def test_add_index_if_missing_is_idempotent_and_refuses_a_clash(tmp_path):
    opened = new_store(tmp_path / "new")
    try:
        assert not schema.add_index_if_missing("audit_event", ("user", "action"))
        assert schema.add_index_if_missing(models.Certificate, (models.Certificate.subject,))
        assert not schema.add_index_if_missing("certificate", ("subject",))
        with pytest.raises(ValueError, match="not as this step makes it"):
            schema.add_index_if_missing("certificate", ("issuer",), name="certificate_subject")
        with pytest.raises(ValueError, match="not as this step makes it"):
            schema.add_index_if_missing("certificate", ("subject",), unique=True)
    finally:
        opened.close()


# -- (4) a failing step -----------------------------------------------------------------


def test_a_failing_step_names_itself_and_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    folder = v1_copy(tmp_path)
    steps = [*schema.MIGRATIONS[:-1], failing_step()]
    monkeypatch.setattr(schema, "MIGRATIONS", steps)
    with pytest.raises(SchemaMigrationError) as caught:
        open_v1(folder)
    message = str(caught.value)
    assert not isinstance(caught.value, StoreDamagedError)
    assert f"schema step {SCHEMA_VERSION} (add the time column again) failed" in message
    assert "duplicate column name: time" in message
    assert f"stays at schema {SCHEMA_VERSION - 1}" in message
    assert "certdesk.db.schema-1.bak" in message
    assert "\n" not in message
    # Rolled back whole: the index the step made first is gone, the version unchanged.
    monkeypatch.setattr(schema, "MIGRATIONS", [])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION - 1)
    monkeypatch.setattr(models, "SCHEMA_VERSION", SCHEMA_VERSION - 1)
    opened = open_v1(folder)
    try:
        assert stamped_versions(opened.db) == [SCHEMA_VERSION - 1]
        names = {i.name for i in opened.db.get_indexes("certificate")}
        assert "certificate_subject" not in names
    finally:
        opened.close()


def test_the_cli_prints_a_failing_step_as_one_line(tmp_path, monkeypatch, capsys):
    from app import cli

    folder = v1_copy(tmp_path)
    monkeypatch.setattr(schema, "MIGRATIONS", [failing_step(2)])
    monkeypatch.setenv("CERTDESK_STORE", str(folder))
    monkeypatch.setenv("CERTDESK_USER", "admin")
    monkeypatch.setenv("CERTDESK_PASSWORD", FIXTURE_PASSWORD)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("certdesk: ")
    assert "schema step 2 (add the time column again) failed" in err
    assert "damaged" not in err


def test_a_step_stopped_by_a_full_disk_says_so_and_names_the_step(tmp_path, monkeypatch):
    def full() -> None:
        raise peewee.OperationalError("database or disk is full")

    folder = v1_copy(tmp_path)
    monkeypatch.setattr(schema, "MIGRATIONS", [Step(2, "fill the disk", full)])
    with pytest.raises(StoreFullError, match=r"schema step 2 \(fill the disk\) did not finish"):
        open_v1(folder)


def test_a_step_that_is_a_bug_is_not_damage(tmp_path, monkeypatch):
    def bug() -> None:
        raise KeyError("oops")

    folder = v1_copy(tmp_path)
    monkeypatch.setattr(schema, "MIGRATIONS", [Step(2, "look up a thing", bug)])
    with pytest.raises(SchemaMigrationError, match=r"schema step 2 \(look up a thing\) failed"):
        open_v1(folder)
