"""Where each row is among a model's rows, by its key. A store's row ids are small
non-negative integers, so for them an array indexed by the id holds the places (8 bytes
an id up to the highest, grown in place): a dictionary of a million ids costs ten times
the memory, and its resizes held the GUI thread for 160 ms while a load streamed in. Any
other keys, or ids too sparse for an array, are kept in a dictionary, until the ids are
dense enough again."""

from array import array
from collections import deque
from collections.abc import Hashable, Iterator, Sequence

_ABSENT = b"\xff" * 8  # -1 in an array of "q": no row has this id
# Ids may run this far ahead of twice the rows before an array gives way to a dictionary
# (a store that lost most of its certificates keeps high ids): an array of 16 MiB at
# most beyond the rows', room for the first screen's rows of a million, read by name.
_SLACK = 1 << 21
# Keys looked up between two chances for another thread to take the GIL.
_AT_ONCE = 10_000
_NOT_IDS = -2  # `_highest` once a key that is no id was kept


def _ids(keys: Sequence[Hashable]) -> bool:
    """Whether every key is an int (not a bool, which equals one): a walk in C."""
    return set(map(type, keys)) == {int}


class Positions:
    """key -> index into the rows, for the keys of rows in the order they were placed."""

    def __init__(self, dense_ids: bool = False):
        self._dense = dense_ids
        self._array: array | None = array("q") if dense_ids else None
        self._dict: dict[Hashable, int] = {}
        self._count = 0
        # The highest id in the dictionary while every key in it is an id (_NOT_IDS once
        # one is not), so that it can become an array again when the ids grow dense.
        self._highest = -1

    def append(self, keys: Sequence[Hashable]) -> None:
        """The keys of the rows placed after those already here, in their order."""
        if not keys:
            return
        places = range(self._count, self._count + len(keys))
        count = self._count + len(keys)
        if self._array is None and self._dense and self._fits(keys, count, self._highest):
            self._array = self._as_array()  # the first rows had ids too high for their number
        if self._array is not None and self._fits(keys, count):
            missing = max(keys) + 1 - len(self._array)
            if missing > 0:
                self._array.frombytes(_ABSENT * missing)
            deque(map(self._array.__setitem__, keys, places), maxlen=0)  # in C
        else:
            if self._array is not None:
                self._highest = len(self._array) - 1
                self._dict, self._array = dict(self._items()), None
            self._dict.update(zip(keys, places, strict=True))
            if self._dense and self._highest != _NOT_IDS:
                ids = _ids(keys) and min(keys) >= 0
                self._highest = max(self._highest, max(keys)) if ids else _NOT_IDS
        self._count = count

    def _fits(self, keys: Sequence[Hashable], count: int, highest: int = -1) -> bool:
        """Whether an array holds these ids (and those up to `highest`) for `count` rows."""
        if highest == _NOT_IDS or not _ids(keys):
            return False
        return min(keys) >= 0 and max(highest, max(keys)) < 2 * count + _SLACK

    def _as_array(self) -> array:
        kept = array("q", _ABSENT * (self._highest + 1))
        deque(map(kept.__setitem__, self._dict.keys(), self._dict.values()), maxlen=0)
        self._dict = {}
        return kept

    def _items(self) -> Iterator[tuple[Hashable, int]]:
        assert self._array is not None
        return ((key, place) for key, place in enumerate(self._array) if place >= 0)

    def get(self, key: Hashable, default: int | None = None) -> int | None:
        if self._array is None:
            return self._dict.get(key, default)
        if type(key) is int and 0 <= key < len(self._array):
            place = self._array[key]
            return default if place < 0 else place
        return default

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: Hashable) -> int:
        place = self.get(key)
        if place is None:
            raise KeyError(key)
        return place

    def places(self, keys: Sequence[Hashable]) -> list[int] | None:
        """The place of each of `keys`; None if one has none. Looked up and checked a
        slice at a time, so that a worker asking for a million gives the GUI thread its
        turns (a walk over a million keys in one C call held it for 20 ms)."""
        if self._array is None:
            found = list(map(self._dict.get, keys))
            return None if None in found else found
        found: list[int] = []
        for start in range(0, len(keys), _AT_ONCE):
            part = keys[start : start + _AT_ONCE]
            if not _ids(part) or min(part) < 0 or max(part) >= len(self._array):
                return None
            places = list(map(self._array.__getitem__, part))
            if min(places) < 0:
                return None
            found += places
        return found
