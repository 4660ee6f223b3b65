"""Gateway mode on the WebSocket routes: the gateway's own refusal of an upgrade, and each
realtime response admitted and billed like a streamed chat request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.gateway.gateway_scenario import KEYS, REPLY, SCENARIO

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server(SCENARIO)


def realtime(server: ServerThread, key: str, model: str) -> ClientConnection:
    url = server.url.replace("http://", "ws://") + f"/v1/realtime?model={model}"
    return connect(url, subprotocols=["realtime", f"openai-insecure-api-key.{key}"])  # type: ignore[list-item]


def ask(socket: ClientConnection, text: str) -> list[dict[str, object]]:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    socket.send(json.dumps({"type": "conversation.item.create", "item": item}))
    socket.recv()
    socket.recv()
    socket.send(
        json.dumps({"type": "response.create", "response": {"output_modalities": ["text"]}})
    )
    events = []
    while True:
        event = json.loads(socket.recv())
        events.append(event)
        if event["type"] in ("response.done", "error"):
            return events


def test_a_realtime_response_is_billed(server: ServerThread) -> None:
    with realtime(server, KEYS["main"], "gpt-4o-mini") as socket:
        assert json.loads(socket.recv())["type"] == "session.created"
        done = ask(socket, "hello")[-1]
    assert done["type"] == "response.done"
    output = done["response"]["output"]  # type: ignore[index]
    assert output[0]["content"][0]["text"] == REPLY
    entry = next(
        e
        for e in reversed(server.app.state.mock.journal.entries())
        if e.dialect == "openai.realtime"
    )
    assert entry.key_name == "main"
    assert entry.quota is not None and entry.quota > 0


def test_a_model_without_a_channel_is_an_error_event(server: ServerThread) -> None:
    with realtime(server, KEYS["main"], "gpt-realtime") as socket:
        socket.recv()
        refused = ask(socket, "hello")[-1]
        assert refused["type"] == "error"
        assert "No available channel" in refused["error"]["message"]  # type: ignore[index]
        socket.send(json.dumps({"type": "input_audio_buffer.clear"}))
        assert json.loads(socket.recv())["type"] == "input_audio_buffer.cleared"


def test_an_unknown_key_is_refused_with_the_gateways_error(server: ServerThread) -> None:
    with pytest.raises(InvalidStatus) as refused:
        realtime(server, "sk-unknown000000000000000000000000000000000000000", "gpt-4o-mini")
    assert refused.value.response.status_code == 401
    body = json.loads(bytes(refused.value.response.body or b""))
    assert body["error"]["type"] == "new_api_error"
