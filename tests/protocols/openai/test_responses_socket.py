"""The Responses socket's framing: client frames read, SSE events turned into text frames."""

from __future__ import annotations

import json

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.openai import responses_socket


def test_a_create_frame_is_the_http_body_streamed() -> None:
    frame = {"type": "response.create", "model": "gpt-5", "input": "hi", "stream_id": "s1"}
    request = responses_socket.read_event(json.dumps(frame))
    assert request is not None
    assert request.body == {"model": "gpt-5", "input": "hi", "stream": True}
    assert request.stream_id == "s1"


def test_acknowledgements_are_answered_with_nothing() -> None:
    assert responses_socket.read_event('{"type": "response.processed", "response_id": "r"}') is None


@pytest.mark.parametrize("text", ["{", "[1]", '{"type": "response.cancel"}'])
def test_anything_else_is_an_error(text: str) -> None:
    with pytest.raises(APIError) as raised:
        responses_socket.read_event(text)
    assert raised.value.status == 400


def test_sse_events_become_frames_with_the_lane() -> None:
    stream = b'event: a\ndata: {"type":"a","sequence_number":0}\n\nevent: b\ndata: {"type":"b"}\n\n'
    frames = responses_socket.events_of_stream(stream, "lane")
    assert [json.loads(f) for f in frames] == [
        {"type": "a", "sequence_number": 0, "stream_id": "lane"},
        {"type": "b", "stream_id": "lane"},
    ]
    assert responses_socket.events_of_stream(stream, None)[1] == b'{"type":"b"}'


def test_an_http_error_becomes_an_error_event_with_its_status() -> None:
    body = b'{"error":{"message":"m","type":"invalid_request_error","param":"x","code":null}}'
    event = json.loads(responses_socket.error_event(429, body, None))
    assert event == {
        "type": "error",
        "status": 429,
        "error": {"message": "m", "type": "invalid_request_error", "param": "x", "code": None},
    }
