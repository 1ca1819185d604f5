"""The import's work per batch, not per certificate (issue 11, item 2): the statements it
runs to import N certificates grow with the batches, and each certificate costs only
its own rows; what it records and the aliases it gives stay as they were."""

from collections import Counter

import pytest
from cryptography.hazmat.primitives import serialization

from app.crypto.csr import RequestSpec
from app.crypto.keygen import KeySpec
from app.services import (
    audit_log,
    certificate_import,
    certificates,
    signing_requests,
    store_changes,
    users,
)
from models.base import utcnow
from tests.helpers import certgen
from tests.helpers.stores import PASSWORD


@pytest.fixture(scope="module")
def signer_key():
    """One key for every certificate: generating keys would cost more than importing."""
    return certgen.ec_key()


def bundles(certs, folder, key, count: int, files: int, prefix: str = "Scale") -> list:
    """`count` certificates with distinct CNs in `files` PEM bundles."""
    pems = [certs.pem(certs.make_cert(f"{prefix} {i:04d}", key=key)[0]) for i in range(count)]
    size = -(-count // files)
    folder.mkdir(exist_ok=True)
    return [
        certs.write(folder, f"{prefix}-{k}.pem", b"".join(pems[k * size : (k + 1) * size]))
        for k in range(files)
    ]


def traced_import(session, paths) -> Counter:
    """What SQLite ran for the import, as the connection's trace sees it: each execution
    of a statement, an executemany's rows one by one."""
    seen: list[str] = []
    connection = session.store.db.connection()
    connection.set_trace_callback(seen.append)
    try:
        report = certificate_import.import_files(session, paths)
    finally:
        connection.set_trace_callback(None)
    assert not report.failed and report.stopped is None
    return Counter("insert" if sql.startswith("INSERT") else "other" for sql in seen)


def test_statements_to_import_grow_with_the_batches_not_the_certificates(
    session, tmp_path, certs, signer_key, monkeypatch
):
    monkeypatch.setattr(certificate_import, "FILES_PER_TRANSACTION", 2)  # 3 batches each
    small = traced_import(session, bundles(certs, tmp_path / "a", signer_key, 50, 5, "Small"))
    large = traced_import(session, bundles(certs, tmp_path / "b", signer_key, 500, 5, "Large"))
    # Look-ups, transactions, chain heads: as many for 500 certificates as for 50.
    assert large["other"] == small["other"]
    assert small["other"] <= 3 * 12
    # One certificate row, one DER row and one audit event per certificate, nothing else.
    assert (small["insert"], large["insert"]) == (3 * 50, 3 * 500)


def test_statements_to_import_files_grow_with_the_batches(
    session, tmp_path, certs, signer_key, monkeypatch
):
    monkeypatch.setattr(certificate_import, "FILES_PER_TRANSACTION", 100)
    one = traced_import(session, bundles(certs, tmp_path / "a", signer_key, 50, 50, "One"))
    five = traced_import(session, bundles(certs, tmp_path / "b", signer_key, 500, 500, "Five"))
    assert five["other"] == 5 * one["other"]  # 1 batch of 50 files, 5 of 100: none per file
    assert (one["insert"], five["insert"]) == (3 * 50, 3 * 500)


def test_every_imported_certificate_has_its_audit_event_in_one_chain(
    session, tmp_path, certs, signer_key
):
    paths = bundles(certs, tmp_path, signer_key, 40, 2)
    report = certificate_import.import_files(session, paths)
    events = [e for e in audit_log.list_events(session) if e.action == "certificate.import"]
    aliases = {r.alias: r.sha256 for r in certificates.list_certificates(session)}
    assert [e.target for e in events] == [a for f in report.files for a in f.imported]
    assert {e.target: e.details["sha256"] for e in events} == aliases
    assert {e.details["file"] for e in events} == {str(p) for p in paths}
    assert audit_log.verify_chain(session) == []


def test_a_batch_imported_elsewhere_reloads_the_watchers_table_and_not_its_own(
    session, store_dir, tmp_path, certs, signer_key
):
    after = store_changes.watch(session)
    certificate_import.import_files(session, bundles(certs, tmp_path / "own", signer_key, 30, 2))
    assert store_changes.changes_since(session, after).certificates == ()  # its own run
    other, _ = users.sign_in(store_dir, "admin", password=PASSWORD)
    try:
        paths = bundles(certs, tmp_path / "other", signer_key, 30, 2, "Other")
        certificate_import.import_files(other, paths)
    finally:
        other.close()
    assert store_changes.changes_since(session, after).certificates is None  # rows came


def test_a_batch_gives_the_aliases_one_at_a_time_would(session, tmp_path, certs, signer_key):
    def cert(cn):
        return certs.pem(certs.make_cert(cn, key=signer_key)[0])

    certs.write(tmp_path, "stored.pem", cert("Dup") + cert("Dup (3)"))
    certificate_import.import_files(session, [tmp_path / "stored.pem"])
    bundle = certs.write(tmp_path, "b.pem", b"".join(cert(cn) for cn in ["Dup", "Dup", "Dup (2)"]))
    single = certs.write(tmp_path, "c.pem", cert("Dup"))
    report = certificate_import.import_files(session, [bundle, single])
    assert [f.imported for f in report.files] == [
        ["Dup (2)", "Dup (4)", "Dup (2) (2)"],
        ["Dup (5)"],
    ]


def test_duplicates_and_keys_across_the_files_of_a_batch(session, tmp_path, certs, signer_key):
    """A plain bundle, a key file for one of its certificates, and a bundle that repeats
    both of its certificates: one transaction, each file as it would be alone."""
    first, _ = certs.make_cert("Keyed", key=signer_key)
    second, _ = certs.make_cert("Plain")  # a key of its own
    bundle = certs.write(tmp_path, "a.pem", certs.pem(first) + certs.pem(second))
    key = certs.write(tmp_path, "k.pem", _key_pem(signer_key))
    again = certs.write(tmp_path, "b.pem", certs.pem(second) + certs.pem(first))
    report = certificate_import.import_files(session, [bundle, key, again])
    assert [(f.imported, f.duplicates, f.keys_linked) for f in report.files] == [
        (["Keyed", "Plain"], [], []),
        ([], [], ["Keyed"]),
        ([], ["Plain", "Keyed"], []),
    ]
    rows = {r.alias: r.has_private_key for r in certificates.list_certificates(session)}
    assert rows == {"Keyed": True, "Plain": False}
    assert audit_log.verify_chain(session) == []


def test_a_file_refused_in_a_batch_leaves_the_others_and_its_aliases_free(
    session, tmp_path, certs, signer_key
):
    certificate_import.import_files(
        session,
        [certs.write(tmp_path, "x.pem", certs.pem(certs.make_cert("X", key=signer_key)[0]))],
    )
    taken = certs.write(tmp_path, "t.pem", certs.pem(certs.make_cert("T", key=signer_key)[0]))
    later = certs.write(tmp_path, "l.pem", certs.pem(certs.make_cert("X (2)", key=signer_key)[0]))
    report = certificate_import.import_files(session, [taken, later], alias="X")
    assert "already in use" in report.files[0].error
    assert report.files[1].imported == ["X (2)"]
    assert sorted(r.alias for r in certificates.list_certificates(session)) == ["X", "X (2)"]


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_a_renewal_within_a_batch_names_the_renamed_duplicate(session, tmp_path, certs, signer_key):
    spec = RequestSpec(common_name="Build Signing", organization="Example", country="GB")
    first = signing_requests.create_request(session, "Release", KeySpec("Ed25519"), spec)
    old = certs.write(tmp_path, "v1.pem", certgen.issue_for_request(first.csr_pem))
    certificate_import.import_files(session, [old])
    renewal = signing_requests.renew(session, "Release")
    new = certs.write(tmp_path, "v2.pem", certgen.issue_for_request(renewal.csr_pem))
    plain = bundles(certs, tmp_path, signer_key, 2, 1)
    report = certificate_import.import_files(session, [*plain, new, old])
    superseded = f"Release (superseded {utcnow():%Y-%m-%d})"
    assert [(f.imported, f.duplicates) for f in report.files] == [
        (["Scale 0000", "Scale 0001"], []),
        (["Release"], []),
        ([], [superseded]),
    ]
    assert report.files[1].superseded == [superseded]
    assert audit_log.verify_chain(session) == []
