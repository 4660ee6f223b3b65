"""Prompt caching as the vendors count it, in the shared store (so every worker agrees).

A dialect names the prompt's cacheable prefixes (`Breakpoint`s: a digest of the prefix, its
length in tokens, how long it lives); `PromptCache.settle` looks them up and writes them:

    first request     -> the longest prefix is written: `cache_creation_tokens` (Anthropic)
    same prefix again -> the longest live prefix is read: `cached_tokens`

Time is the task clock (`MockServer.advance_clock`, `POST /mock/clock`), never the wall clock:
the same sequence of requests gives the same counts, and a test moves past a TTL by advancing
the clock instead of sleeping. A hit refreshes the prefix's TTL, as both vendors do.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Sequence

from msgspec import Struct, structs

from mockserver.core.reply import Usage
from mockserver.store.base import Table

CAPACITY = 4096  # prefixes kept (least recently used go first)
FIVE_MINUTES = 300.0
ONE_HOUR = 3600.0


class Breakpoint(Struct, frozen=True):
    """A cacheable prefix of the prompt: the first `tokens` tokens, identified by `digest`."""

    digest: str
    tokens: int
    ttl: float = FIVE_MINUTES


class CacheRequest(Struct, frozen=True):
    """What one request may read or write. `write` is False for vendors (OpenAI) that report
    no separate cache-write count; `scope` keeps models (and cache keys) apart."""

    scope: str
    breakpoints: tuple[Breakpoint, ...]
    write: bool = True


def prefix_breakpoints(
    model: str, segments: Sequence[list[int]], cacheable: Callable[[int], int], ttl: float
) -> tuple[Breakpoint, ...]:
    """Automatic caching (OpenAI's, Gemini's implicit one): a prefix ends after each segment
    (tools, then each message, as token lists), cut to `cacheable(length)` tokens (0: too short
    to cache). The digest covers the model and the prefix's tokens."""
    tokens: list[int] = []
    ends: set[int] = set()
    for segment in segments:
        tokens.extend(segment)
        ends.add(cacheable(len(tokens)))
    digest = hashlib.blake2b(model.encode(), digest_size=16)
    done = 0
    points: list[Breakpoint] = []
    for end in sorted(ends - {0}):
        digest.update(array("I", tokens[done:end]).tobytes())
        done = end
        points.append(Breakpoint(digest.hexdigest(), end, ttl))
    return tuple(points)


class PromptCache:
    def __init__(self, table: Table, now: Callable[[], float]) -> None:
        self.table = table
        self.now = now

    def settle(self, request: CacheRequest, usage: Usage) -> Usage:
        """`usage` with the cached (read) and written prompt tokens of this request, as a new
        object (a memoized reply's usage is shared). Every breakpoint is then stored live."""
        if not request.breakpoints:
            return usage
        now = self.now()
        read = 0
        for point in request.breakpoints:
            expiry = self.table.get(f"{request.scope}:{point.digest}", float)
            if expiry is not None and expiry > now:
                read = max(read, point.tokens)
        last = request.breakpoints[-1]
        written = written_1h = 0
        if request.write and last.tokens > read:
            written = last.tokens - read
            written_1h = written if last.ttl >= ONE_HOUR else 0
        for point in request.breakpoints:
            self.table.set(f"{request.scope}:{point.digest}", now + point.ttl)
        cap = usage.prompt_tokens
        read = min(read, cap)
        written = min(written, cap - read)
        return structs.replace(
            usage,
            cached_tokens=read,
            cache_creation_tokens=written,
            cache_creation_1h_tokens=min(written_1h, written),
        )

    def clear(self) -> None:
        self.table.clear()
