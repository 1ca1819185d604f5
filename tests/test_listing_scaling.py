"""The algorithmic shape of listing and sorting: statements per chunk, not per row, and no
Python call per comparison. Counts, not times (speed is measured in bench/)."""

import sys
from array import array
from contextlib import contextmanager
from functools import partial

import pytest

from PySide6.QtCore import Qt

from app.services import certificate_groups, certificates, policies
from app.services.certificates import CertificateRow, certificate_row, row_values, search_text
from app.services.policies import PolicySpec
from models import statements
from tests.helpers.stores import import_some
from ui import rows_model
from ui.certificates_model import CertificatesModel


@contextmanager
def statements_run(session):
    """The SQL statements the session's connection runs meanwhile."""
    seen: list[str] = []
    connection = session.store.db.connection()
    connection.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def listing_statements(session, **how) -> int:
    with statements_run(session) as seen:
        certificates.list_certificates(session, **how)
    return len(seen)


@pytest.fixture
def grouped(session, tmp_path, certs):
    """A store whose certificates are in groups and policies, as many as asked."""

    def fill(names):
        ids = import_some(session, tmp_path, certs, names)
        db = session.store.db
        db.execute_sql(
            "INSERT INTO certificate_group (name, description) VALUES ('Prod', '') "
            "ON CONFLICT DO NOTHING"
        )
        db.execute_sql(
            "INSERT INTO certificate_group_member (group_id, certificate_id) "
            "SELECT g.id, c.id FROM certificate_group g, certificate c WHERE true "
            "ON CONFLICT DO NOTHING"
        )
        return ids

    return fill


def test_listing_takes_the_same_statements_for_few_rows_and_for_more(grouped, session, monkeypatch):
    grouped([f"few {n:02d}" for n in range(6)])
    monkeypatch.setattr(certificates, "FIRST_CHUNK", 2)
    monkeypatch.setattr(certificates, "LATER_CHUNK", 2)
    parts: list[tuple[int, bool]] = []
    ranges: list[tuple[int, int]] = []
    read_range = statements.certificate_column_texts

    def columns_between(db, low, high):
        ranges.append((low, high))
        return read_range(db, low, high)

    monkeypatch.setattr(statements, "certificate_column_texts", columns_between)

    def streamed() -> int:
        """The statements on the listing's connection; the helpers' reads, one per
        range of ids (the batch), are counted in `ranges`."""
        ranges.clear()
        with statements_run(session) as seen:
            order = certificates.stream_certificates(
                session, "name", lambda rows, in_order: parts.append((len(rows), in_order))
            )
        assert len(order) == sum(n for n, _ in parts)
        low, high = min(order), max(order)
        assert sorted(ranges) == [(n, n + 2) for n in range(low, high + 1, 2)]
        return len(seen)

    few = (listing_statements(session), listing_statements(session, order="name"), streamed())
    assert parts == [(2, True), (2, False), (2, False)]  # streamed in chunks...
    assert few[0] == few[1] == 4  # rows, groups, policies of groups, policies named directly
    grouped([f"more {n:02d}" for n in range(18)])
    parts.clear()
    more = (listing_statements(session), listing_statements(session, order="name"), streamed())
    assert parts == [(2, True)] + [(2, False)] * 11
    assert more == few  # ...but read in the same statements, however many rows


def test_a_certificate_lists_the_policies_naming_it_or_one_of_its_groups_once_each(
    session, tmp_path, certs
):
    import_some(session, tmp_path, certs, ["Direct", "Grouped", "Both", "Twice", "None"])
    certificate_groups.create_group(session, "Prod")
    certificate_groups.create_group(session, "Legacy")
    certificate_groups.add_to_groups(session, ["Grouped", "Both"], ["Prod"])
    certificate_groups.add_to_groups(session, ["Twice"], ["Prod", "Legacy"])
    add = partial(policies.add_policy, session)
    who = (session.user_name,)
    add(PolicySpec("zeta direct", certificates=("Direct", "Both"), users=who))
    add(PolicySpec("Alpha prod", certificate_groups=("Prod", "Legacy"), users=who))
    add(PolicySpec("beta both ways", ("Both",), ("Prod",), users=who))
    expected = {
        "Direct": ("zeta direct",),
        "Grouped": ("Alpha prod", "beta both ways"),
        "Both": ("Alpha prod", "beta both ways", "zeta direct"),
        "Twice": ("Alpha prod", "beta both ways"),
        "None": (),
    }
    listed = {r.alias: r.policies for r in certificates.list_certificates(session)}
    streamed: list = []
    certificates.stream_certificates(session, "name", lambda rows, _: streamed.extend(rows))
    refreshed = certificates.certificate_rows(session, [r.id for r in streamed])
    assert listed == expected
    assert {r.alias: r.policies for r in streamed} == expected
    assert {r.alias: r.policies for r in refreshed} == expected


