"""How to: talk to the Realtime API over its WebSocket with the openai SDK.

`websocket_base_url` is the server's `/v1` URL with `ws://` (the beta client needs it: it
would otherwise try `wss://`). The fixture's server stands in for `http://127.0.0.1:8000`.
"""

from __future__ import annotations

from openai import OpenAI

from mockserver.testing.handle import MockServer


def test_a_realtime_text_turn(mockserver: MockServer) -> None:
    mockserver.add_rule(name="hi", match={"last_user": "hello"}, reply={"content": "Hi there!"})
    url = mockserver.url.removeprefix("http://")  # `mockserver serve`: 127.0.0.1:8000
    client = OpenAI(
        base_url=f"http://{url}/v1", api_key="sk-mock", websocket_base_url=f"ws://{url}/v1"
    )
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        connection.conversation.item.create(item=item)  # type: ignore[arg-type]
        connection.response.create()
        for event in connection:
            if event.type == "response.done":
                break
    assert event.response.output[0].content[0].text == "Hi there!"  # type: ignore[union-attr]
