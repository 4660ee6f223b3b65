"""Gemini's explicit caches without a server: names, expiry on the task clock, TTL parsing and
Google's errors."""

from __future__ import annotations

import pytest

from mockserver.core.exchange import Message
from mockserver.protocols.gemini import cached_contents as caches
from mockserver.protocols.gemini.errors import GeminiError
from mockserver.store import MemoryStore

EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z


class Clock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def registry(clock: Clock) -> caches.CachedContents:
    table = MemoryStore().table("gemini_caches", caches.CAPACITY)
    return caches.CachedContents(table, clock, lambda: EPOCH)


def cache(owner: str = "me", expires: float = 60.0) -> caches.CachedContent:
    return caches.CachedContent(
        name="",
        owner=owner,
        model="models/gemini-2.5-flash",
        created=0.0,
        updated=0.0,
        expires=expires,
        tokens=2048,
        messages=[Message("user", "handbook")],
    )


def test_names_are_deterministic_and_distinct() -> None:
    first, second = registry(Clock()), registry(Clock())
    a, b = first.create(cache()), first.create(cache())
    assert a.name.startswith("cachedContents/") and len(a.name) == len("cachedContents/") + 12
    assert a.name != b.name
    assert second.create(cache()).name == a.name  # the same requests make the same names


def test_a_cache_expires_and_belongs_to_its_owner() -> None:
    clock = Clock()
    kept = registry(clock)
    made = kept.create(cache(expires=60.0))
    assert kept.get(made.name, "me").tokens == 2048
    assert kept.get(made.name.removeprefix("cachedContents/"), "me") is not None
    with pytest.raises(GeminiError) as other:
        kept.get(made.name, "someone else")
    assert (other.value.status, other.value.message) == (403, caches.NOT_FOUND)
    clock.seconds = 60.0
    with pytest.raises(GeminiError):
        kept.get(made.name, "me")
    assert kept.listed("me") == []


def test_render_shows_times_from_the_scenario_clock() -> None:
    clock = Clock()
    kept = registry(clock)
    made = kept.create(cache(expires=90.5))
    body = kept.render(made)
    assert body["createTime"] == "2025-01-01T00:00:00.000000Z"
    assert body["expireTime"] == "2025-01-01T00:01:30.500000Z"
    assert body["usageMetadata"] == {"totalTokenCount": 2048}
    assert kept.clock_seconds("2025-01-01T00:10:00Z", "expire_time") == 600.0


@pytest.mark.parametrize(("ttl", "seconds"), [("300s", 300.0), ("1.5s", 1.5), ("0s", 0.0)])
def test_ttl_durations(ttl: str, seconds: float) -> None:
    assert caches.ttl_seconds(ttl) == seconds


@pytest.mark.parametrize("ttl", ["300", "5m", 300, "-1s"])
def test_bad_ttls_are_googles_400(ttl: object) -> None:
    with pytest.raises(GeminiError) as raised:
        caches.ttl_seconds(ttl)
    assert raised.value.status == 400


def test_expiry_takes_one_of_ttl_or_expire_time() -> None:
    clock = Clock()
    clock.seconds = 10.0
    kept = registry(clock)
    assert caches.expiry({"ttl": "50s"}, kept, None) == 60.0
    assert caches.expiry({"expireTime": "2025-01-01T00:02:00Z"}, kept, None) == 120.0
    assert caches.expiry({}, kept, caches.DEFAULT_TTL) == 10.0 + 3600.0
    with pytest.raises(GeminiError, match="Only one of ttl or expire_time"):
        caches.expiry({"ttl": "5s", "expireTime": "2025-01-01T00:02:00Z"}, kept, None)
    with pytest.raises(GeminiError, match="Either ttl or expire_time"):
        caches.expiry({}, kept, None)
