"""`FifoMap`: a map that forgets its oldest entries past a capacity.

The memo, the response store and the engine's key prefixes are bounded this way, and under load
each request can add an entry and evict one. A plain dict can't do that cheaply: deleting its
first key leaves an empty slot that iteration skips until the next resize, so finding the
oldest key scans every key deleted before it, where `OrderedDict.popitem(last=False)` is O(1).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FifoMap(OrderedDict[K, V]):
    """An `OrderedDict` whose `put` keeps at most `capacity` entries, dropping the oldest.
    Not thread-safe by itself: its owners hold their locks around `put`."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1; got {capacity}")
        super().__init__()
        self.capacity = capacity

    def put(self, key: K, value: V) -> None:
        """Set `key`, which becomes the newest entry, and drop the oldest past the capacity."""
        if key in self:
            self.move_to_end(key)
        self[key] = value
        if len(self) > self.capacity:
            self.popitem(last=False)
