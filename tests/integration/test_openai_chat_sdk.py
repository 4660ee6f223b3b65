"""The official `openai` SDK against a real server: sync, async, streaming, parse, a tool agent.

Every body and chunk the server sends here is also validated against the official OpenAPI spec.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.conftest import SCENARIOS, StartServer
from tests.openapi_spec import validate

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
STOCK_TOOL = {
    "type": "function",
    "function": {
        "name": "get_stock_price",
        "parameters": {
            "type": "object",
            "properties": {"ticker": {"type": "string"}},
            "required": ["ticker"],
        },
    },
}

PARALLEL = """
version: 1
rules:
  - name: parallel
    match: {last_user: {contains: "weather and stock"}}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: Edinburgh, unit: celsius}}
        - {name: get_stock_price, arguments: {ticker: AAPL}}
  - name: sunny
    match: {last_user: {contains: "sunny"}}
    reply: {content: "It is sunny and 21 degrees in Edinburgh today."}
"""


def sse_chunks(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON payloads of an SSE body, checking the `[DONE]` terminator."""
    events = [e for e in response.text.split("\n\n") if e]
    assert events[-1] == "data: [DONE]"
    return [json.loads(e.removeprefix("data: ")) for e in events[:-1]]


def post(server_url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server_url}/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer sk-test"},
        timeout=10,
    )


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(PARALLEL, SCENARIOS / "greeting.yaml", SCENARIOS / "multi_choice.yaml")


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_sync_text_reply_matches_rule_and_spec(server: Any, client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}]
    )
    validate("CreateChatCompletionResponse", json.loads(raw.text))
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello! How can I help you today?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.id.startswith("chatcmpl-") and len(completion.id) == len("chatcmpl-") + 29
    assert completion.system_fingerprint is not None
    assert completion.system_fingerprint.startswith("fp_")
    assert len(completion.system_fingerprint) == 13
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["content-type"].startswith("application/json")
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 9  # "Hello! How can I help you today?" in o200k
    assert (
        completion.usage.prompt_tokens == 3 + 1 + 2 + 3
    )  # framing + role + "hello there" + priming


async def test_async_client(server: Any) -> None:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    completion = await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    )
    assert completion.choices[0].message.content == "Hello! How can I help you today?"
    await client.close()


def test_stream_text_cut_on_token_boundaries(server: Any, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "is it sunny?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "It is sunny and 21 degrees in Edinburgh today."
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) == chunks[-1].usage.completion_tokens  # type: ignore[union-attr]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None

    raw = post(
        server.url,
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "is it sunny?"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    for chunk in sse_chunks(raw):
        validate("CreateChatCompletionStreamResponse", chunk)


def test_stream_parallel_tool_calls_like_live_api(server: Any, client: openai.OpenAI) -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "weather and stock please"}],
        "tools": [WEATHER_TOOL, STOCK_TOOL],
        "stream": True,
    }
    chunks = sse_chunks(post(server.url, body))
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    firsts = [
        call
        for c in chunks
        for call in c["choices"][0]["delta"].get("tool_calls", [])
        if "id" in call
    ]
    assert [f["index"] for f in firsts] == [0, 1]
    assert all(f["function"]["arguments"] == "" and f["type"] == "function" for f in firsts)
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }

    with client.chat.completions.stream(
        model="gpt-4o", messages=body["messages"], tools=body["tools"]
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_stock_price"]
    assert json.loads(calls[0].function.arguments) == {"city": "Edinburgh", "unit": "celsius"}
    assert all(c.id.startswith("call_") and len(c.id) == 29 for c in calls)


def test_stream_n2_interleaves_distinct_choices(server: Any, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "a tagline please"}],
        n=2,
        stream=True,
    )
    texts = ["", ""]
    finished = set()
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finished.add(choice.index)
    assert texts == ["Fresh ideas, served daily.", "Where curiosity meets craft."]
    assert finished == {0, 1}
    body = post(
        server.url,
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "tagline"}], "n": 3},
    ).json()
    validate("CreateChatCompletionResponse", body)
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]


class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]


def test_parse_with_pydantic_model(start_server: StartServer) -> None:
    server = start_server(SCENARIOS / "structured_output.yaml")
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    scripted = client.chat.completions.parse(
        model="gpt-4o-2024-08-06",
        messages=[{"role": "user", "content": "Alice and Bob go to the science fair on Friday"}],
        response_format=CalendarEvent,
    )
    assert scripted.choices[0].message.parsed == CalendarEvent(
        name="Science Fair", date="Friday", participants=["Alice", "Bob"]
    )
    default = client.chat.completions.parse(
        model="gpt-4o",
        messages=[{"role": "user", "content": "anything"}],
        response_format=CalendarEvent,
    )
    assert isinstance(default.choices[0].message.parsed, CalendarEvent)


def test_two_turn_tool_agent_loop(start_server: StartServer) -> None:
    server = start_server(SCENARIOS / "tool_agent.yaml")
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    for _ in range(4):  # a small agent loop: call tools until the model answers
        completion = client.chat.completions.create(
            model="gpt-4o", messages=messages, tools=[WEATHER_TOOL]
        )
        message = completion.choices[0].message
        if not message.tool_calls:
            break
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            assert args == {"city": "Paris", "unit": "celsius"}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "18C, cloudy"})
    assert message.content == "The weather in Paris: 18C, cloudy"
    assert len(messages) == 3


def test_default_reply_honours_max_tokens_and_forced_tool(server: Any) -> None:
    body = post(
        server.url,
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "tell me a long story"}],
            "max_tokens": 5,
        },
    ).json()
    validate("CreateChatCompletionResponse", body)
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    forced = post(
        server.url,
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "anything"}],
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    ).json()
    validate("CreateChatCompletionResponse", forced)
    call = forced["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    assert "city" in json.loads(call["function"]["arguments"])


def test_stop_sequence_cuts_before_the_stop_string(server: Any) -> None:
    body = post(
        server.url,
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "is it sunny"}],
            "stop": [" degrees"],
        },
    ).json()
    assert body["choices"][0]["message"]["content"] == "It is sunny and 21"
    assert body["choices"][0]["finish_reason"] == "stop"
