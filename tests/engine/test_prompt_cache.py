from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.core.reply import Usage
from mockserver.engine.prompt_cache import (
    ONE_HOUR,
    Breakpoint,
    CacheRequest,
    PromptCache,
)
from mockserver.store.base import Store
from mockserver.store.memory import MemoryStore
from mockserver.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


SYSTEM = Breakpoint("system", 1200)
CONVERSATION = Breakpoint("conversation", 2000)
PROMPT = Usage(prompt_tokens=2100, completion_tokens=10)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "state.db")


def caching(store: Store, clock: Clock) -> PromptCache:
    return PromptCache(store.table("prompt_cache", 64), clock)


def test_first_sight_writes_then_a_repeat_reads(store: Store) -> None:
    cache = caching(store, Clock())
    request = CacheRequest("org", (SYSTEM, CONVERSATION))

    first = cache.settle(request, PROMPT)
    second = cache.settle(request, PROMPT)

    assert (first.cached_tokens, first.cache_creation_tokens) == (0, 2000)
    assert (second.cached_tokens, second.cache_creation_tokens) == (2000, 0)
    assert PROMPT.cached_tokens == 0  # the shared usage is left alone


def test_a_longer_conversation_reads_the_shared_prefix_and_writes_the_rest(store: Store) -> None:
    cache = caching(store, Clock())
    cache.settle(CacheRequest("org", (SYSTEM,)), PROMPT)

    usage = cache.settle(CacheRequest("org", (SYSTEM, CONVERSATION)), PROMPT)

    assert (usage.cached_tokens, usage.cache_creation_tokens) == (1200, 800)


def test_the_ttl_runs_on_the_clock_and_a_hit_refreshes_it(store: Store) -> None:
    clock = Clock()
    cache = caching(store, clock)
    request = CacheRequest("org", (SYSTEM,))
    cache.settle(request, PROMPT)

    clock.now = 299
    assert cache.settle(request, PROMPT).cached_tokens == 1200  # refreshed until 599
    clock.now = 598
    assert cache.settle(request, PROMPT).cached_tokens == 1200
    clock.now = 900
    assert cache.settle(request, PROMPT).cached_tokens == 0


def test_one_hour_writes_are_counted_apart(store: Store) -> None:
    clock = Clock()
    cache = caching(store, clock)
    request = CacheRequest("org", (Breakpoint("system", 1200, ONE_HOUR),))

    written = cache.settle(request, PROMPT)
    clock.now = 3000

    assert written.cache_creation_1h_tokens == 1200
    assert cache.settle(request, PROMPT).cached_tokens == 1200


def test_scopes_and_read_only_vendors(store: Store) -> None:
    cache = caching(store, Clock())
    cache.settle(CacheRequest("org-a", (SYSTEM,), write=False), PROMPT)

    other = cache.settle(CacheRequest("org-b", (SYSTEM,), write=False), PROMPT)
    same = cache.settle(CacheRequest("org-a", (SYSTEM,), write=False), PROMPT)

    assert (other.cached_tokens, other.cache_creation_tokens) == (0, 0)
    assert same.cached_tokens == 1200


def test_counts_never_exceed_the_prompt(store: Store) -> None:
    cache = caching(store, Clock())
    request = CacheRequest("org", (Breakpoint("huge", 5000),))

    assert cache.settle(request, PROMPT).cache_creation_tokens == 2100
    assert cache.settle(request, PROMPT).cached_tokens == 2100
