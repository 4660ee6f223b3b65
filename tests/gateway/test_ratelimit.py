"""Rate-limit buckets on a fake clock, and the headers and 429s each vendor sends."""

from __future__ import annotations

import math

import pytest

from mockserver.core.errors import APIError
from mockserver.gateway.ratelimit import (
    Admission,
    RateLimiter,
    Refusal,
    go_duration,
    refusal_headers,
    rfc3339,
)
from mockserver.protocols.anthropic.messages import AnthropicDialect
from mockserver.protocols.dialect import Dialect
from mockserver.protocols.gemini.generate import GeminiDialect
from mockserver.protocols.openai.chat import ChatDialect
from mockserver.scenario import RateLimit

DIALECTS: dict[str, Dialect] = {
    "openai": ChatDialect(),
    "anthropic": AnthropicDialect(),
    "gemini": GeminiDialect(),
}


def headers(admission: Admission, vendor: str, clock: int) -> dict[str, str]:
    """What a response of a limited key carries: the vendor's headers and `retry-after`."""
    return {
        **DIALECTS[vendor].rate_limit_headers(admission, clock),
        **refusal_headers(admission),
    }


def refusal_error(refusal: Refusal | None, vendor: str, model: str, key: str) -> APIError:
    assert refusal is not None
    return DIALECTS[vendor].rate_limit_error(refusal, model, key)


CLOCK = 1735689600  # 2025-01-01T00:00:00Z


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(*limits: RateLimit) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(limits, CLOCK, now=clock), clock


def admit(rl: RateLimiter, tokens: int = 10, key: str = "sk-a", model: str = "gpt-4o") -> Admission:
    admission = rl.admit(key, model, tokens)
    assert admission is not None
    return admission


def test_requests_bucket_counts_down_then_refuses() -> None:
    rl, _ = limiter(RateLimit(rpm=3))
    remaining = [admit(rl).readings[0].remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    refused = admit(rl)
    assert refused.refusal is not None
    assert (refused.refusal.kind, refused.refusal.limit, refused.refusal.used) == ("requests", 3, 3)
    assert refused.refusal.wait == pytest.approx(20.0)  # one request back every 60 / 3 s


def test_buckets_refill_continuously() -> None:
    rl, clock = limiter(RateLimit(rpm=3))
    for _ in range(3):
        admit(rl)
    clock.now += 10
    assert admit(rl).refusal is not None  # half a request back
    clock.now += 10.001
    assert admit(rl).refusal is None
    assert admit(rl).refusal is not None


def test_a_refused_request_takes_nothing() -> None:
    rl, _ = limiter(RateLimit(rpm=10, tpm=100))
    assert admit(rl, tokens=90).refusal is None
    refused = admit(rl, tokens=20)
    assert refused.refusal is not None and refused.refusal.kind == "tokens"
    assert refused.refusal.used == 90 and refused.refusal.requested == 20
    assert [r.remaining for r in refused.readings] == [9, 10]
    assert admit(rl, tokens=10).refusal is None


def test_a_request_larger_than_the_limit_never_fits() -> None:
    rl, _ = limiter(RateLimit(tpm=100))
    refused = admit(rl, tokens=101)
    assert refused.refusal is not None and math.isinf(refused.refusal.wait)
    error = refusal_error(refused.refusal, "openai", "gpt-4o", "sk-a")
    assert "Request too large for gpt-4o" in error.message
    assert headers(refused, "openai", CLOCK)["x-should-retry"] == "false"


def test_buckets_are_per_key_and_model_and_entries_by_glob() -> None:
    rl, _ = limiter(RateLimit(key="sk-team-*", model="gpt-4o*", rpm=1), RateLimit(rpm=5))
    assert admit(rl, key="sk-team-1").readings[0].limit == 1
    assert admit(rl, key="sk-team-1").refusal is not None
    assert admit(rl, key="sk-team-2").refusal is None
    assert admit(rl, key="sk-team-1", model="gpt-4o-mini").refusal is None
    assert admit(rl, key="sk-other").readings[0].limit == 5
    assert RateLimiter([RateLimit(model="claude-*", rpm=1)], CLOCK).admit("k", "gpt-4o", 1) is None


def test_keys_are_hashed_in_the_bucket_table() -> None:
    rl, _ = limiter(RateLimit(rpm=5))
    admit(rl, key="sk-secret-key")
    keys = rl.table.keys()
    assert len(keys) == 2  # the start time, and the key's buckets
    assert not any("sk-secret-key" in key for key in keys)


def test_reset_refills_everything() -> None:
    rl, _ = limiter(RateLimit(rpm=1))
    admit(rl)
    rl.reset()
    assert admit(rl).refusal is None


def test_openai_headers_add_up() -> None:
    rl, _ = limiter(RateLimit(rpm=60, tpm=1000))
    admission = admit(rl, tokens=250)
    assert headers(admission, "openai", CLOCK) == {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "750",
        "x-ratelimit-reset-tokens": "15s",
    }


def test_anthropic_headers_use_rfc3339_from_the_scenario_clock() -> None:
    rl, clock = limiter(RateLimit(rpm=60, tpm=1000))
    clock.now += 5  # five seconds after the limiter started
    got = headers(admit(rl, tokens=250), "anthropic", CLOCK)
    assert got["anthropic-ratelimit-requests-limit"] == "60"
    assert got["anthropic-ratelimit-requests-remaining"] == "59"
    assert got["anthropic-ratelimit-requests-reset"] == "2025-01-01T00:00:06Z"
    for family in ("tokens", "input-tokens", "output-tokens"):
        assert got[f"anthropic-ratelimit-{family}-remaining"] == "750"
        assert got[f"anthropic-ratelimit-{family}-reset"] == "2025-01-01T00:00:20Z"


def test_gemini_sends_no_rate_limit_headers_but_a_retry_after_on_refusal() -> None:
    rl, _ = limiter(RateLimit(rpm=1))
    assert headers(admit(rl), "gemini", CLOCK) == {}
    refused = admit(rl)
    assert headers(refused, "gemini", CLOCK) == {"retry-after": "60", "retry-after-ms": "60000"}
    assert refused.refusal is not None
    error = refusal_error(refused.refusal, "gemini", "gemini-2.0-flash", "k")
    assert (error.status, error.message) == (429, "Resource has been exhausted (e.g. check quota).")


def test_vendor_429_words() -> None:
    rl, _ = limiter(RateLimit(rpm=2))
    admit(rl)
    admit(rl)
    refusal = admit(rl).refusal
    assert refusal is not None
    openai = refusal_error(refusal, "openai", "gpt-4o", "sk-a")
    assert (openai.status, openai.type, openai.code) == (429, "requests", "rate_limit_exceeded")
    assert openai.message.startswith("Rate limit reached for gpt-4o in organization org-")
    assert "(RPM): Limit 2, Used 2, Requested 1. Please try again in 30s." in openai.message
    anthropic = refusal_error(refusal, "anthropic", "claude", "sk-a")
    assert anthropic.type == "rate_limit_error"
    assert "of 2 requests per minute" in anthropic.message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.0121, "13ms"),
        (1, "1s"),
        (17.28, "17.28s"),
        (360, "6m0s"),
        (3725.5, "1h2m5.5s"),
    ],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_rfc3339_rounds_up() -> None:
    assert rfc3339(CLOCK + 0.2) == "2025-01-01T00:00:01Z"
