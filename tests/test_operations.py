"""Enable, disable, delete and group operations: the services, their permissions, the CLI."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.errors import PermissionDenied, ValidationError
from app.services import (
    certificate_groups,
    certificate_import,
    certificates,
    journal,
    lifecycle,
    users,
)
from app.services.certificate_groups import GroupExistsError
from models import AuditEvent, Certificate, CertificateGroupMember, PrivateKey
from models.permissions import AUDITOR, CERTIFICATE_MANAGER
from tests.helpers.cli import one_line_error
from tests.helpers.stores import import_some, sign_in_as


def row(session, alias):
    return next(r for r in certificates.list_certificates(session) if r.alias == alias)


def test_disable_and_enable_report_each_certificate(session, tmp_path, certs):
    ids = import_some(session, tmp_path, certs, ["A", "B"])
    result = lifecycle.disable_certificates(session, [ids["A"], "B", "Nope"])
    assert [(o.target, o.ok, o.message) for o in result.outcomes] == [
        ("Nope", False, "no such certificate"),
        ("A", True, "disabled"),
        ("B", True, "disabled"),
    ]
    assert sorted(result.changed_ids) == sorted(ids.values())
    assert not row(session, "A").enabled and not row(session, "B").enabled
    again = lifecycle.disable_certificates(session, ["A"])
    assert again.outcomes[0].message == "already disabled" and again.changed_ids == []
    lifecycle.enable_certificates(session, ["A"])
    assert row(session, "A").enabled
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions.count("certificate.disable") == 2 and "certificate.enable" in actions
    assert journal.chain_breaks() == []


def test_a_certificate_named_by_its_alias_and_its_id_changes_once(session, tmp_path, certs):
    """The write finds what changes by id and by alias apart: a certificate both name
    is reported, and recorded, once, whichever reference comes first."""
    ids = import_some(session, tmp_path, certs, ["A", "B", "C"])
    lifecycle.disable_certificates(session, ["C"])
    before = AuditEvent.select().count()
    result = lifecycle.disable_certificates(session, ["A", ids["A"], ids["B"], "B", ids["C"]])
    assert [(o.target, o.message) for o in result.outcomes] == [
        ("A", "disabled"),
        ("B", "disabled"),
        ("C", "already disabled"),
    ]
    assert sorted(result.changed_ids) == sorted([ids["A"], ids["B"]])
    events = AuditEvent.select().where(AuditEvent.id > before).order_by(AuditEvent.id)
    assert [(e.action, e.target) for e in events] == [
        ("certificate.disable", "A"),
        ("certificate.disable", "B"),
    ]
    assert journal.chain_breaks() == []


def test_delete_removes_certificate_and_key(session, tmp_path, certs):
    cert, key = certs.make_cert("Keyed")
    certificate_import.import_files(
        session, [certs.write(tmp_path, "k.p12", certs.p12(cert, key, None))]
    )
    import_some(session, tmp_path, certs, ["Plain"])
    assert PrivateKey.select().count() == 1
    result = lifecycle.delete_certificates(session, ["Keyed", "Plain"])
    assert [o.message for o in result.outcomes] == ["deleted with its private key", "deleted"]
    assert Certificate.select().count() == 0 and PrivateKey.select().count() == 0
    assert journal.chain_breaks() == []


def test_under_privileged_user_is_refused_by_the_service(session, store_dir, tmp_path, certs):
    import_some(session, tmp_path, certs, ["A"])
    auditor = sign_in_as(session, store_dir, "audrey", AUDITOR)
    try:
        for call in (
            lambda: lifecycle.disable_certificates(auditor, ["A"]),
            lambda: lifecycle.delete_certificates(auditor, ["A"]),
            lambda: certificate_groups.add_to_groups(auditor, ["A"], ["G"]),
            lambda: certificate_groups.remove_from_groups(auditor, ["A"], ["G"]),
            lambda: certificate_groups.create_group(auditor, "G"),
        ):
            with pytest.raises(PermissionDenied):
                call()
        assert row(auditor, "A").enabled and Certificate.select().count() == 1
        denied = AuditEvent.select().where(AuditEvent.outcome == "denied").count()
        assert denied == 5
    finally:
        auditor.close()


def test_groups_create_edit_delete(session, tmp_path, certs):
    import_some(session, tmp_path, certs, ["A", "B"])
    certificate_groups.create_group(session, "Release")
    # Unique regardless of case; the refusal names the group as stored, not as typed.
    with pytest.raises(GroupExistsError, match=r"^A certificate group named 'Release' already"):
        certificate_groups.create_group(session, "release")
    with pytest.raises(ValidationError, match="group name"):
        certificate_groups.create_group(session, "   ")
    certificate_groups.add_to_groups(session, ["A", "B"], ["Release"])
    edited = certificate_groups.edit_group(
        session, "Release", "Production", description="  Shipped builds "
    )
    assert (edited.name, edited.description, edited.members) == ("Production", "Shipped builds", 2)
    assert row(session, "A").groups == ("Production",)
    assert [(g.name, g.members) for g in certificate_groups.list_groups(session)] == [
        ("Production", 2)
    ]
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (event.action, event.target) == ("group.edit", "Release")
    assert [r.alias for r in certificate_groups.list_members(session, "production")] == ["A", "B"]
    assert certificate_groups.delete_group(session, "Production") == 2
    assert certificate_groups.list_groups(session) == [] and Certificate.select().count() == 2


def test_editing_a_group_checks_every_field_before_writing(session):
    certificate_groups.create_group(session, "Release")
    certificate_groups.create_group(session, "Nightly")
    with pytest.raises(GroupExistsError, match="named 'Release' already exists"):
        certificate_groups.edit_group(session, "Nightly", "RELEASE", description="kept?")
    with pytest.raises(ValidationError, match="description"):
        certificate_groups.edit_group(session, "Nightly", "Night", description="a\u202eb")
    with pytest.raises(ValidationError, match="description"):
        certificate_groups.edit_group(session, "Nightly", description="x" * 1001)
    nightly = next(g for g in certificate_groups.list_groups(session) if g.name == "Nightly")
    assert nightly.description == ""
    before = AuditEvent.select().count()
    certificate_groups.edit_group(session, "Nightly", "Nightly", description="")
    assert AuditEvent.select().count() == before  # nothing changed, nothing recorded


def test_the_groups_of_certificates_say_how_many_of_them_each_holds(session, tmp_path, certs):
    import_some(session, tmp_path, certs, ["A", "B", "C"])
    certificate_groups.add_to_groups(session, ["A", "B"], ["Release"])
    certificate_groups.add_to_groups(session, ["B"], ["archive"])
    certificate_groups.create_group(session, "Empty")
    ids = {r.alias: r.id for r in certificates.list_certificates(session)}
    shares = certificate_groups.groups_of(session, [ids["A"], ids["B"], ids["C"], ids["B"]])
    assert shares == [
        certificate_groups.GroupShare("archive", 1),
        certificate_groups.GroupShare("Release", 2),
    ]
    assert certificate_groups.groups_of(session, [ids["C"]]) == []
    assert certificate_groups.list_members(session, "Empty") == []


def test_add_creates_groups_only_for_group_managers(session, store_dir, tmp_path, certs):
    import_some(session, tmp_path, certs, ["A"])
    result = certificate_groups.add_to_groups(session, ["A", "Missing"], ["New", "Other"])
    assert row(session, "A").groups == ("New", "Other")
    assert [o.target for o in result.failures] == ["Missing"]
    again = certificate_groups.add_to_groups(session, ["A"], ["New"])
    assert again.outcomes[0].message == "already in New" and again.changed_ids == []


def test_last_group_needs_administrator(session, store_dir, tmp_path, certs):
    import_some(session, tmp_path, certs, ["One", "Two"])
    certificate_groups.add_to_groups(session, ["One"], ["G1", "G2"])
    certificate_groups.add_to_groups(session, ["Two"], ["G1"])
    manager = sign_in_as(session, store_dir, "mona", CERTIFICATE_MANAGER)
    try:
        result = certificate_groups.remove_from_groups(manager, ["One", "Two"], ["G1"])
        assert [(o.target, o.ok) for o in result.outcomes] == [("One", True), ("Two", False)]
        assert "Administrator" in result.failures[0].message
        assert row(manager, "One").groups == ("G2",)
        assert row(manager, "Two").groups == ("G1",)
    finally:
        manager.close()
    admin = users.sign_in(store_dir, "admin", password="correct horse battery")[0]
    try:
        certificate_groups.remove_from_groups(admin, ["Two"], ["G1"])
        assert row(admin, "Two").groups == ()
    finally:
        admin.close()


def insert_rows(count: int) -> list[int]:
    """Rows made with the models: importing 10,000 files would dominate the test, and
    these operations never read the certificate itself."""
    now = datetime.now(UTC)
    rows = [
        {
            "alias": f"Bulk {i:05d}",
            "sha1": f"{i:040x}",
            "sha256": f"{i:064x}",
            "subject": f"CN=Bulk {i:05d}",
            "issuer": "CN=Bulk CA",
            "serial": f"{i:x}",
            "not_before": now,
            "not_after": now + timedelta(days=365),
            "spki_sha256": f"{i:064x}",
        }
        for i in range(count)
    ]
    for start in range(0, count, 1000):
        Certificate.insert_many(rows[start : start + 1000]).execute()
    return [cid for (cid,) in Certificate.select(Certificate.id).tuples()]


def test_bulk_operations_on_ten_thousand_rows_are_one_transaction(session):
    ids = insert_rows(10_000)
    statements = []
    session.store.db.connection().set_trace_callback(statements.append)
    try:
        result = lifecycle.disable_certificates(session, ids)
        certificate_groups.add_to_groups(session, ids, ["Bulk"])
    finally:
        session.store.db.connection().set_trace_callback(None)
    assert len(result.changed_ids) == 10_000
    assert Certificate.select().where(Certificate.enabled == False).count() == 10_000  # noqa: E712
    assert CertificateGroupMember.select().count() == 10_000
    begins = [s for s in statements if s.strip().upper().startswith("BEGIN")]
    assert len(begins) == 2  # one per operation


@pytest.fixture
def a_and_b(cli, closed_store, tmp_path, certs):
    """Certificates A and B, imported by the CLI."""
    paths = [
        str(certs.write(tmp_path, f"{n}.pem", certs.pem(certs.make_cert(n)[0]))) for n in ("A", "B")
    ]
    assert cli("import", *paths).returncode == 0


def listed(cli) -> dict[str, dict]:
    return {c["alias"]: c for c in json.loads(cli("list", "--json").stdout)}


def test_cli_disable_reports_each_certificate_and_the_unknown_one(cli, a_and_b):
    done = cli("disable", "A", "Ghost", "B")
    assert done.returncode == 1
    assert one_line_error(done) == "certdesk: Ghost: no such certificate"
    assert "A: disabled" in done.stdout and "B: disabled" in done.stdout
    rows = listed(cli)
    assert not rows["A"]["enabled"] and not rows["B"]["enabled"]


def test_cli_enable(cli, a_and_b):
    assert cli("disable", "A").returncode == 0
    assert cli("enable", "A").returncode == 0
    assert listed(cli)["A"]["enabled"]


def test_cli_group_add_and_remove(cli, a_and_b):
    assert cli("group", "add", "Release", "A", "B").returncode == 0
    assert listed(cli)["B"]["groups"] == ["Release"]
    assert cli("group", "remove", "Release", "B").returncode == 0
    assert listed(cli)["B"]["groups"] == []


def test_cli_delete_needs_yes_then_deletes(cli, a_and_b):
    refused = cli("delete", "A")
    assert refused.returncode == 2 and "--yes" in one_line_error(refused)
    assert cli("delete", "A", "--yes").returncode == 0
    rows = json.loads(cli("list", "--json").stdout)
    assert [c["alias"] for c in rows] == ["B"] and rows[0]["groups"] == []


def test_deleted_private_key_bytes_leave_the_database_files(session, store_dir, tmp_path, certs):
    from app.crypto.sealing import derive_subkey
    from tests.helpers.sqlcipher_pages import decrypted_store_files

    cert, key = certs.make_cert("Doomed Signing Key", key=certs.rsa_key())
    certificate_import.import_files(
        session, [certs.write(tmp_path, "d.p12", certs.p12(cert, key, None))]
    )
    sealed = PrivateKey.get().sealed
    raw_key = derive_subkey(session.store.master_key(), "sqlcipher")
    db = store_dir / "certdesk.db"
    before = b"".join(decrypted_store_files(db, raw_key).values())
    assert sealed in before  # the decryption sees what is stored
    lifecycle.delete_certificates(session, ["Doomed Signing Key"])
    after = decrypted_store_files(db, raw_key)
    for name, content in after.items():
        assert sealed not in content, name
        assert sealed[:48] not in content, name


def test_deleting_a_certificates_only_group_needs_administrator(
    session, store_dir, tmp_path, certs
):
    import_some(session, tmp_path, certs, ["Lonely", "Social"])
    certificate_groups.add_to_groups(session, ["Lonely", "Social"], ["Only"])
    certificate_groups.add_to_groups(session, ["Social"], ["Other"])
    manager = sign_in_as(session, store_dir, "mona", CERTIFICATE_MANAGER)
    try:
        with pytest.raises(PermissionDenied, match="only group of 'Lonely'"):
            certificate_groups.delete_group(manager, "Only")
        assert row(manager, "Lonely").groups == ("Only",)
        assert certificate_groups.delete_group(manager, "Other") == 1  # Social keeps "Only"
    finally:
        manager.close()


def test_group_names_match_regardless_of_case(session, tmp_path, certs):
    import_some(session, tmp_path, certs, ["A"])
    certificate_groups.create_group(session, "Signers")
    certificate_groups.add_to_groups(session, ["A"], ["signers"])
    assert [g.name for g in certificate_groups.list_groups(session)] == ["Signers"]
    assert row(session, "A").groups == ("Signers",)


def test_no_group_is_created_for_no_certificate(session):
    result = certificate_groups.add_to_groups(session, ["Nobody"], ["Empty"])
    assert [o.target for o in result.failures] == ["Nobody"]
    assert certificate_groups.list_groups(session) == []
