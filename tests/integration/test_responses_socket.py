"""The Responses API over a WebSocket, as Codex speaks it (a raw `websockets` client sending
`{"type": "response.create", …}` frames) and as the openai SDK's `client.responses.connect()`
does: the same events as the SSE stream, one JSON text frame each; `stream_id` echoed;
`previous_response_id` across frames; `generate: false`; errors as `error` events with the
HTTP status, the socket staying open."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import StartServer

RULES = """
version: 1
seed: 4
rules:
  - name: second-turn
    match: {last_user: {contains: again}}
    reply: {content: "{{ request.messages | length }} messages so far."}
  - name: greeting
    match: {last_user: {contains: hello}}
    reply: {content: "Hello there, how can I help?"}
"""
KEY = {"Authorization": "Bearer sk-test"}


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


def socket_url(server: Any) -> str:
    return server.url.replace("http://", "ws://") + "/v1/responses"


def until_finished(socket: ClientConnection) -> list[dict[str, Any]]:
    events = []
    while True:
        event = json.loads(socket.recv())
        events.append(event)
        if event["type"] in ("response.completed", "response.incomplete", "error"):
            return events


def sse_events(server: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream(
        "POST", server.url + "/v1/responses", json={**body, "stream": True}, headers=KEY
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    return [json.loads(line[6:]) for line in lines]


def test_frames_are_the_sse_streams_events(server: Any, start_server: StartServer) -> None:
    body = {"model": "gpt-5", "input": "hello"}
    with connect(socket_url(server), additional_headers=KEY) as socket:
        socket.send(json.dumps({"type": "response.create", **body}))
        frames = until_finished(socket)
    # A fresh server, so that the same occurrence gives the same ids.
    other = start_server(RULES)
    assert frames == sse_events(other, body)
    assert [f["sequence_number"] for f in frames] == list(range(len(frames)))
    assert frames[-1]["response"]["output"][0]["content"][0]["text"] == (
        "Hello there, how can I help?"
    )


def test_a_conversation_over_one_socket(server: Any) -> None:
    with connect(socket_url(server), additional_headers=KEY) as socket:
        socket.send(json.dumps({"type": "response.create", "model": "gpt-5", "input": "hello"}))
        first = until_finished(socket)[-1]["response"]
        socket.send(json.dumps({"type": "response.processed", "response_id": first["id"]}))
        follow_up = {
            "type": "response.create",
            "model": "gpt-5",
            "previous_response_id": first["id"],
            "input": [{"role": "user", "content": "and again"}],
            "stream_id": "lane-1",
        }
        socket.send(json.dumps(follow_up))
        second = until_finished(socket)
    assert {event["stream_id"] for event in second} == {"lane-1"}
    assert second[-1]["response"]["output"][0]["content"][0]["text"] == "3 messages so far."
    assert second[-1]["response"]["previous_response_id"] == first["id"]


def test_generate_false_prewarms_without_output(server: Any) -> None:
    with connect(socket_url(server), additional_headers=KEY) as socket:
        prewarm = {"type": "response.create", "model": "gpt-5", "input": "hello", "generate": False}
        socket.send(json.dumps(prewarm))
        events = until_finished(socket)
        assert [e["type"] for e in events] == [
            "response.created",
            "response.in_progress",
            "response.completed",
        ]
        done = events[-1]["response"]
        assert done["output"] == []
        assert done["usage"]["output_tokens"] == 0 and done["usage"]["input_tokens"] > 0
        socket.send(
            json.dumps(
                {
                    "type": "response.create",
                    "model": "gpt-5",
                    "previous_response_id": done["id"],
                    "input": "hello again",
                }
            )
        )
        answer = until_finished(socket)[-1]["response"]
    assert answer["output"][0]["content"][0]["text"] == "2 messages so far."


def test_errors_are_events_and_the_socket_stays_open(server: Any) -> None:
    with connect(socket_url(server), additional_headers=KEY) as socket:
        socket.send(json.dumps({"type": "response.create", "model": "gpt-5"}))
        missing = json.loads(socket.recv())
        assert missing["type"] == "error"
        assert missing["status"] == 400
        assert missing["error"]["param"] == "input"
        assert missing["error"]["code"] == "missing_required_parameter"
        too_hot = {"type": "response.create", "model": "gpt-4o", "input": "x", "temperature": 5}
        socket.send(json.dumps(too_hot))
        refused = json.loads(socket.recv())
        assert (refused["status"], refused["error"]["param"]) == (400, "temperature")
        socket.send("not json")
        assert json.loads(socket.recv())["status"] == 400
        socket.send(json.dumps({"type": "response.cancel"}))
        assert json.loads(socket.recv())["error"]["param"] == "type"
        socket.send(json.dumps({"type": "response.create", "model": "gpt-5", "input": "hello"}))
        assert until_finished(socket)[-1]["type"] == "response.completed"


def test_an_upgrade_without_a_key_is_refused(server: Any) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(socket_url(server))
    assert refused.value.response.status_code == 401


def test_the_sdks_socket_client(server: Any) -> None:
    client = openai.OpenAI(
        base_url=server.url + "/v1",
        api_key="sk-test",
        websocket_base_url=server.url.replace("http://", "ws://") + "/v1",
    )
    with client.responses.connect() as connection:
        connection.send({"type": "response.create", "model": "gpt-5", "input": "hello"})
        for event in connection:
            if event.type == "response.completed":
                assert event.response.output_text == "Hello there, how can I help?"
                break
    journaled = [
        e for e in server.app.state.mock.journal.entries() if e.endpoint == "/v1/responses"
    ]
    assert journaled[-1].rule == "greeting" and journaled[-1].stream
