"""Where each row is, by key: an array indexed by the store's ids while they are dense,
a dictionary otherwise; the answers are the same either way."""

import pytest

from ui.positions import Positions


def test_dense_ids_are_placed_in_the_order_they_came():
    positions = Positions(dense_ids=True)
    positions.append([900_000, 3, 17])  # a first screen read by name: scattered ids
    positions.append([4, 5, 6])
    assert [positions.get(k) for k in (900_000, 3, 17, 4, 5, 6)] == [0, 1, 2, 3, 4, 5]
    assert positions.places([4, 900_000, 6]) == [3, 0, 5]
    assert 17 in positions and 18 not in positions and -1 not in positions
    assert positions.get(10**9) is None and positions.get("17") is None


def test_a_key_with_no_row_makes_the_places_none():
    for dense in (True, False):
        positions = Positions(dense_ids=dense)
        positions.append([1, 2, 3])
        assert positions.places([3, 2, 1]) == [2, 1, 0]
        assert positions.places([3, 9]) is None  # 9 was never placed
        assert positions.places([3, 10**7]) is None  # beyond every id
        assert positions.places([3, -1]) is None  # not an index from the end


def test_keys_that_are_no_dense_ids_are_kept_all_the_same():
    for later in (["a", "b"], [-5, 10], [2**40, 7]):
        positions = Positions(dense_ids=True)
        positions.append([1, 2])
        positions.append(later)
        assert [positions.get(k) for k in [1, 2, *later]] == [0, 1, 2, 3]
        assert positions.places([later[1], 1]) == [3, 0]
        with pytest.raises(KeyError):
            positions[object()]


def test_ids_too_high_for_the_first_rows_are_placed_in_an_array_once_more_rows_come():
    positions = Positions(dense_ids=True)
    high = 5_000_000  # a store that lost most of its certificates keeps high ids
    positions.append([high, 3])
    positions.append(list(range(10, 3_000_010)))
    assert positions.get(high) == 0 and positions.get(3) == 1 and positions.get(10) == 2
    assert positions.places([3_000_009, high, 3]) == [3_000_001, 0, 1]
    assert positions.get(9) is None and positions.get(high + 1) is None


def test_keys_that_never_were_ids_stay_in_a_dictionary():
    for first in ([-5, 2], [True, 7], [1.5, 2], ["a", 3]):
        positions = Positions(dense_ids=True)
        positions.append(first)
        positions.append(list(range(100, 200)))
        assert positions.get(first[0]) == 0 and positions.get(first[1]) == 1
        assert positions.get(150) == 52 and positions.get(99) is None