def test_a_stream_gives_the_first_rows_in_order_then_every_other_once(
    grouped, session, monkeypatch
):
    grouped([f"row {n:02d}" for n in range(7, 0, -1)])  # ids against the names' order
    monkeypatch.setattr(certificates, "FIRST_CHUNK", 3)
    monkeypatch.setattr(certificates, "LATER_CHUNK", 2)
    parts: list[tuple[list, bool]] = []
    order = certificates.stream_certificates(
        session, "name", lambda rows, in_order: parts.append((rows, in_order))
    )
    full = certificates.list_certificates(session, order="name")
    assert order == [r.id for r in full]
    first, in_order = parts[0]
    assert in_order and first == full[:3]
    assert not any(in_order for _, in_order in parts[1:])
    later = [r for rows, _ in parts[1:] for r in rows]
    assert [r.id for r in later] == sorted(r.id for r in full[3:])  # each once, by id


def test_refreshing_rows_takes_four_statements_per_chunk_of_ids(grouped, session):
    ids = list(grouped([f"row {n:02d}" for n in range(8)]).values())
    with statements_run(session) as seen:
        rows = certificates.certificate_rows(session, ids)
    assert len(seen) == 4 and sorted(r.id for r in rows) == sorted(ids)
    assert all(r.groups == ("Prod",) for r in rows)


def synthetic_rows(count: int) -> list[CertificateRow]:
    """Rows as the listing makes them, without a store: every column has spread values."""
    return [
        certificate_row(
            id=i, alias=f"Cert {(i * 7919) % count:07d}", enabled=i % 3 != 0,
            owner=None if i % 4 else "alice", has_pin=i % 5 == 0, ask_reason=i % 7 == 0,
            usage_count=(i * 31) % 1000, last_used_us=None if i % 3 else i * 1_000_000,
            valid_from_us=i * 3_000_000, valid_to_us=((i * 104729) % count) * 86_400_000_000,
            subject=f"CN=Cert {i}", issuer=f"CN=Issuer {i % 9}", serial=f"{(i * 977):x}",
            sha1=f"{i:040x}", sha256=f"{(i * 65537) % 2**64:064x}", has_private_key=i % 2,
            key_algorithm=("EC P-256", "RSA 2048", "RSA 16384")[i % 3],
            groups=(("Prod",), (), ("Legacy", "Prod"))[i % 3], policies=((), ("P1",))[i % 2],
        )
        for i in range(1, count + 1)
    ]  # fmt: skip


