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
