"""The request journal: what came in, what matched, what went out.

A bounded ring (`collections.deque(maxlen=...)`), so a long `mockserver serve` session doesn't grow
without limit. API keys never reach it: `redact_headers` masks every credential header. Queries
over it (`requests(rule="weather").call_count`) live in `mockserver.journal.calls`.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from msgspec import Struct, field

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "api-key", "mj-api-secret", "cookie"}
)
_SECRET_RAW = frozenset(name.encode("latin-1") for name in SECRET_HEADERS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Credential headers keep only a hint of their shape: `Bearer sk-***`."""
    return {
        name: redact(value) if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


def redact_raw_headers(raw_headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """`redact_headers` for headers as ASGI gives them (names already lower-case).

    A client sends the same headers request after request: the decoded, redacted mapping of
    the latest few is kept (~0.5 µs instead of ~3 µs a request), and each entry gets a copy.
    """
    return dict(_redacted_raw(tuple(raw_headers)))


@functools.lru_cache(maxsize=256)
def _redacted_raw(raw_headers: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    return {
        name.decode("latin-1"): redact(value.decode("latin-1"))
        if name in _SECRET_RAW
        else value.decode("latin-1")
        for name, value in raw_headers
    }


def redact(value: str) -> str:
    scheme, _, secret = value.partition(" ")
    return f"{scheme} {secret[:3]}***" if secret else f"{value[:3]}***"


class Entry(Struct):
    """One request. Fields are filled in as the request advances through the pipeline."""

    seq: int
    at: float  # time.monotonic() when the request arrived
    method: str
    endpoint: str
    dialect: str | None = None
    model: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    rule: str | None = None
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    strict_miss: bool = False  # strict mode and no rule matched: the client got a 400
    fault: dict[str, Any] | None = None
    status: int | None = None
    usage: dict[str, int] | None = None
    stream: bool = False
    events_sent: int = 0
    disconnected: bool = False
    retry_group: str | None = None
    generation: int = 0
    # Gateway mode (mockserver.gateway): the key's name (never the key) and what was billed.
    key_name: str | None = None
    quota: int | None = None
    cost: float | None = None  # dollars (500,000 quota = $1)

    @property
    def unmatched(self) -> bool:
        """Matching ran and no rule held (rules exist, or strict mode said so)."""
        return self.rule is None and (self.strict_miss or bool(self.near_misses))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "endpoint": self.endpoint,
            "dialect": self.dialect,
            "model": self.model,
            "headers": self.headers,
            "body": self.body,
            "rule": self.rule,
            "near_misses": self.near_misses,
            "strict_miss": self.strict_miss,
            "fault": self.fault,
            "status": self.status,
            "usage": self.usage,
            "stream": self.stream,
            "events_sent": self.events_sent,
            "disconnected": self.disconnected,
            "retry_group": self.retry_group,
            "key_name": self.key_name,
            "quota": self.quota,
            "cost": self.cost,
        }


class Journal:
    """Thread-safe ring of entries. `reset()` starts a new generation: entries of requests that
    began before the reset are dropped even if they finish after it."""

    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1; got {size}")
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.generation = 0
        self.opened = 0  # entries ever opened, resets included: how busy the server has been

    def open(self, method: str, endpoint: str, headers: Mapping[str, str]) -> Entry:
        return self._add(method, endpoint, redact_headers(headers))

    def open_raw(
        self, method: str, endpoint: str, raw_headers: Iterable[tuple[bytes, bytes]]
    ) -> Entry:
        """`open` with the headers as ASGI gives them."""
        return self._add(method, endpoint, redact_raw_headers(raw_headers))

    def _add(self, method: str, endpoint: str, redacted: dict[str, str]) -> Entry:
        self.opened = seq = next(self._seq)
        entry = Entry(
            seq=seq,
            at=time.monotonic(),
            method=method,
            endpoint=endpoint,
            headers=redacted,
        )
        with self._lock:
            # Read under the lock: a reset between the two would otherwise let an entry of the
            # old generation land in the new one.
            entry.generation = self.generation
            self._entries.append(entry)
        return entry

    def reset(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def entries(self) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.generation == self.generation]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self.entries())
