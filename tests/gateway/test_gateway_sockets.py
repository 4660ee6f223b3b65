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


@pytest.mark.parametrize(
    ("key", "model", "status", "message"),
    [
        (
            "main",
            "gpt-realtime",
            503,
            "No available channel for model gpt-realtime under group default (distributor)",
        ),
        ("limited", "gpt-4o", 403, "This token has no access to model gpt-4o"),
        ("main", "", 400, "Model name not specified, model name cannot be empty"),
    ],
)
def test_the_model_in_the_query_is_checked_before_the_upgrade(
    server: ServerThread, key: str, model: str, status: int, message: str
) -> None:
    """new-api's distributor reads `?model=` on `/v1/realtime` and picks the channel there."""
    with pytest.raises(InvalidStatus) as refused:
        realtime(server, KEYS[key], model)
    assert refused.value.response.status_code == status
    body = json.loads(bytes(refused.value.response.body or b""))
    assert body["error"]["message"].startswith(message + " (request id: ")


def test_an_unknown_key_is_refused_with_the_gateways_error(server: ServerThread) -> None:
    with pytest.raises(InvalidStatus) as refused:
        realtime(server, "sk-unknown000000000000000000000000000000000000000", "gpt-4o-mini")
    assert refused.value.response.status_code == 401
    body = json.loads(bytes(refused.value.response.body or b""))
    assert body["error"]["type"] == "new_api_error"
