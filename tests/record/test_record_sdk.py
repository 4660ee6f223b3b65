"""Record through the official SDKs from an upstream (a second mockserver), then replay with the
upstream gone: the same content, tool calls and usage; the file validates and holds no key.

Each dialect's calls run twice, once per server: `record` (proxy in front of the upstream) and
`replay` (the recording alone). What the SDK returned is reduced to plain data and compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import yaml
from google import genai
from google.genai import types

from mockserver.cli import main
from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.conftest import StartServer

UPSTREAM = """
version: 1
seed: 3
rules:
  - name: weather-call
    match: {last_user: {contains: weather}, tools: [get_weather], turn: 0}
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Paris, unit: celsius}}]
  - name: weather-answer
    match: {tool_result: {name: get_weather}}
    reply:
      content: "It is 21 °C and sunny in Paris.\\nLiteral {{ '{{' }} braces }} stay."
  - name: paced
    match: {last_user: {contains: paced}}
    reply: {content: "A paced answer of several words for the stream timing."}
    latency: {ttft: 0.05, chunk_interval: 0.002}
"""
OPENAI_KEY = "sk-live-SECRET-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-SECRET-anthropic-0123456789"
GEMINI_KEY = "AIzaSECRET-gemini-0123456789"
KEYS = (OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY)

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}

Session = Callable[[str], list[Any]]


# --- One session per dialect: the SDK calls, reduced to comparable data --------------------


def openai_chat(base: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=OPENAI_KEY, max_retries=0)
    tools: Any = [{"type": "function", "function": WEATHER_TOOL}]
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    seen: list[Any] = []
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
    message = first.choices[0].message
    calls = message.tool_calls or []
    seen.append([(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls])  # type: ignore[union-attr]
    seen.append(first.usage.model_dump() if first.usage else None)
    messages += [
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": calls[0].id, "content": "21 C, sunny"},
    ]
    with client.chat.completions.stream(
        model="gpt-4o", messages=messages, tools=tools, stream_options={"include_usage": True}
    ) as stream:
        final = stream.get_final_completion()
    seen += [final.choices[0].message.content, final.usage.model_dump() if final.usage else None]
    plain = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me a story."}]
    )
    seen += [plain.choices[0].message.content, plain.usage.model_dump() if plain.usage else None]
    client.close()
    return seen


def openai_responses(base: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=OPENAI_KEY, max_retries=0)
    tools: Any = [{"type": "function", **WEATHER_TOOL}]
    first = client.responses.create(
        model="gpt-4.1", input="What is the weather in Paris?", tools=tools, store=False
    )
    calls = [item for item in first.output if item.type == "function_call"]
    seen: list[Any] = [[(c.call_id, c.name, json.loads(c.arguments)) for c in calls]]  # type: ignore[union-attr]
    seen.append(first.usage.model_dump() if first.usage else None)
    first_stored = client.responses.create(
        model="gpt-4.1", input="What is the weather in Paris?", tools=tools
    )
    call = next(item for item in first_stored.output if item.type == "function_call")
    result: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": "21 C"}]  # type: ignore[union-attr]
    follow_up = client.responses.create(
        model="gpt-4.1", previous_response_id=first_stored.id, input=result, tools=tools
    )
    seen += [follow_up.output_text, follow_up.usage.model_dump() if follow_up.usage else None]
    with client.responses.stream(model="gpt-4.1", input="A paced story, please.") as stream:
        final = stream.get_final_response()
    seen += [final.output_text, final.usage.model_dump() if final.usage else None]
    client.close()
    return seen


def anthropic_messages(base: str) -> list[Any]:
    client = anthropic.Anthropic(base_url=base, api_key=ANTHROPIC_KEY, max_retries=0)
    tools: Any = [{"name": WEATHER_TOOL["name"], "input_schema": WEATHER_TOOL["parameters"]}]
    question: Any = {"role": "user", "content": "What is the weather in Paris?"}
    first = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=200, messages=[question], tools=tools
    )
    uses = [block for block in first.content if block.type == "tool_use"]
    seen: list[Any] = [[(u.id, u.name, u.input) for u in uses], first.usage.model_dump()]  # type: ignore[union-attr]
    result = {"type": "tool_result", "tool_use_id": uses[0].id, "content": "21 C"}  # type: ignore[union-attr]
    messages: Any = [
        question,
        {"role": "assistant", "content": [u.model_dump() for u in uses]},
        {"role": "user", "content": [result]},
    ]
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=200, messages=messages, tools=tools
    ) as stream:
        final = stream.get_final_message()
    seen += [[b.model_dump() for b in final.content], final.usage.model_dump()]
    client.close()
    return seen


def gemini(base: str) -> list[Any]:
    options = types.HttpOptions(base_url=base)
    client = genai.Client(api_key=GEMINI_KEY, http_options=options)
    tool = types.Tool(function_declarations=[types.FunctionDeclaration(**WEATHER_TOOL)])  # type: ignore[arg-type]
    config = types.GenerateContentConfig(tools=[tool])
    first = client.models.generate_content(
        model="gemini-2.5-flash", contents="What is the weather in Paris?", config=config
    )
    calls = first.function_calls or []
    seen: list[Any] = [[(c.name, c.args) for c in calls]]
    seen.append(first.usage_metadata.model_dump() if first.usage_metadata else None)
    text, usage = "", None
    for chunk in client.models.generate_content_stream(
        model="gemini-2.5-flash", contents="Write a short paced poem."
    ):
        text += chunk.text or ""
        usage = chunk.usage_metadata.model_dump() if chunk.usage_metadata else usage
    seen += [text, usage]
    client.close()
    return seen


def embeddings(base: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=OPENAI_KEY, max_retries=0)
    made = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    client.close()
    return [[item.embedding for item in made.data]]


SESSIONS: dict[str, Session] = {
    "chat": openai_chat,
    "responses": openai_responses,
    "anthropic": anthropic_messages,
    "gemini": gemini,
    "embeddings": embeddings,
}


# --- Record once per module, replay per test ----------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    from mockserver.http.app import create_app
    from mockserver.settings import Settings

    folder = tmp_path_factory.mktemp("record")
    (folder / "upstream.yaml").write_text(UPSTREAM)
    settings = Settings(scenario_paths=[str(folder / "upstream.yaml")])
    # Ids count repeats of a request: a fresh upstream for the direct run, another to record.
    with ServerThread(create_app(settings)) as alone:
        direct = {name: session(alone.url) for name, session in SESSIONS.items()}
    upstream = ServerThread(create_app(settings)).start()
    path = folder / "recordings" / "session.yaml"
    proxy = ServerThread(recording_app(path, RecordMode.RECORD, upstream.url)).start()
    try:
        through = {name: session(proxy.url) for name, session in SESSIONS.items()}
    finally:
        proxy.stop()
        upstream.stop()  # gone before anything replays
    assert through == direct  # the proxy passed every answer on unchanged
    yield path, through


@pytest.fixture(scope="module")
def replay(recorded: tuple[Path, dict[str, Any]]) -> Iterator[str]:
    proxy = ServerThread(recording_app(recorded[0], RecordMode.REPLAY, None)).start()
    yield proxy.url
    proxy.stop()


@pytest.mark.parametrize("dialect", list(SESSIONS))
def test_replay_gives_what_was_recorded(
    dialect: str, recorded: tuple[Path, dict[str, Any]], replay: str
) -> None:
    assert SESSIONS[dialect](replay) == recorded[1][dialect]


def test_recorded_calls_carry_content_tool_calls_and_usage(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    seen = recorded[1]
    assert seen["chat"][0][0][1:] == ("get_weather", {"city": "Paris", "unit": "celsius"})
    assert seen["chat"][2] == "It is 21 °C and sunny in Paris.\nLiteral {{ braces }} stay."
    assert seen["chat"][1]["prompt_tokens"] > 0
    assert seen["anthropic"][0][0][1] == "get_weather"
    assert seen["gemini"][0] == [("get_weather", {"city": "Paris", "unit": "celsius"})]
    assert seen["responses"][2].startswith("It is 21 °C")  # continued by previous_response_id
    assert seen["responses"][4].startswith("A paced answer")


def test_file_validates_and_holds_no_key(recorded: tuple[Path, dict[str, Any]]) -> None:
    path = recorded[0]
    assert main(["validate", str(path)]) == 0  # `mockserver validate`
    for written in path.parent.rglob("*"):
        text = written.read_text(encoding="utf-8")
        for key in KEYS:
            assert key not in text, f"{key} written to {written}"
        assert "SECRET" not in text


def test_file_reads_as_a_person_would_write_it(recorded: tuple[Path, dict[str, Any]]) -> None:
    document = yaml.safe_load(recorded[0].read_text(encoding="utf-8"))
    first = document["rules"][0]
    assert first["match"] == {
        "model": "gpt-4o",
        "last_user": {"equals": "What is the weather in Paris?"},
        "tools": ["get_weather"],
        "turn": 0,
    }
    assert first["reply"]["tool_calls"][0]["arguments"] == {"city": "Paris", "unit": "celsius"}
    second = document["rules"][1]
    assert second["match"]["turn"] == 1
    assert second["match"]["tool_result"] == {"name": "get_weather"}
    assert "{% raw %}" in second["reply"]["content"]  # recorded braces are not a template
    assert set(second["latency"]) == {"recorded", "ttft", "chunk_interval"}  # streamed
    assert set(first["latency"]) == {"recorded", "delay"}  # not streamed
    paced = [r for r in document["rules"] if "paced" in r["match"].get("last_user", {})["equals"]]
    assert paced and all(r["latency"]["ttft"] >= 0.05 for r in paced if "ttft" in r["latency"])
    assert len(document["embeddings"]["pinned"]["alpha"]) == 1536


def test_a_key_in_the_query_is_not_written(tmp_path: Path, start_server: StartServer) -> None:
    upstream = start_server(UPSTREAM)
    path = tmp_path / "query.yaml"
    proxy = ServerThread(recording_app(path, RecordMode.RECORD, upstream.url)).start()
    try:
        url = f"{proxy.url}/v1beta/models/gemini-2.5-flash:generateContent?key={GEMINI_KEY}"
        body = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
        assert httpx.post(url, json=body, headers={"cookie": "session=SECRET-cookie-42"}).is_success
    finally:
        proxy.stop()
    text = path.read_text(encoding="utf-8")
    assert "hello" in text
    assert GEMINI_KEY not in text
    assert "SECRET" not in text


async def async_session(base: str) -> list[Any]:
    chat = openai.AsyncOpenAI(base_url=base + "/v1", api_key=OPENAI_KEY, max_retries=0)
    stream = await chat.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "An async, paced question."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        usage = chunk.usage.model_dump() if chunk.usage else usage
    await chat.close()
    claude = anthropic.AsyncAnthropic(base_url=base, api_key=ANTHROPIC_KEY, max_retries=0)
    async with claude.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=[{"role": "user", "content": "Another async question."}],
    ) as events:
        final = await events.get_final_message()
    await claude.close()
    return [text, usage, final.content[0].model_dump(), final.usage.model_dump()]


async def test_async_clients_record_and_replay(tmp_path: Path, start_server: StartServer) -> None:
    upstream = start_server(UPSTREAM)
    path = tmp_path / "async.yaml"
    proxy = ServerThread(recording_app(path, RecordMode.RECORD, upstream.url)).start()
    try:
        recorded = await async_session(proxy.url)
    finally:
        proxy.stop()
        upstream.stop()
    assert recorded[0] == "A paced answer of several words for the stream timing."
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        assert await async_session(replay.url) == recorded


@pytest.mark.parametrize(
    ("server_latency", "scenario_latency", "paced"),
    [
        (None, None, False),  # the default: a replay answers at once
        ("recorded", None, True),
        ("realistic", None, True),  # recorded timing over the realistic profile
        (None, "recorded", True),  # the scenario turns it on
        ("none", "recorded", False),  # the server's word wins
    ],
)
def test_recorded_timing_is_replayed_only_when_latency_is_on(
    recorded: tuple[Path, dict[str, Any]],
    tmp_path: Path,
    server_latency: str | None,
    scenario_latency: str | None,
    paced: bool,
) -> None:
    from mockserver.http.app import create_app
    from mockserver.scenario import load_paths
    from mockserver.server_state import MockState
    from mockserver.settings import Settings

    document = yaml.safe_load(recorded[0].read_text(encoding="utf-8"))
    rule = next(
        r
        for r in document["rules"]
        if r["match"].get("last_user", {}).get("equals") == "A paced story, please."
    )
    written = rule["latency"]
    assert written["recorded"] is True and written["ttft"] >= 0.05
    if scenario_latency is not None:
        document["latency"] = scenario_latency
    path = tmp_path / "replay.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    state = MockState(
        Settings(scenario_paths=[str(path)], latency=server_latency), load_paths([path])
    )
    with ServerThread(create_app(state=state)) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
        with client.responses.stream(model="gpt-4.1", input="A paced story, please.") as stream:
            text = stream.get_final_response().output_text
        client.close()
    assert text.startswith("A paced answer")
    entry = [e for e in state.journal.entries() if e.endpoint == "/v1/responses"][-1]
    if paced:
        assert entry.timeline is not None
        assert max(entry.timeline) >= written["ttft"] * 1000  # due times, not measured ones
    else:
        assert entry.timeline is None  # unpaced: every frame at once
