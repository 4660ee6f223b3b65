"""A stand-in for the shared store's `Table` (`mockserver.store`, landing from its own branch):
the same methods over one process's dict and lock, so `TaskRepository` switches to the store
by being handed its tables.

Bounded like the store's tables: past `capacity`, the least recently written key goes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class MemoryTable:
    def __init__(self, name: str, capacity: int) -> None:
        self.name, self.capacity = name, capacity
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.RLock()

    def _put(self, key: str, value: Any) -> None:
        items = self._items
        if key in items:
            items.move_to_end(key)
        items[key] = value
        if len(items) > self.capacity:
            items.popitem(last=False)

    def incr(self, key: str, by: int = 1, ttl: float | None = None) -> int:
        with self._lock:
            value: int = self._items.get(key, 0) + by
            self._put(key, value)
            return value

    def count(self, key: str) -> int:
        value: int = self._items.get(key, 0)
        return value

    def get(self, key: str, type: type[T]) -> T | None:
        value: T | None = self._items.get(key)
        return value

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        with self._lock:
            self._put(key, value)

    def update(
        self,
        key: str,
        type: type[T],
        change: Callable[[T | None], T | None],
        ttl: float | None = None,
    ) -> T | None:
        with self._lock:
            new = change(self._items.get(key))
            if new is None:
                self._items.pop(key, None)
            else:
                self._put(key, new)
            return new

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
