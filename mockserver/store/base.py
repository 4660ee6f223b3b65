"""The store's interface: bounded tables of counters and values, logs, and transactions.

Both backends (`mockserver.store.memory`, `mockserver.store.sqlite`) implement these three
classes; `tests/store/test_store.py` runs one suite over both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TypeVar

T = TypeVar("T")


class Table(ABC):
    """A named map of string keys to counters or values, holding at most `capacity` keys:
    past it, the least recently written keys are forgotten first (a read doesn't count as a
    use). A key holds a counter (`incr`, `count`) or a value (`get`, `set`, `update`), never
    both. Values are msgspec-encodable (Structs, dicts, lists, str, numbers); a value handed to
    the table, or read from it, must not be changed in place afterwards: the memory backend
    keeps the object itself. `ttl` (seconds, wall clock) makes a key expire; an expired key
    reads as absent."""

    name: str
    capacity: int

    @abstractmethod
    def incr(self, key: str, by: int = 1, ttl: float | None = None) -> int:
        """Add `by` to the counter (absent: 0) and return its new value, atomically. `ttl`
        applies when the counter is created (a fixed window: it restarts once expired)."""

    @abstractmethod
    def count(self, key: str) -> int:
        """The counter's value; 0 when absent."""

    @abstractmethod
    def counts(self, keys: Sequence[str]) -> list[int]:
        """Several counters' values at one moment (0 for an absent one), in `keys`' order."""

    @abstractmethod
    def incr_many(self, changes: Mapping[str, int]) -> None:
        """Add to several counters (without a `ttl`) in one atomic step."""

    @abstractmethod
    def get(self, key: str, type: type[T]) -> T | None:
        """The value, decoded as `type`; None when absent or expired."""

    @abstractmethod
    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        """Store the value (replacing any), expiring after `ttl` seconds when given."""

    @abstractmethod
    def update(
        self,
        key: str,
        type: type[T],
        change: Callable[[T | None], T | None],
        ttl: float | None = None,
    ) -> T | None:
        """Read-modify-write in one atomic step: `change(old)` (None when absent) returns the
        new value, or None to delete the key; returns what `change` returned. `change` runs
        inside the store's lock or transaction: keep it short, and never call the store in it
        (besides through the same transaction)."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Forget the key; whether it was there."""

    @abstractmethod
    def keys(self) -> list[str]:
        """The live keys, least recently written first."""

    @abstractmethod
    def clear(self) -> None: ...

    @abstractmethod
    def __len__(self) -> int: ...


class Log(ABC):
    """An append-only list of records in sequence order, keeping the newest `capacity`.

    A writer reserves a sequence number first (`open`), then appends its record when it is
    complete: records list in reservation order, whenever they were appended. `reset` starts
    a new generation: records are dropped, and so is any record appended later under a
    sequence number reserved before the reset."""

    name: str
    capacity: int

    @abstractmethod
    def open(self) -> tuple[int, int]:
        """Reserve the next sequence number (1, 2, ...); returns it with the generation."""

    @abstractmethod
    def append(self, seq: int, record: object) -> None:
        """Add the record under a reserved number (dropped if reserved before a reset)."""

    @abstractmethod
    def records(self, type: type[T], after: int = 0) -> list[T]:
        """The newest `capacity` records with a sequence number above `after`, oldest first."""

    @abstractmethod
    def reset(self) -> int:
        """Drop every record; returns the new generation."""

    @property
    @abstractmethod
    def generation(self) -> int:
        """How often the log was reset."""

    @abstractmethod
    def __len__(self) -> int:
        """Records kept (at most `capacity`)."""


class Store(ABC):
    """Tables and logs by name, and transactions spanning them."""

    shared: bool  # other processes may change it: a worker re-reads what it caches

    @abstractmethod
    def table(self, name: str, capacity: int) -> Table:
        """The table `name`, bounded to `capacity` keys (the same object on every call)."""

    @abstractmethod
    def log(self, name: str, capacity: int) -> Log:
        """The log `name`, keeping its newest `capacity` records."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[object]:
        """Every table and log operation inside the block is one atomic step (nestable; an
        exception undoes the block where the backend can: SQLite rolls back)."""

    @abstractmethod
    def notify(self, topic: str) -> None:
        """Tell every process that what `topic` stands for changed (once the transaction in
        progress, if any, has committed)."""

    @abstractmethod
    def notices(self, topic: str) -> int:
        """A number that changes whenever `topic` is notified, read without a query: a process
        re-reads what it keeps of a rarely changed table only when this number moved."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's resources (files stay)."""


def check_capacity(name: str, capacity: int) -> None:
    if capacity < 1:
        raise ValueError(f"store {name!r}: capacity must be at least 1; got {capacity}")