def python_calls(action) -> int:
    """How many Python functions `action` calls (C functions not counted)."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


SORTABLE = [
    c for c in range(len(CertificatesModel.HEADERS)) if c not in CertificatesModel.UNSORTABLE
]


@pytest.mark.parametrize("count", [20_000, 100_000])
def test_sorting_makes_no_python_call_per_row_or_comparison(qapp, count):
    model = CertificatesModel()
    model.set_rows(synthetic_rows(count))
    first, again = {}, {}
    for column in SORTABLE:
        first[column] = python_calls(lambda c=column: model.sort(c, Qt.SortOrder.AscendingOrder))
        again[column] = python_calls(lambda c=column: model.sort(c, Qt.SortOrder.DescendingOrder))
    # Building a column's keys and sorting: a handful of calls, the same at both sizes
    # (a key per distinct value at most); a call per row or per comparison would be
    # tens of thousands.
    assert max(first.values()) < 100, first
    assert max(again.values()) < 50, again
    model.sort(CertificatesModel.COL_USAGE, Qt.SortOrder.DescendingOrder)
    shown = [model.row_at(n).usage_count for n in range(model.rowCount())]
    assert len(shown) == count and shown == sorted(shown, reverse=True)


def test_a_sort_keeps_equal_values_in_name_order(qapp):
    model = CertificatesModel()
    model.set_rows(synthetic_rows(3000))
    model.sort(CertificatesModel.COL_KEY, Qt.SortOrder.AscendingOrder)
    rows = [model.row_at(n) for n in range(model.rowCount())]
    order = {"EC P-256": 0, "RSA 2048": 1, "RSA 16384": 2}  # sizes as numbers
    expected = sorted(rows, key=lambda r: (order[r.key_algorithm], r.alias.casefold()))
    assert [r.id for r in rows] == [r.id for r in expected]


def test_serials_and_thumbprints_sort_exactly_though_their_keys_are_floats(qapp):
    # Floats hold 53 bits: these serials and thumbprints round to the same float in
    # pairs, and the exact keys order each pair (not the names).
    big = 2**100
    serials = [big + 3, big + 1, -5, big + 2, 7, -300, big, 7]
    thumbprints = [f"{n:013x}{tail:051x}" for n, tail in [(1, 9), (1, 3), (0, 5), (1, 3)]]
    rows = synthetic_rows(len(serials))
    rows = [
        certificate_row(
            **row_values(r)
            | {
                "alias": f"Cert {len(rows) - n}",  # names opposite to the values
                "serial": f"{'-' if v < 0 else ''}{abs(v):x}",
                "sha256": thumbprints[n % len(thumbprints)],
            }
        )
        for n, (r, v) in enumerate(zip(rows, serials, strict=True))
    ]
    model = CertificatesModel()
    model.set_rows(rows)
    model.sort(CertificatesModel.COL_SERIAL, Qt.SortOrder.AscendingOrder)
    shown = [model.row_at(n) for n in range(model.rowCount())]
    by_number = sorted(rows, key=lambda r: (int(r.serial, 16), r.alias.casefold()))
    assert [r.id for r in shown] == [r.id for r in by_number]
    model.sort(CertificatesModel.COL_SHA256, Qt.SortOrder.AscendingOrder)
    shown = [model.row_at(n) for n in range(model.rowCount())]
    by_text = sorted(rows, key=lambda r: (r.sha256, r.alias.casefold()))
    assert [r.id for r in shown] == [r.id for r in by_text]


def test_keys_found_distinct_while_loading_sort_alike_and_stay_exact_after_a_change(qapp):
    model = CertificatesModel()
    rows = synthetic_rows(40)
    rows = [
        certificate_row(**row_values(r) | {"sha256": f"{n:013x}{n:051x}"})
        for n, r in enumerate(rows)
    ]
    part = model.part(rows, in_order=False)
    model.append_rows(part, in_order=False)
    distinct = model.distinct_keys(part.keys)
    assert {CertificatesModel.COL_SHA256, CertificatesModel.COL_VALID_TO} <= distinct
    model.finish_rows([r.id for r in sorted(rows, key=lambda r: r.alias.casefold())])
    model.add_distinct(distinct)
    model.sort(CertificatesModel.COL_VALID_TO, Qt.SortOrder.AscendingOrder)
    shown = [model.row_at(n).valid_to_us for n in range(model.rowCount())]
    assert shown == sorted(r.valid_to_us for r in rows)
    # Two thumbprints now share their first 13 digits: the model looks for equal ones again.
    twin = certificate_row(**row_values(rows[5]) | {"sha256": f"{7:013x}{1:051x}"})
    model.update_rows([twin])
    model.sort(CertificatesModel.COL_SHA256, Qt.SortOrder.AscendingOrder)
    shown = [model.row_at(n).sha256 for n in range(model.rowCount())]
    assert shown == sorted(shown)


def test_finishing_a_load_asks_no_row_whether_the_source_order_is_the_tie_order(qapp):
    """Each part says so as the worker makes it; the GUI thread walks no row for it, and
    one part with names NOCASE does not fold makes the model sort the ties itself."""
    ascii_rows = sorted(synthetic_rows(30), key=lambda r: r.alias.casefold())
    # NOCASE compares "Ä" and "ä" as bytes (C3 84 < C3 A4): "Äb" before "äa".
    folded = [ascii_rows[0]._replace(alias="Äb"), ascii_rows[1]._replace(alias="äa")]
    for parts, by_name in (
        ([ascii_rows[:10], ascii_rows[10:]], list(ascii_rows)),
        ([ascii_rows[2:10], folded], ascii_rows[2:10] + folded[::-1]),
    ):
        model = CertificatesModel()
        made = [model.part(part, in_order=False) for part in parts]
        asked = []
        model.in_tie_order = lambda rows, asked=asked: asked.append(len(rows)) or True
        for part in made:
            model.append_rows(part, in_order=False)
        model.finish_rows([r.id for part in parts for r in part])  # the source's order
        assert asked == []
        assert [model.row_at(n).id for n in range(model.rowCount())] == [r.id for r in by_name]


def test_a_growing_search_narrows_to_what_a_fresh_search_finds(qapp):
    model = CertificatesModel()
    rows = synthetic_rows(5000)
    model.set_rows(rows)
    model.sort(CertificatesModel.COL_USAGE, Qt.SortOrder.DescendingOrder)
    for text in ("c", "cert 00", "cert 0001", "cert 00012", "cert 000123"):
        model.set_filter(text)
        narrowed = [model.row_at(n).id for n in range(model.rowCount())]
        fresh = CertificatesModel()
        fresh.set_rows(rows)
        fresh.sort(CertificatesModel.COL_USAGE, Qt.SortOrder.DescendingOrder)
        fresh.set_filter(text)
        assert narrowed == [fresh.row_at(n).id for n in range(fresh.rowCount())]
    assert model.rowCount() == 10


def test_a_row_with_a_value_replaced_is_found_by_it():
    row = synthetic_rows(3)[1]
    renamed = row._replace(alias="Zulu Signing", serial="abcdef")
    assert renamed.search_text == search_text(
        "Zulu Signing", row.subject, row.issuer, "abcdef", row.sha1, row.sha256
    )
    assert (renamed.sha1, renamed.sha256) == (row.sha1, row.sha256)


def test_a_renamed_row_takes_its_new_place_in_name_order(qapp):
    # The model keeps no tie keys once their order is made: a rename makes them again.
    model = CertificatesModel()
    rows = synthetic_rows(50)
    model.set_rows(rows)
    renamed = [rows[3]._replace(alias="aaa first"), rows[7]._replace(alias="ZZZ last")]
    model.update_rows(renamed)
    model.sort(CertificatesModel.COL_NAME, Qt.SortOrder.AscendingOrder)
    shown = [model.row_at(n).alias for n in range(model.rowCount())]
    assert shown[0] == "aaa first" and shown[-1] == "ZZZ last"
    assert shown == sorted(shown, key=str.casefold)


def test_updating_rows_changes_them_in_place_and_their_keys(qapp, qtbot):
    model = CertificatesModel()
    rows = synthetic_rows(2000)
    model.set_rows(rows)
    model.sort(CertificatesModel.COL_USAGE, Qt.SortOrder.AscendingOrder)
    changed = [r._replace(usage_count=5000 + r.id, enabled=False) for r in rows[::100]]
    resets, ranges = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.layoutChanged.connect(lambda: resets.append(2))
    model.dataChanged.connect(lambda a, b: ranges.append((a.row(), b.row())))
    place = [model.row_at(n).id for n in range(model.rowCount())]
    model.update_rows(changed)
    assert resets == [] and len(ranges) <= len(changed)
    assert [model.row_at(n).id for n in range(model.rowCount())] == place  # nothing moved
    model.sort(CertificatesModel.COL_USAGE, Qt.SortOrder.AscendingOrder)
    last = [model.row_at(n).id for n in range(model.rowCount())][-len(changed) :]
    assert last == [r.id for r in changed]  # the new counts sort last


def test_a_load_finishes_in_the_order_of_the_places_its_worker_found(qapp):
    """The worker notes where each part's rows will be and hands their places in the
    source's order to finish_rows, which takes that order as it is (every name is
    ASCII, so the source's NOCASE order is the tie order); places that do not cover
    the rows are not trusted, and the model sorts by name itself."""
    rows = synthetic_rows(50)
    source = sorted(rows, key=lambda r: -r.id)  # what the places say, to tell them apart
    by_name = sorted(rows, key=lambda r: r.alias.casefold())
    for cut, expected in ((None, source), (10, by_name)):
        model = CertificatesModel()
        arrived = model.positions()
        made = []
        for chunk in (rows[30:], rows[:30]):  # scattered ids, as a first screen by name
            part = model.part(chunk, in_order=False)
            arrived.append(list(map(model.key_of, part.rows)))
            made.append(part)
        places = arrived.places([r.id for r in source])
        for part in made:
            model.append_rows(part, in_order=False)
        model.finish_rows(places=places[:cut])
        assert [model.row_at(n).id for n in range(model.rowCount())] == [r.id for r in expected]


def test_keys_counted_in_many_small_sets_are_found_equal_wherever_they_are(qapp, monkeypatch):
    """A worker counts a column's keys in sets of one range of values each, a sorted
    slice at a time: two equal keys far apart, or at the bounds of a range, are found."""
    monkeypatch.setattr(rows_model, "_SET_AT_MOST", 100)
    monkeypatch.setattr(rows_model, "_CHECKED_AT_ONCE", 64)
    model = CertificatesModel()
    keys = [float(n * 7919 % 1000) for n in range(1000)]  # all differ, not in order
    assert model.distinct_keys({1: keys, 2: [str(k) for k in keys]}) == {1, 2}
    for first, second in ((0, 999), (10, 11), (500, 3)):
        twin = list(keys)
        twin[second] = twin[first]
        assert model.distinct_keys({1: twin, 2: array("d", twin)}) == set()
    bounds = sorted(keys)[::100]  # a value a range starts at, twice
    edge = [*keys[:-1], bounds[3]]
    assert model.distinct_keys({1: edge}) == set()
