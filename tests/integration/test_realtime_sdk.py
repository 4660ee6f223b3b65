"""The Realtime API through the official `openai` SDK's realtime clients (GA `client.realtime`
and beta `client.beta.realtime`, sync and async): session events, text and spoken answers from
scenario rules, a function call round trip, committed audio, errors that leave the session
open, the browser's subprotocol key, the journal, and the same events on every run."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import openai
import pytest
import tiktoken
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from mockserver.media.audio import synthesize
from mockserver.media.recipes import SpeechRecipe
from tests.conftest import StartServer

RULES = """
version: 1
seed: 11
rules:
  - name: weather-call
    match: {last_user: {regex: "weather in (?P<city>[A-Z][a-z]+)"}, tools: [get_weather], turn: 0}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: "{{ match.city }}"}}
  - name: weather-answer
    match: {tool_result: {name: get_weather}}
    reply: {content: "It is 18 degrees in Paris."}
  - name: greeting
    match: {last_user: {contains: hello}}
    reply: {content: "Hello there, how can I help?"}
  - name: overloaded
    match: {last_user: {contains: overload}}
    fault: {status: 429}
"""
GREETING = "Hello there, how can I help?"
WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


def ws_url(server: Any) -> str:
    return server.url.replace("http://", "ws://") + "/v1"


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=server.url + "/v1", api_key="sk-test", websocket_base_url=ws_url(server)
    )


@pytest.fixture
def async_client(server: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=server.url + "/v1", api_key="sk-test", websocket_base_url=ws_url(server)
    )


def user_text(text: str) -> Any:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def until_done(connection: Any) -> list[Any]:
    """Every event up to `response.done` (or an error)."""
    events = []
    while True:
        event = connection.recv()
        events.append(event)
        if event.type in ("response.done", "error"):
            return events


def prompt_tokens(encoding: tiktoken.Encoding, text: str) -> int:
    # OpenAI's chat framing: 3 per message, the role, the text, 3 to prime the reply.
    return 3 + len(encoding.encode("user")) + len(encoding.encode(text)) + 3


def test_ga_text_session_in_order(
    client: openai.OpenAI, reference: dict[str, tiktoken.Encoding]
) -> None:
    encoding = reference["o200k_base"]
    with client.realtime.connect(model="gpt-realtime") as connection:
        created = connection.recv()
        assert created.type == "session.created"
        assert created.session.type == "realtime"
        assert created.session.id.startswith("sess_")
        assert created.session.audio.output.voice == "alloy"
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        updated = connection.recv()
        assert updated.type == "session.updated"
        assert updated.session.output_modalities == ["text"]
        connection.conversation.item.create(item=user_text("hello"))
        added, done = connection.recv(), connection.recv()
        assert (added.type, done.type) == ("conversation.item.added", "conversation.item.done")
        assert added.previous_item_id is None
        connection.response.create()
        events = until_done(connection)
    types = [event.type for event in events]
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert types[:4] == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
    ]
    assert types[-5:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    assert len(deltas) > 1 and "".join(deltas) == GREETING
    response = events[-1].response
    assert response.status == "completed"
    assert response.output[0].content[0].type == "output_text"
    assert response.output[0].content[0].text == GREETING
    assert response.conversation_id.startswith("conv_")
    usage = response.usage
    assert usage.input_tokens == prompt_tokens(encoding, "hello")
    assert usage.output_tokens == len(encoding.encode(GREETING))
    assert usage.output_token_details.audio_tokens == 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    ids = [event.event_id for event in events]
    assert len(set(ids)) == len(ids)


async def test_ga_audio_answer_async(async_client: openai.AsyncOpenAI) -> None:
    async with async_client.realtime.connect(model="gpt-realtime") as connection:
        assert (await connection.recv()).type == "session.created"
        await connection.conversation.item.create(item=user_text("hello"))
        await connection.recv()
        await connection.recv()
        await connection.response.create()
        events = []
        async for event in connection:
            events.append(event)
            if event.type == "response.done":
                break
    audio = b"".join(
        base64.b64decode(e.delta) for e in events if e.type == "response.output_audio.delta"
    )
    transcript = "".join(
        e.delta for e in events if e.type == "response.output_audio_transcript.delta"
    )
    assert transcript == GREETING
    spoken = synthesize(SpeechRecipe(seed=0, text=GREETING, voice="alloy", format="pcm"))
    assert audio == spoken  # pcm16 at 24 kHz, as /v1/audio/speech speaks it
    done = events[-1].response
    assert done.output[0].content[0].type == "output_audio"
    assert done.output[0].content[0].transcript == GREETING
    assert done.output[0].content[0].audio is None  # response.done leaves the audio out
    seconds = len(audio) / 48_000
    assert done.usage.output_token_details.audio_tokens == round(seconds * 10)
    types = [event.type for event in events]
    assert types.index("response.output_audio.done") < types.index(
        "response.output_audio_transcript.done"
    )


def test_beta_client_gets_the_beta_names(client: openai.OpenAI) -> None:
    with client.beta.realtime.connect(model="gpt-4o-realtime-preview") as connection:
        created = connection.recv()
        assert created.session.modalities == ["text", "audio"]
        assert created.session.input_audio_format == "pcm16"
        connection.session.update(session={"voice": "echo"})
        assert connection.recv().session.voice == "echo"
        connection.conversation.item.create(item=user_text("hello"))
        assert connection.recv().type == "conversation.item.created"
        connection.response.create()
        events = until_done(connection)
    types = {event.type for event in events}
    assert {"response.audio.delta", "response.audio_transcript.delta"} <= types
    assert "response.output_audio.delta" not in types
    assert events[-1].response.output[0].content[0].type == "audio"
    audio = b"".join(base64.b64decode(e.delta) for e in events if e.type == "response.audio.delta")
    assert audio == synthesize(SpeechRecipe(seed=0, text=GREETING, voice="echo", format="pcm"))


def test_function_call_round_trip(client: openai.OpenAI) -> None:
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.recv()
        connection.session.update(
            session={"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER_TOOL]}
        )
        connection.recv()
        connection.conversation.item.create(item=user_text("What is the weather in Paris?"))
        connection.recv()
        connection.recv()
        connection.response.create()
        events = until_done(connection)
        call = events[-1].response.output[0]
        assert call.type == "function_call"
        assert call.name == "get_weather"
        assert json.loads(call.arguments) == {"city": "Paris"}
        deltas = [e for e in events if e.type == "response.function_call_arguments.delta"]
        assert "".join(e.delta for e in deltas) == call.arguments
        assert all(e.call_id == call.call_id for e in deltas)
        finished = next(e for e in events if e.type == "response.function_call_arguments.done")
        assert (finished.name, finished.arguments) == ("get_weather", call.arguments)
        connection.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": '{"c": 18}'}
        )
        added = connection.recv()
        assert added.previous_item_id == call.id
        connection.recv()
        connection.response.create()
        answer = until_done(connection)[-1].response
    assert answer.output[0].content[0].text == "It is 18 degrees in Paris."


def test_committed_audio_is_counted_by_its_duration(client: openai.OpenAI) -> None:
    second = base64.b64encode(bytes(48_000)).decode()  # 1 s of pcm16 silence at 24 kHz
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.recv()
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        connection.recv()
        connection.input_audio_buffer.append(audio=second)
        connection.input_audio_buffer.append(audio=second)
        connection.input_audio_buffer.commit()
        committed = connection.recv()
        assert committed.type == "input_audio_buffer.committed"
        item = connection.recv().item
        assert item.id == committed.item_id
        assert item.content[0].type == "input_audio"
        connection.recv()
        connection.input_audio_buffer.commit()  # nothing left in the buffer
        refused = connection.recv()
        assert refused.type == "error"
        assert refused.error.code == "input_audio_buffer_commit_empty"
        connection.input_audio_buffer.append(audio=second)
        connection.input_audio_buffer.clear()
        assert connection.recv().type == "input_audio_buffer.cleared"
        connection.response.create()
        usage = until_done(connection)[-1].response.usage
    assert usage.input_token_details.audio_tokens == 20
    assert usage.input_tokens == usage.input_token_details.text_tokens + 20


def test_bad_events_get_error_events_and_the_session_goes_on(client: openai.OpenAI) -> None:
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.recv()
        connection.send({"type": "no.such.event", "event_id": "evt_1"})  # type: ignore[typeddict-item]
        unknown = connection.recv()
        assert unknown.type == "error"
        assert unknown.error.type == "invalid_request_error"
        assert unknown.error.param == "type"
        assert unknown.error.event_id == "evt_1"
        connection.conversation.item.create(item={"type": "message", "role": "robot"})  # type: ignore[typeddict-item]
        assert connection.recv().error.param == "item.role"
        connection.session.update(session={"output_modalities": ["text"]})  # type: ignore[typeddict-item]
        assert connection.recv().error.code == "missing_required_parameter"
        connection.conversation.item.delete(item_id="item_missing")
        assert connection.recv().error.code == "item_not_found"
        connection.response.cancel()
        assert connection.recv().error.code == "response_cancel_not_active"
        connection.conversation.item.create(item=user_text("please overload"))
        connection.recv()
        connection.recv()
        connection.response.create()
        limited = connection.recv()
        assert limited.type == "error"
        assert limited.error.type == "requests"  # the scripted 429's own words
        connection.conversation.item.create(item=user_text("hello"))
        connection.recv()
        connection.recv()
        connection.response.create()
        assert until_done(connection)[-1].response.status == "completed"


def test_subprotocol_key_as_browsers_send_it(server: Any) -> None:
    url = ws_url(server) + "/realtime?model=gpt-realtime"
    protocols = ["realtime", "openai-insecure-api-key.sk-browser-key-0123456789"]
    with connect(url, subprotocols=protocols) as socket:  # type: ignore[arg-type]
        assert socket.subprotocol == "realtime"
        assert json.loads(socket.recv())["type"] == "session.created"
    entry = server.app.state.mock.journal.entries()[-1]
    assert entry.endpoint == "/v1/realtime"
    assert "sk-browser-key-0123456789" not in json.dumps(entry.to_dict())


def test_an_upgrade_without_a_key_is_refused_with_the_api_error(server: Any) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(server) + "/realtime?model=gpt-realtime")
    assert refused.value.response.status_code == 401
    body = json.loads(bytes(refused.value.response.body or b""))
    assert body["error"]["type"] == "invalid_request_error"
    assert "You didn't provide an API key" in body["error"]["message"]


def test_each_response_is_journaled(client: openai.OpenAI, server: Any) -> None:
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.recv()
        connection.conversation.item.create(item=user_text("hello"))
        connection.recv()
        connection.recv()
        connection.response.create()
        done = until_done(connection)[-1].response
    entries = [e for e in server.app.state.mock.journal.entries() if e.endpoint == "/v1/realtime"]
    answered = [e for e in entries if e.dialect == "openai.realtime"]
    assert len(answered) == 1
    assert answered[0].rule == "greeting"
    assert answered[0].status == 200
    assert answered[0].usage["completion_tokens"] == done.usage.output_tokens
    session = [e for e in entries if e.dialect == "openai.realtime.session"]
    assert session and session[0].status == 101


def conversation(client: openai.OpenAI) -> list[str]:
    frames = []
    with client.realtime.connect(model="gpt-realtime") as connection:
        frames.append(connection.recv().to_json())
        connection.conversation.item.create(item=user_text("hello"))
        frames.append(connection.recv().to_json())
        frames.append(connection.recv().to_json())
        connection.response.create()
        frames.extend(event.to_json() for event in until_done(connection))
    return frames


def test_the_same_session_is_the_same_on_a_new_server(start_server: StartServer) -> None:
    runs = []
    for _ in range(2):
        server = start_server(RULES)
        made = openai.OpenAI(
            base_url=server.url + "/v1", api_key="sk-test", websocket_base_url=ws_url(server)
        )
        runs.append(conversation(made))
    assert runs[0] == runs[1]


def test_the_copyable_scenario(start_server: StartServer) -> None:
    server = start_server(Path(__file__).parents[2] / "scenarios" / "realtime.yaml")
    made = openai.OpenAI(
        base_url=server.url + "/v1", api_key="sk-mock", websocket_base_url=ws_url(server)
    )
    with made.realtime.connect(model="gpt-realtime") as connection:
        connection.recv()
        connection.input_audio_buffer.append(audio=base64.b64encode(bytes(24_000)).decode())
        connection.input_audio_buffer.commit()
        for _ in range(3):  # committed, conversation.item.added, conversation.item.done
            connection.recv()
        connection.response.create()
        heard = until_done(connection)[-1].response
        assert heard.output[0].content[0].transcript == "Sorry, could you say that again?"
        connection.session.update(session={"type": "realtime", "tools": [WEATHER_TOOL]})
        connection.recv()
        connection.conversation.item.create(item=user_text("What is the weather in Oslo?"))
        connection.recv()
        connection.recv()
        connection.response.create()
        call = until_done(connection)[-1].response.output[0]
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Oslo"})
