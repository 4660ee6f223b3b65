"""Rate limits: requests- and tokens-per-minute buckets per API key and model.

    rate_limits:
      - {key: "sk-team-*", model: "gpt-4o*", rpm: 3, tpm: 10000}

The first entry whose `key` and `model` globs match (absent = any) governs a request; every
(entry, key, model) has its own pair of token buckets, full at start, refilled continuously
(`rpm / 60` requests per second). A request takes 1 from the request bucket and its requested
tokens — prompt tokens plus `max_tokens` when the request sets it, OpenAI's own estimate —
from the token bucket. Every response of a governed request carries the vendor's headers
(OpenAI `x-ratelimit-*`, Anthropic `anthropic-ratelimit-*`; Google sends none); a bucket that
can't cover the request refuses it with the vendor's 429 and a `retry-after` that says when
it will. Keys are matched, then hashed: they are never stored.

Buckets run on the monotonic clock, so the numbers depend on request timing (only); the
RFC 3339 reset times Anthropic sends count from the scenario's `clock`. They live in a table of
the server's store (`mockserver.engine.counters`), so every worker takes from the same buckets
(the monotonic clock is the machine's, the same in every process); each (entry, key, model)
is one key, read and written in one atomic `update`.
"""

from __future__ import annotations

import fnmatch
import math
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from msgspec import Struct

from mockserver.faults.presets import retry_headers
from mockserver.faults.vendor import key_id
from mockserver.store import MemoryStore, Table

if TYPE_CHECKING:
    from mockserver.scenario import RateLimit

BucketKind = Literal["requests", "tokens"]
WINDOW = 60.0  # seconds: limits are per minute
STARTED = "started"  # the key of the limiter's start time in its table


class Bucket(Struct):
    capacity: int
    level: float
    updated: float

    @property
    def rate(self) -> float:
        return self.capacity / WINDOW

    def refill(self, now: float) -> None:
        if now < self.updated:  # a state file from before the machine restarted: start full
            self.level = self.capacity
        self.level = min(self.capacity, self.level + max(0.0, now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Seconds until the bucket holds `amount` (inf when it never can)."""
        if amount > self.capacity:
            return math.inf
        return max(0.0, (amount - self.level) / self.rate)


class Reading(Struct, frozen=True):
    """One bucket after a request: what the headers report."""

    kind: BucketKind
    limit: int
    remaining: int
    reset: float  # seconds until the bucket is full again


class Refusal(Struct, frozen=True):
    kind: BucketKind
    limit: int
    used: int
    requested: int
    wait: float  # seconds until the bucket could cover the request (inf: never)


class Admission(Struct, frozen=True):
    """The verdict on one request: its buckets' readings, and the refusal if one said no."""

    readings: tuple[Reading, ...]
    refusal: Refusal | None
    elapsed: float  # seconds since the limiter started (for absolute reset times)


class RateLimiter:
    def __init__(
        self,
        limits: Sequence[RateLimit],
        clock: int,
        now: Callable[[], float] = time.monotonic,
        table: Table | None = None,
    ) -> None:
        self.limits = tuple(limits)
        self.clock = clock
        self._now = now
        self.table = table if table is not None else MemoryStore().table("ratelimit", 10_000)
        # When the limiter started, for Anthropic's absolute reset times: the first worker's.
        started = now()
        kept = self.table.update(STARTED, float, lambda old: started if old is None else old)
        self._started = started if kept is None else kept

    def __bool__(self) -> bool:
        return bool(self.limits)

    def reset(self) -> None:
        self.table.clear()

    def admit(self, key: str | None, model: str, tokens: int) -> Admission | None:
        """Take one request of `tokens` tokens from the buckets governing (key, model); None
        when no entry governs them. Nothing is taken from a refused request's buckets."""
        found = self._governing(key, model)
        if found is None:
            return None
        index, limit = found
        now = self._now()
        wanted: dict[BucketKind, int] = {"requests": 1, "tokens": tokens}
        verdict: list[tuple[tuple[Reading, ...], Refusal | None]] = []

        def take(old: dict[BucketKind, Bucket] | None) -> dict[BucketKind, Bucket]:
            buckets = _copied(old) or {
                kind: Bucket(cap, cap, now) for kind, cap in _capacities(limit)
            }
            verdict.append(_take(buckets, wanted, now))
            return buckets

        self.table.update(f"{index}\x1f{key_id(key)}\x1f{model}", dict[BucketKind, Bucket], take)
        readings, refusal = verdict[-1]
        return Admission(readings, refusal, now - self._started)

    def _governing(self, key: str | None, model: str) -> tuple[int, RateLimit] | None:
        for index, limit in enumerate(self.limits):
            if limit.key is not None and not fnmatch.fnmatchcase(key or "", limit.key):
                continue
            if limit.model is not None and not fnmatch.fnmatchcase(model, limit.model):
                continue
            return index, limit
        return None


def _take(
    buckets: dict[BucketKind, Bucket], wanted: dict[BucketKind, int], now: float
) -> tuple[tuple[Reading, ...], Refusal | None]:
    """Refill the buckets and take what the request wants, unless one can't cover it."""
    refusal = None
    for kind, bucket in buckets.items():
        bucket.refill(now)
        need = wanted[kind]
        if refusal is None and bucket.level < need:
            used = bucket.capacity - math.floor(bucket.level)
            refusal = Refusal(kind, bucket.capacity, used, need, bucket.wait_for(need))
    if refusal is None:
        for kind, bucket in buckets.items():
            bucket.level -= wanted[kind]
    readings = tuple(
        Reading(
            kind,
            bucket.capacity,
            max(0, math.floor(bucket.level)),
            (bucket.capacity - bucket.level) / bucket.rate,
        )
        for kind, bucket in buckets.items()
    )
    return readings, refusal


def _copied(state: dict[BucketKind, Bucket] | None) -> dict[BucketKind, Bucket] | None:
    """Buckets to change: a value read from the store is never changed in place."""
    if state is None:
        return None
    return {kind: Bucket(b.capacity, b.level, b.updated) for kind, b in state.items()}


def _capacities(limit: RateLimit) -> list[tuple[BucketKind, int]]:
    out: list[tuple[BucketKind, int]] = []
    if limit.rpm is not None:
        out.append(("requests", limit.rpm))
    if limit.tpm is not None:
        out.append(("tokens", limit.tpm))
    return out


# --- What the client sees ---------------------------------------------------------------------


def refusal_headers(admission: Admission) -> dict[str, str]:
    """`retry-after` for a refused request (the vendor's own rate-limit headers come from its
    dialect's `rate_limit_headers`)."""
    refusal = admission.refusal
    if refusal is None:
        return {}
    if math.isinf(refusal.wait):
        return {"x-should-retry": "false"}  # no wait makes a too-large request fit
    return retry_headers(refusal.wait)


def go_duration(seconds: float) -> str:
    """A duration as OpenAI's headers write it (Go's format): 0s, 12ms, 17.28s, 6m0s, 1h0m0s."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


def rfc3339(unix_seconds: float) -> str:
    """2025-01-01T00:00:20Z (rounded up to the second, as a reset time)."""
    moment = datetime.fromtimestamp(math.ceil(unix_seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
