"""The table's listing reads ranges of ids as columns on helper threads
(statements.certificate_column_texts, services.parallel_reads): the rows it makes are
the rows read one by one, whatever the values; a text holding the separator, or a write
since the listing's read began, sends a range back to the row-by-row read, as of the
listing's own transaction."""

import random
import threading

import pytest

from app.errors import CertdeskError
from app.services import (
    certificate_groups,
    certificate_import,
    certificates,
    lifecycle,
    parallel_reads,
    policies,
    users,
)
from app.services.policies import PolicySpec
from models import statements
from tests.helpers.stores import PASSWORD, import_some


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(certificates, "FIRST_CHUNK", 2)
    monkeypatch.setattr(certificates, "LATER_CHUNK", 3)


@pytest.fixture
def row_reads(monkeypatch):
    """The ranges read row by row instead of as columns."""
    spans: list[tuple[int, int]] = []
    read = statements.certificate_rows_between

    def counted(db, low, high):
        spans.append((low, high))
        return read(db, low, high)

    monkeypatch.setattr(statements, "certificate_rows_between", counted)
    return spans


def streamed(session) -> tuple[list[int], list]:
    rows: list = []
    order = certificates.stream_certificates(session, "name", lambda part, _: rows.extend(part))
    return order, rows


def test_rows_read_as_columns_are_the_rows_read_one_by_one(
    session, tmp_path, certs, small_chunks, row_reads
):
    cert, key = certs.make_cert("With Key")
    keyed = certs.write(tmp_path, "k.pfx", certs.p12(cert, key, b"s3cret"))
    certificate_import.import_files(session, [keyed], password="s3cret")
    old, _ = certs.make_cert("Before 1970", start_days=-25_000)  # negative microseconds
    folded, _ = certs.make_cert("Straße Ärger ΣΑΣ")  # casefolds to more characters
    paths = [
        certs.write(tmp_path, f"{name}.pem", certs.pem(cert))
        for name, cert in (("old", old), ("folded", folded))
    ]
    certificate_import.import_files(session, paths)
    ids = import_some(session, tmp_path, certs, [f"plain {n}" for n in range(5)])
    db = session.store.db
    db.execute_sql(
        "UPDATE certificate SET owner_id = (SELECT id FROM user LIMIT 1), usage_count = 70000, "
        "last_used = 1700000000123456, ask_reason = 1, enabled = 0 WHERE alias = 'plain 1'"
    )
    db.execute_sql("UPDATE certificate SET pin_hash = 'x' WHERE alias = 'plain 3'")
    certificate_groups.create_group(session, "Prod")
    certificate_groups.add_to_groups(session, ["plain 2", "plain 3"], ["Prod"])
    policies.add_policy(
        session, PolicySpec("release", ("plain 4",), ("Prod",), users=(session.user_name,))
    )
    order, rows = streamed(session)
    listed = certificates.list_certificates(session, order="name")
    assert row_reads == []  # every range was read as columns
    assert order == [r.id for r in listed]
    assert sorted(rows) == sorted(listed)
    by_alias = {r.alias: r for r in rows}
    assert by_alias["With Key"].has_private_key and not by_alias["plain 0"].has_private_key
    assert by_alias["Before 1970"].valid_from_us < 0
    assert by_alias["Straße Ärger ΣΑΣ"].search_text.startswith("strasse ärger σασ\n")
    owned = by_alias["plain 1"]
    assert (owned.owner, owned.usage_count, owned.last_used_us) == (
        session.user_name,
        70000,
        1700000000123456,
    )
    assert (owned.enabled, owned.ask_reason, owned.has_pin) == (0, 1, 0)
    assert by_alias["plain 3"].has_pin and by_alias["plain 3"].groups == ("Prod",)
    assert by_alias["plain 4"].policies == by_alias["plain 2"].policies == ("release",)
    assert len(ids) == len(rows)


