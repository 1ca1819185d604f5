"""The bulk operations behind the selection bar do one statement per chunk of
certificates, never one per certificate: the count of SQL statements they run is the
same for 4 certificates as for 40 (both under one chunk), apart from the audit events:
one per certificate, inserted by one prepared statement. Counted on the session's own
connection with SQLite's trace callback, which sees every statement sqlcipher3 runs,
each row of an executemany included."""

from contextlib import contextmanager

from app.services import certificate_groups, lifecycle, users
from tests.helpers.stores import PASSWORD, import_some

SMALL, LARGE = 4, 40
# The journal's one prepared statement, which the trace sees once per event it inserts.
AUDIT_INSERT = 'INSERT INTO "audit_event"'


@contextmanager
def counted(session):
    """The statements run on the session's connection, as SQLite expands them (with
    their values). SQLite reports a statement again for each row its foreign keys'
    ON DELETE actions act on; those repeats follow the statement and are dropped."""
    statements: list[str] = []

    def seen(sql: str) -> None:
        if not statements or statements[-1] != sql:
            statements.append(sql)

    connection = session.store.db.connection()
    connection.set_trace_callback(seen)
    try:
        yield statements
    finally:
        connection.set_trace_callback(None)


def _statements_per_operation(session, tmp_path, certs, count: int) -> dict[str, int]:
    ids = list(import_some(session, tmp_path, certs, [f"C{i}" for i in range(count)]).values())
    aliases = [f"C{i}" for i in range(count)]
    certificate_groups.add_to_groups(session, ids, ["Kept"])  # nobody is left in no group
    for name in ("A", "B"):
        certificate_groups.create_group(session, name)
    operations = {
        "disable by id": lambda: lifecycle.disable_certificates(session, ids),
        "enable by alias": lambda: lifecycle.enable_certificates(session, aliases),
        "add to groups": lambda: certificate_groups.add_to_groups(session, ids, ["A", "B"]),
        "remove from groups": lambda: certificate_groups.remove_from_groups(
            session, ids, ["A", "B"]
        ),
        "delete": lambda: lifecycle.delete_certificates(session, ids),
    }
    counts = {}
    for name, run in operations.items():
        with counted(session) as seen:
            result = run()
        assert len(result.changed_ids) == count, name
        events = [s for s in seen if s.startswith(AUDIT_INSERT)]
        # One audit event per certificate changed, and per group one of its rows revoked.
        revoked = [s for s in events if "'rows.revoke'" in s]
        assert len(events) - len(revoked) == count, name
        counts[name] = len(seen) - len(events) + len(revoked)
    return counts


def test_bulk_statement_count_does_not_grow_with_the_certificates(tmp_path, certs):
    counts = {}
    for count in (SMALL, LARGE):
        session, _ = users.initialise_store(tmp_path / f"store{count}", "admin", PASSWORD)
        files = tmp_path / f"files{count}"
        files.mkdir()
        try:
            counts[count] = _statements_per_operation(session, files, certs, count)
        finally:
            session.close()
    assert counts[LARGE] == counts[SMALL]


def _on_certificates(seen: list[str]) -> list[str]:
    """The verbs of the statements that read or write the certificate table."""
    table = '"certificate" '
    return [s.split()[0] for s in seen if f"FROM {table}" in s or f"UPDATE {table}" in s]


def test_a_disable_finds_what_changes_in_its_write_and_reads_only_the_rest(
    session, tmp_path, certs
):
    """Scattered rows cost one visit, not a read and then a write: the UPDATE itself
    says which certificates it changed (RETURNING), and only the references it did not
    change (already disabled, or naming nothing) are read."""
    ids = list(import_some(session, tmp_path, certs, [f"C{i}" for i in range(LARGE)]).values())
    with counted(session) as seen:
        result = lifecycle.disable_certificates(session, ids[:-1])
    assert len(result.changed_ids) == LARGE - 1
    assert _on_certificates(seen) == ["UPDATE"]
    assert "RETURNING" in next(s for s in seen if s.startswith("UPDATE"))
    with counted(session) as seen:
        result = lifecycle.disable_certificates(session, [*ids, 10**6])
    assert result.changed_ids == [ids[-1]] and len(result.failures) == 1
    assert _on_certificates(seen) == ["UPDATE", "SELECT"]
