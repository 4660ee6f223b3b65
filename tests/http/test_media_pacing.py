"""A media rule's `latency:` (a recorded stream's timing) paces the image and audio answers:
the decision carries it as the latency mode applies it, and the answer's event stream or body
is scheduled by it (driven here without a server: the schedules, not the clock)."""

from __future__ import annotations

import pytest

from mockserver.engine.media import MediaDecision, decide_media
from mockserver.http.media import paced_body, paced_events
from mockserver.http.responses import Delayed, EventStream, RawResponse
from mockserver.journal.journal import Entry
from mockserver.scenario import ScenarioSet, load_data
from mockserver.server_state import MockState
from mockserver.settings import Settings

RULES = {
    "version": 1,
    "rules": [
        {
            "name": "spoken",
            "match": {"model": "gpt-4o-mini-tts"},
            "reply": {"content": "unused"},
            "latency": {"recorded": True, "ttft": 0.25, "chunk_interval": 0.05},
        },
        {
            "name": "slow-picture",
            "match": {"model": "gpt-image-1"},
            "reply": {"content": "A kite."},
            "latency": {"delay": 0.5},
        },
    ],
}


def decided(model: str, **settings: str) -> tuple[MediaDecision, Entry]:
    state = MockState(Settings(**settings), ScenarioSet.build([load_data(RULES, "t.yaml")]))
    entry = Entry(1, 0.0, "POST", "/v1/audio/speech")
    decision = decide_media(
        state,
        state.dialects.chat,
        entry,
        endpoint="/v1/audio/speech",
        model=model,
        prompt="Good morning.",
        body={},
        headers={},
    )
    return decision, entry


def test_recorded_timing_applies_only_with_latency_on() -> None:
    assert decided("gpt-4o-mini-tts")[0].latency is None
    paced = decided("gpt-4o-mini-tts", latency="recorded")[0].latency
    assert paced is not None and (paced.ttft, paced.chunk_interval) == (0.25, 0.05)
    assert decided("gpt-image-1")[0].latency is not None  # written by hand: always applies


def test_events_are_scheduled_from_the_first_one() -> None:
    decision, entry = decided("gpt-4o-mini-tts", latency="recorded")
    stream = paced_events([b"data: 1\n\n", b"data: 2\n\n", b"data: 3\n\n"], {}, decision, entry)
    assert isinstance(stream, EventStream)
    assert stream.schedule == pytest.approx([0.25, 0.30, 0.35])
    assert entry.stream and entry.events_sent == 3


def test_a_body_waits_for_the_whole_delay() -> None:
    decision, entry = decided("gpt-image-1")
    delayed = paced_body(RawResponse(b"{}", 200, {}), decision, entry)
    assert isinstance(delayed, Delayed) and delayed.delay == pytest.approx(0.5)
    unpaced, entry = decided("gpt-4o-mini-tts")
    plain = RawResponse(b"{}", 200, {})
    assert paced_body(plain, unpaced, entry) is plain
    assert paced_events([b"data: 1\n\n"], {}, unpaced, entry).schedule is None  # type: ignore[attr-defined]
