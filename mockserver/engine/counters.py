"""The engine's counters, on the store so that every worker counts the same requests.

- `occurrences`: retry group → how often it was seen (its occurrence number mints the reply's
  ids, and rolls chaos);
- `cursors`: (rule, conversation) → the next step of a `sequence`;
- `attempts`: (rule, retry group) → attempts so far, for `fail_times`;
- `buckets`: the rate limits' token buckets (`mockserver.gateway.ratelimit`).

Each table keeps `size` keys, the least recently counted forgotten first: a request whose
counter was forgotten counts from zero again (its ids repeat those of its first occurrence).
"""

from __future__ import annotations

from mockserver.store import MemoryStore, Store, Table

DEFAULT_SIZE = 10_000
SEPARATOR = "\x1f"  # between the parts of a key (a control character: not in names or digests)


class Counters:
    __slots__ = ("attempts", "buckets", "cursors", "occurrences")

    def __init__(self, store: Store | None = None, size: int = DEFAULT_SIZE) -> None:
        store = store if store is not None else MemoryStore()
        self.occurrences: Table = store.table("occurrences", size)
        self.cursors: Table = store.table("cursors", size)
        self.attempts: Table = store.table("attempts", size)
        self.buckets: Table = store.table("ratelimit", size)

    def clear(self) -> None:
        for table in (self.occurrences, self.cursors, self.attempts, self.buckets):
            table.clear()

    def next_occurrence(self, key: str) -> int:
        """Count one more occurrence of `key`; how often it was seen before (0 the first time)."""
        return self.occurrences.incr(key) - 1


def key_of(*parts: str) -> str:
    return SEPARATOR.join(parts)