def test_a_subject_holding_the_separator_is_read_with_its_range_row_by_row(
    session, tmp_path, certs, small_chunks, row_reads
):
    import_some(session, tmp_path, certs, [f"plain {n}" for n in range(6)])
    odd, _ = certs.make_cert("odd\x1ename")
    certificate_import.import_files(session, [certs.write(tmp_path, "odd.pem", certs.pem(odd))])
    (odd_id,) = [r.id for r in certificates.list_certificates(session) if "\x1e" in r.subject]
    _, rows = streamed(session)
    assert sorted(rows) == sorted(certificates.list_certificates(session))
    assert len(row_reads) == 1 and row_reads[0][0] <= odd_id < row_reads[0][1]
    read = statements.certificate_column_texts(session.store.db, *row_reads[0])
    assert statements.listed_columns(read) is None


def test_a_write_since_the_listing_began_leaves_it_as_of_its_start(
    session, store_dir, tmp_path, certs, small_chunks, row_reads
):
    import_some(session, tmp_path, certs, [f"row {n}" for n in range(8)])
    before = certificates.list_certificates(session)
    other = users.sign_in(store_dir, session.user_name, password=PASSWORD)[0]
    parts: list = []

    def take(rows, in_order):
        if not parts:  # the helpers start after the first chunk: they see the write
            lifecycle.disable_certificates(other, [r.id for r in before])
        parts.append(rows)

    try:
        order = certificates.stream_certificates(session, "name", take)
    finally:
        other.close()
    rows = [r for part in parts for r in part]
    assert sorted(rows) == sorted(before)  # all enabled, as when the listing began
    assert order == [r.id for r in sorted(before, key=lambda r: (r.alias.casefold(), r.id))]
    # Every range was read on the listing's own connection: 8 ids, 2 shown first, by 3.
    assert len(row_reads) == 3
    assert not any(r.enabled for r in certificates.list_certificates(session))


def test_reads_alongside_come_in_order_and_their_helpers_end_with_the_context(session):
    db = session.store.db

    def read(db, n):
        return n, db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0

    with parallel_reads.alongside(db, read, range(20), threads=2, ahead=3) as results:
        assert list(results) == [(n, True) for n in range(20)]
    with parallel_reads.alongside(db, read, range(1000), threads=2, ahead=2) as results:
        assert next(results) == (0, True)  # the caller leaves early
    assert not [t for t in threading.enumerate() if t.name.startswith("store read")]


def test_a_read_alongside_that_fails_raises_in_the_caller(session):
    def read(db, n):
        if n == 3:
            raise CertdeskError(f"range {n}: cannot read")
        return n

    alongside = parallel_reads.alongside(session.store.db, read, range(8))
    with pytest.raises(CertdeskError, match="range 3"), alongside as results:
        assert list(results)
    assert not [t for t in threading.enumerate() if t.name.startswith("store read")]


def test_long_columns_are_decoded_a_run_at_a_time_as_one_split_would(monkeypatch):
    monkeypatch.setattr(statements, "_DECODED_AT_ONCE", 2)
    rng = random.Random(11)
    for _ in range(500):
        texts = [
            "".join(rng.choices("ab\n", k=rng.randint(0, 5))) for _ in range(rng.randint(1, 60))
        ]
        joined = "\x1e".join(texts)
        assert statements._texts(joined) == texts
        numbers = [rng.randint(-(2**63), 2**63 - 1) for _ in range(rng.randint(0, 9))]
        hexed = "".join(f"{n & (2**64 - 1):016x}" for n in numbers)  # as printf('%016x')
        assert statements._integers(hexed) == numbers


def test_ranges_follow_the_ids_there_are_however_sparse(session, tmp_path, certs, small_chunks):
    import_some(session, tmp_path, certs, [f"row {n}" for n in range(7)])
    db = session.store.db
    db.execute_sql("PRAGMA foreign_keys = OFF")  # its DER row follows it by hand
    db.execute_sql(
        "UPDATE certificate_der SET certificate_id = 9000000000 WHERE certificate_id = 7"
    )
    db.execute_sql("UPDATE certificate SET id = 9000000000 WHERE id = 7")
    db.execute_sql("PRAGMA foreign_keys = ON")
    ranges: list = []
    read = statements.certificate_column_texts

    def counted(db, low, high):
        ranges.append((low, high))
        return read(db, low, high)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(statements, "certificate_column_texts", counted)
        _, rows = streamed(session)
    assert sorted(rows) == sorted(certificates.list_certificates(session))
    assert sorted(ranges) == [(1, 4), (4, 9000000000), (9000000000, 9000000001)]
