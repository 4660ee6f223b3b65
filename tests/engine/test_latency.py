"""Latency profiles: merging, seeded draws, schedules, realistic per-model profiles."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockserver.engine import latency
from mockserver.engine.latency import Pacing, draw, first_content_frame, merge, pacing, rng_for
from mockserver.engine.pipeline import answer
from mockserver.journal.journal import Entry
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.scenario import Distribution, LatencySpec, ScenarioSet, load_data
from mockserver.server_state import MockState
from mockserver.settings import Settings


def spec(**fields: Any) -> LatencySpec:
    return LatencySpec.model_validate(fields)


def test_merge_overlays_field_by_field() -> None:
    merged = merge(spec(ttft=0.5, tokens_per_second=50, jitter=0.01), None, spec(delay=0.1))
    assert merged == spec(ttft=0.5, tokens_per_second=50, jitter=0.01, delay=0.1)
    assert merge(None, None) is None


def test_a_later_rate_replaces_the_other_way_of_saying_it() -> None:
    merged = merge(spec(tokens_per_second=50), spec(chunk_interval=0.1))
    assert merged is not None
    assert (merged.tokens_per_second, merged.chunk_interval) == (None, 0.1)


def test_draws_are_seeded() -> None:
    lognormal = Distribution.model_validate({"lognormal": {"median": 0.5, "sigma": 0.4}})
    uniform = Distribution.model_validate({"uniform": [0.1, 0.2]})
    first = [draw(lognormal, rng_for("ab" * 20)) for _ in range(3)]
    assert first == [draw(lognormal, rng_for("ab" * 20)) for _ in range(3)]
    assert draw(lognormal, rng_for("cd" * 20)) != first[0]
    assert 0.1 <= draw(uniform, rng_for("ab" * 20)) <= 0.2
    assert draw(0.3, random.Random(0)) == 0.3 and draw(None, random.Random(0)) == 0.0


def test_pacing_takes_a_rate_or_an_interval() -> None:
    rng = random.Random(1)
    assert pacing(spec(ttft=0.2, tokens_per_second=50), rng) == Pacing(0, 0.2, 0.02, 0)
    assert pacing(spec(chunk_interval=0.1, tokens_per_second=50), rng).interval == 0.1
    assert pacing(None, rng) == latency.NO_PACING


def test_schedule_sends_the_lead_with_the_first_token_then_paces() -> None:
    schedule = Pacing(ttft=0.2, interval=0.02).schedule(6, 2, random.Random(0))
    assert schedule == pytest.approx([0.2, 0.2, 0.2, 0.22, 0.24, 0.26])
    assert Pacing(delay=1.0).schedule(6, 2, random.Random(0)) is None  # only a delay: no pacing


def test_a_steady_schedule_is_computed_once_and_draws_nothing() -> None:
    rng = random.Random(5)
    state = rng.getstate()
    first = Pacing(ttft=0.2, interval=0.02).schedule(52, 1, rng)
    assert Pacing(ttft=0.2, interval=0.02).schedule(52, 1, rng) is first
    assert rng.getstate() == state  # no jitter: the seeded draws that follow are unchanged
    assert first is not None and len(first) == 52 and first[:3] == (0.2, 0.2, 0.2 + 0.02)


def test_jitter_never_reorders_events() -> None:
    schedule = Pacing(ttft=0.1, interval=0.001, jitter=0.05).schedule(200, 0, random.Random(3))
    assert schedule is not None
    assert schedule == sorted(schedule)
    assert all(0.1 + i * 0.001 <= at for i, at in enumerate(schedule))


def test_body_wait_covers_the_whole_reply() -> None:
    assert Pacing(delay=0.1, ttft=0.2, interval=0.01).body_wait(30, random.Random(0)) == (
        pytest.approx(0.6)
    )


def test_realistic_profiles_cover_every_catalog_model() -> None:
    from mockserver.core.catalog import load_builtin

    for model in load_builtin().all():
        assert latency.realistic(model.id) is not None, model.id
    mini, big = latency.realistic("gpt-4o-mini"), latency.realistic("gpt-4o-2024-08-06")
    assert mini is not None and big is not None and mini != big
    reasoning = latency.realistic("o3")
    assert isinstance(reasoning and reasoning.ttft, Distribution)


STATE = MockState(
    Settings(),
    ScenarioSet.build(
        [
            load_data(
                {"version": 1, "rules": [{"name": "r", "reply": {"content": "Hi there, friend"}}]},
                "t.yaml",
            )
        ]
    ),
)
REQUESTS: list[tuple[Dialect, dict[str, Any], Inbound]] = [
    (
        STATE.dialects.chat,
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        Inbound("/v1/chat/completions", headers={"authorization": "Bearer sk-x"}),
    ),
    (
        STATE.dialects.anthropic,
        {
            "model": "claude-haiku-4-5",
            "max_tokens": 50,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
        Inbound("/v1/messages", headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}),
    ),
    (
        STATE.dialects.responses,
        {"model": "gpt-4o", "input": "hi", "stream": True},
        Inbound("/v1/responses", headers={"authorization": "Bearer sk-x"}),
    ),
    (
        STATE.dialects.gemini,
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        Inbound(
            "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
            headers={"x-goog-api-key": "k"},
            query={"alt": "sse"},
            path_params={"model": "gemini-2.0-flash:streamGenerateContent"},
        ),
    ),
]


@pytest.mark.parametrize(
    ("dialect", "body", "inbound"), REQUESTS, ids=lambda v: getattr(v, "name", "")
)
def test_first_content_frame_is_found_in_every_dialect(
    dialect: Dialect, body: dict[str, Any], inbound: Inbound
) -> None:
    exchange = dialect.parse(body, inbound)
    reply = answer(STATE, dialect, exchange, Entry(0, 0.0, "POST", inbound.path))
    frames = dialect.render_stream(reply, exchange)
    lead = first_content_frame(dialect, reply, exchange, frames)
    assert b"Hi" in frames[lead]
    assert not any(b'"Hi' in frame for frame in frames[:lead])
