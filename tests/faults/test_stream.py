"""Mid-stream faults: cuts on event boundaries that never let the final event through."""

from __future__ import annotations

import json

import pytest

from mockserver.faults import cut_body, cut_stream
from mockserver.faults.stream import DEFAULT_STALL, malformed
from mockserver.scenario import FaultSpec

FRAMES = [b'data: {"n": %d}\n\n' % i for i in range(5)] + [b"data: [DONE]\n\n"]


def error_frame(sent: int) -> bytes:
    return b'data: {"error": {"at": %d}}\n\n' % sent


def cut(**fault: object) -> tuple[list[bytes], str, int | None, float]:
    result = cut_stream(FRAMES, FaultSpec.model_validate(fault), error_frame)
    return result.frames, result.ending, result.at, result.stall_for


def test_disconnect_sends_n_events_then_aborts() -> None:
    assert cut(disconnect_after=2) == (FRAMES[:2], "abort", 2, 0.0)


def test_truncate_ends_cleanly_without_the_terminator() -> None:
    assert cut(truncate_after=3) == (FRAMES[:3], "complete", 3, 0.0)


def test_error_event_takes_the_place_of_the_rest() -> None:
    assert cut(error_event_after=1) == ([FRAMES[0], error_frame(1)], "complete", 1, 0.0)


def test_stall_is_bounded() -> None:
    assert cut(stall_after=4) == (FRAMES[:4], "stall", 4, DEFAULT_STALL)
    assert cut(stall_after=4, stall_for=0.5)[3] == 0.5


@pytest.mark.parametrize("key", ["disconnect_after", "truncate_after", "stall_after"])
def test_a_position_past_the_end_still_withholds_the_final_event(key: str) -> None:
    frames, _, at, _ = cut(**{key: 99})
    assert frames == FRAMES[:-1] and at == len(FRAMES) - 1


def test_error_past_the_end_replaces_the_terminator() -> None:
    frames, _, _, _ = cut(error_event_after=99)
    assert frames == [*FRAMES[:-1], error_frame(5)]


def test_malformed_event_keeps_the_rest_of_the_stream() -> None:
    frames, ending, at, _ = cut(malformed_event_at=1)
    assert ending == "complete" and at == 1
    assert frames[0] == FRAMES[0] and frames[2:] == FRAMES[2:]
    payload = frames[1].removeprefix(b"data: ").rstrip(b"\n")
    with pytest.raises(json.JSONDecodeError):
        json.loads(payload)
    assert frames[1].endswith(b"\n\n")


def test_malformed_combines_with_a_cut() -> None:
    frames, ending, _, _ = cut(malformed_event_at=0, disconnect_after=2)
    assert ending == "abort" and frames[0] == malformed(FRAMES[0]) and frames[1] == FRAMES[1]


def test_malformed_keeps_sse_framing_of_every_dialect() -> None:
    assert malformed(b'data: {"a": 1, "b": 2}\n\n') == b'data: {"a": 1,\n\n'
    named = b'event: message_delta\ndata: {"type": "x"}\n\n'
    assert malformed(named) == b'event: message_delta\ndata: {"type\n\n'
    assert malformed(b'data: {"x": 12}\r\n\r\n') == b'data: {"x"\r\n\r\n'
    assert malformed(b"data: [DONE]\n\n") == b"data: [DO\n\n"
    assert malformed(b'\r\n,\r\n{"a": 1}') == b"\r\n,\r\n{"  # a JSON-array stream's element


def test_body_cuts() -> None:
    body = b'{"id": "x", "choices": []}'
    half = body[: len(body) // 2]
    abort = cut_body(body, FaultSpec(disconnect_after=0))
    assert (abort.frames, abort.ending, abort.length) == ([half], "abort", len(body))
    stall = cut_body(body, FaultSpec(stall_after=1, stall_for=2))
    assert (stall.ending, stall.stall_for, stall.length) == ("stall", 2, len(body))
    for fault in (FaultSpec(truncate_after=1), FaultSpec(malformed_event_at=0)):
        short = cut_body(body, fault)
        assert (short.frames, short.ending, short.length) == ([half], "complete", len(half))
