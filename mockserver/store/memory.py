"""The in-memory store: one process, no encoding, the objects themselves.

The default when one process serves. Every table is an `OrderedDict` in write order (the
least recently written key is the first to go past the capacity), every log a bounded
`deque`; one re-entrant lock guards them all, so `transaction()` is that lock held.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from operator import itemgetter
from typing import Any, TypeVar

from mockserver.store.base import Log, Store, Table, check_capacity

T = TypeVar("T")
_first = itemgetter(0)


class MemoryTable(Table):
    __slots__ = ("_clock", "_expires", "_items", "_lock", "capacity", "name")

    def __init__(
        self, name: str, capacity: int, lock: threading.RLock, clock: Callable[[], float]
    ) -> None:
        check_capacity(name, capacity)
        self.name, self.capacity = name, capacity
        self._lock = lock
        self._clock = clock
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._expires: dict[str, float] = {}  # only keys set with a ttl

    def _put(self, key: str, value: Any, ttl: float | None) -> None:
        """Write under the lock: the key becomes the newest; the oldest goes past capacity."""
        items = self._items
        if key in items:
            items.move_to_end(key)
        items[key] = value
        if ttl is not None:
            self._expires[key] = self._clock() + ttl
        elif self._expires:
            self._expires.pop(key, None)
        if len(items) > self.capacity:
            oldest, _ = items.popitem(last=False)
            if self._expires:
                self._expires.pop(oldest, None)

    def _live(self, key: str) -> Any:
        """The value under the lock, None when absent or expired (then dropped)."""
        value = self._items.get(key)
        expires = self._expires.get(key) if self._expires else None
        if expires is not None and expires <= self._clock():
            del self._items[key], self._expires[key]
            return None
        return value

    def incr(self, key: str, by: int = 1, ttl: float | None = None) -> int:
        with self._lock:
            if ttl is None and not self._expires:  # every request counts one: the short way
                items = self._items
                value: int = items.pop(key, 0) + by  # popped and put back: now the newest
                items[key] = value
                if len(items) > self.capacity:
                    items.popitem(last=False)
                return value
            old = self._live(key)
            if old is None:
                value = by
                self._put(key, value, ttl)
            else:
                value = old + by
                expires = self._expires.get(key) if self._expires else None
                self._put(key, value, None)
                if expires is not None:  # a window keeps its end
                    self._expires[key] = expires
            return value

    def count(self, key: str) -> int:
        with self._lock:
            value = self._live(key)
        return 0 if value is None else value

    def counts(self, keys: Sequence[str]) -> list[int]:
        with self._lock:
            if not self._expires:  # nothing can have expired: plain reads
                get = self._items.get
                return [get(key) or 0 for key in keys]
            return [self._live(key) or 0 for key in keys]

    def incr_many(self, changes: Mapping[str, int]) -> None:
        with self._lock:
            if self._expires:  # a counter may be a window: `incr` keeps its end
                for key, by in changes.items():
                    self.incr(key, by)
                return
            items = self._items
            for key, by in changes.items():
                items[key] = items.pop(key, 0) + by  # popped and put back: now the newest
            while len(items) > self.capacity:
                items.popitem(last=False)

    def get(self, key: str, type: type[T]) -> T | None:
        with self._lock:
            return self._live(key)  # type: ignore[no-any-return]

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        with self._lock:
            self._put(key, value, ttl)

    def update(
        self,
        key: str,
        type: type[T],
        change: Callable[[T | None], T | None],
        ttl: float | None = None,
    ) -> T | None:
        with self._lock:
            new = change(self._live(key))
            if new is None:
                self._drop(key)
            else:
                self._put(key, new, ttl)
            return new

    def delete(self, key: str) -> bool:
        with self._lock:
            present = self._live(key) is not None
            self._drop(key)
            return present

    def _drop(self, key: str) -> None:
        self._items.pop(key, None)
        if self._expires:
            self._expires.pop(key, None)

    def keys(self) -> list[str]:
        with self._lock:
            return [key for key in list(self._items) if self._live(key) is not None]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._expires.clear()

    def __len__(self) -> int:
        return len(self.keys()) if self._expires else len(self._items)


class MemoryLog(Log):
    __slots__ = ("_floor", "_generation", "_lock", "_records", "_seq", "capacity", "name")

    def __init__(self, name: str, capacity: int, lock: threading.RLock) -> None:
        check_capacity(name, capacity)
        self.name, self.capacity = name, capacity
        self._lock = lock
        self._records: deque[tuple[int, Any]] = deque(maxlen=capacity)
        self._seq = 0
        self._floor = 0  # numbers up to this one were reserved before the last reset
        self._generation = 0

    def open(self) -> tuple[int, int]:
        with self._lock:
            self._seq += 1
            return self._seq, self._generation

    def append(self, seq: int, record: object) -> None:
        with self._lock:
            if seq > self._floor:
                self._records.append((seq, record))

    def records(self, type: type[T], after: int = 0) -> list[T]:
        with self._lock:
            found = sorted(self._records, key=_first)  # appended in completion order
        return [record for seq, record in found if seq > after]

    def reset(self) -> int:
        with self._lock:
            self._records.clear()
            self._floor = self._seq
            self._generation += 1
            return self._generation

    @property
    def generation(self) -> int:
        return self._generation

    def __len__(self) -> int:
        return len(self._records)


class MemoryStore(Store):
    shared = False

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._tables: dict[str, MemoryTable] = {}
        self._logs: dict[str, MemoryLog] = {}
        self._notices: dict[str, int] = {}

    def table(self, name: str, capacity: int) -> MemoryTable:
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = self._tables[name] = MemoryTable(name, capacity, self._lock, self._clock)
            return table

    def log(self, name: str, capacity: int) -> MemoryLog:
        with self._lock:
            log = self._logs.get(name)
            if log is None:
                log = self._logs[name] = MemoryLog(name, capacity, self._lock)
            return log

    def transaction(self) -> AbstractContextManager[object]:
        # The lock itself (a context manager): a generator-made one costs every bill ~1 µs.
        return self._lock

    def notify(self, topic: str) -> None:
        with self._lock:
            self._notices[topic] = self._notices.get(topic, 0) + 1

    def notices(self, topic: str) -> int:
        return self._notices.get(topic, 0)

    def close(self) -> None:
        """Nothing to release."""
