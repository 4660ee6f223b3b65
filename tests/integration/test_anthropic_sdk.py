"""The `anthropic` SDK against a real server running the every-dialect scenario.

Anthropic publishes no OpenAPI spec, so bodies and events are validated with the SDK's own
pydantic models (`Message`, `RawMessageStreamEvent`, `ErrorResponse`), and checked to carry no
field those models don't know. Stream event orders are compared with the live streams recorded
in tests/data/conformance/recorded/anthropic-messages-stream/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import ErrorResponse, Message, MessageTokensCount, ModelInfo
from anthropic.types import RawMessageStreamEvent as StreamEvent
from pydantic import BaseModel, TypeAdapter

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import (
    ANTHROPIC_HEADERS,
    ANTHROPIC_TOOL,
    CLAUDE_MODEL,
    FORECAST,
    FORECAST_QUESTION,
    THINK_ANSWER,
    THINK_QUESTION,
    THINKING,
    WEATHER_ARGUMENTS,
    WEATHER_QUESTION,
    Event,
    post,
    post_json,
    serve,
    sse_events,
)
from tests.openapi_spec import CONFORMANCE

RECORDED_STREAMS = CONFORMANCE / "recorded" / "anthropic-messages-stream"
STREAM_EVENT = TypeAdapter[Any](StreamEvent)
ERROR = TypeAdapter[Any](ErrorResponse)
THINKING_ON = {"type": "enabled", "budget_tokens": 1024}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    # A strict catalog: the tests of each vendor's unknown-model error need one.
    with serve(catalog="strict") as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ServerThread) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0) as made:
        yield made


def request(question: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": CLAUDE_MODEL,
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": question}],
        **extra,
    }


def unknown_fields(model: Any, where: str = "") -> list[str]:
    """Paths of every field the SDK's models kept as an unknown extra."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        found += [f"{where}.{key}" for key in model.model_extra or {}]
        for name in type(model).model_fields:
            found += unknown_fields(getattr(model, name), f"{where}.{name}")
    elif isinstance(model, list):
        for index, item in enumerate(model):
            found += unknown_fields(item, f"{where}[{index}]")
    return found


def create(server: ServerThread, body: dict[str, Any]) -> Message:
    """POST /v1/messages; the body as the SDK's `Message`, every field known to it."""
    raw = post_json(server.url + "/v1/messages", ANTHROPIC_HEADERS, body)
    message = Message.model_validate(raw)
    assert unknown_fields(message) == []
    return message


def stream(server: ServerThread, body: dict[str, Any]) -> list[Event]:
    """POST /v1/messages with stream: true; every event validated as a RawMessageStreamEvent."""
    response = post(server.url + "/v1/messages", ANTHROPIC_HEADERS, body | {"stream": True})
    events = sse_events(response)
    for event in events:
        assert event.name == event.data["type"]
        if event.name != "ping":  # ping is not a RawMessageStreamEvent; the SDK skips it
            assert unknown_fields(STREAM_EVENT.validate_python(event.data)) == []
    return events


def recorded(name: str) -> list[Event]:
    text = (RECORDED_STREAMS / name).read_text()
    blocks = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    events = []
    for block in blocks:
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append(Event(lines["event"], json.loads(lines["data"])))
    return events


def shape(events: list[Event]) -> list[str]:
    """Event names with block and delta types, runs of the same delta collapsed:
    message_start, content_block_start:text, ping, content_block_delta:text_delta, ..."""
    collapsed: list[str] = []
    for event in events:
        data = event.data
        label = str(event.name)
        if event.name == "content_block_start":
            label += ":" + data["content_block"]["type"]
        elif event.name == "content_block_delta":
            label += ":" + data["delta"]["type"]
        if not (collapsed and label.startswith("content_block_delta") and collapsed[-1] == label):
            collapsed.append(label)
    return collapsed


def blocks(events: list[Event]) -> list[list[str]]:
    """The shape of each content block, from its start to its stop, pings left out."""
    cut: list[list[str]] = []
    for label in shape(events):
        if label.startswith("content_block_start"):
            cut.append([])
        if cut and label != "ping" and (len(cut[-1]) == 0 or cut[-1][-1] != "content_block_stop"):
            cut[-1].append(label)
    return cut


def test_text_message_body_and_stream_match_the_recorded_live_stream(
    server: ServerThread,
) -> None:
    message = create(server, request(FORECAST_QUESTION))
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == FORECAST  # type: ignore[union-attr]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.id.startswith("msg_01") and len(message.id) == 28

    events = stream(server, request(FORECAST_QUESTION))
    assert shape(events) == shape(recorded("basic_response.sse"))
    deltas = [e.data["delta"]["text"] for e in events if e.name == "content_block_delta"]
    assert "".join(deltas) == FORECAST
    start, final = events[0].data["message"], events[-2].data
    assert start["usage"]["output_tokens"] == 1
    assert final["usage"]["output_tokens"] == message.usage.output_tokens == len(deltas)
    assert start["usage"]["input_tokens"] == message.usage.input_tokens


def test_tool_use_stream_matches_the_recorded_tool_block(server: ServerThread) -> None:
    body = request(WEATHER_QUESTION, tools=[ANTHROPIC_TOOL])
    message = create(server, body)
    [tool_use] = message.content
    assert tool_use.type == "tool_use" and tool_use.input == WEATHER_ARGUMENTS
    assert tool_use.id.startswith("toolu_01")
    assert message.stop_reason == "tool_use"

    events = stream(server, body)
    live = recorded("tool_use_response.sse")
    assert blocks(events) == [block for block in blocks(live) if "tool_use" in block[0]]
    assert [e.name for e in events][:3] == ["message_start", "content_block_start", "ping"]
    assert shape(events)[-2:] == shape(live)[-2:] == ["message_delta", "message_stop"]
    partial = [
        e.data["delta"]["partial_json"]
        for e in events
        if e.name == "content_block_delta" and e.data["delta"]["type"] == "input_json_delta"
    ]
    assert partial[0] == ""  # the live API opens every tool input with an empty piece
    assert json.loads("".join(partial)) == WEATHER_ARGUMENTS
    assert events[1].data["content_block"]["id"].startswith("toolu_01")
    assert events[-2].data["delta"]["stop_reason"] == "tool_use"


def test_thinking_stream_matches_the_recorded_thinking_stream(server: ServerThread) -> None:
    body = request(THINK_QUESTION, thinking=THINKING_ON)
    message = create(server, body)
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == THINKING
    assert thinking.signature
    assert text.type == "text" and text.text == THINK_ANSWER

    events = stream(server, body)
    assert shape(events) == shape(recorded("thinking_then_refusal.sse"))
    # Without `thinking` in the request, Claude does not think.
    plain = create(server, request(THINK_QUESTION))
    assert [block.type for block in plain.content] == ["text"]


def test_sdk_stream_accumulates_text_tool_input_and_thinking(client: anthropic.Anthropic) -> None:
    with client.messages.stream(**request(FORECAST_QUESTION)) as text_stream:
        pieces = list(text_stream.text_stream)
        assert text_stream.get_final_text() == "".join(pieces) == FORECAST
    assert len(pieces) > 1

    with client.messages.stream(**request(WEATHER_QUESTION, tools=[ANTHROPIC_TOOL])) as tools:
        snapshots = [event.snapshot for event in tools if event.type == "input_json"]
        final = tools.get_final_message()
    assert snapshots[-1] == WEATHER_ARGUMENTS
    assert len(snapshots) > 2  # the input arrives in pieces and the SDK re-parses each prefix
    [tool_use] = final.content
    assert tool_use.type == "tool_use" and tool_use.input == WEATHER_ARGUMENTS

    with client.messages.stream(**request(THINK_QUESTION, thinking=THINKING_ON)) as thinks:
        thoughts = "".join(event.thinking for event in thinks if event.type == "thinking")
        final = thinks.get_final_message()
    assert thoughts == THINKING
    thinking, text = final.content
    assert thinking.type == "thinking" and thinking.thinking == THINKING
    assert thinking.signature
    assert text.type == "text" and text.text == THINK_ANSWER


async def test_async_sdk_stream_gives_the_same_message(server: ServerThread) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=server.url, api_key="sk-ant-test", max_retries=0
    ) as aclient:
        async with aclient.messages.stream(
            **request(WEATHER_QUESTION, tools=[ANTHROPIC_TOOL])
        ) as s:
            final = await s.get_final_message()
        again = await aclient.messages.create(**request(WEATHER_QUESTION, tools=[ANTHROPIC_TOOL]))
    [streamed], [created] = final.content, again.content
    assert streamed.type == created.type == "tool_use"
    assert streamed.input == created.input == WEATHER_ARGUMENTS


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"system": "You are a terse weather bot."},
        {"tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "any"}},
        {"thinking": THINKING_ON},
    ],
    ids=["plain", "system", "tools", "thinking"],
)
def test_count_tokens_equals_usage_and_message_start(
    server: ServerThread, client: anthropic.Anthropic, extra: dict[str, Any]
) -> None:
    body = request(WEATHER_QUESTION, **extra)
    counting = {key: value for key, value in body.items() if key != "max_tokens"}
    raw = post_json(server.url + "/v1/messages/count_tokens", ANTHROPIC_HEADERS, counting)
    assert unknown_fields(MessageTokensCount.model_validate(raw)) == []
    counted = client.messages.count_tokens(**counting)
    usage = create(server, body).usage
    start = stream(server, body)[0].data["message"]["usage"]
    assert counted.input_tokens == raw["input_tokens"] == usage.input_tokens
    assert start["input_tokens"] == usage.input_tokens


def test_model_listing_and_lookup_have_claudes_shape(
    server: ServerThread, client: anthropic.Anthropic
) -> None:
    listed = httpx.get(server.url + "/v1/models?limit=5", headers=ANTHROPIC_HEADERS, timeout=10)
    page = listed.json()
    assert len(page["data"]) == 5 and page["has_more"] is True
    for entry in page["data"]:
        assert unknown_fields(ModelInfo.model_validate(entry)) == []
    assert page["first_id"] == page["data"][0]["id"]
    model = client.models.retrieve(CLAUDE_MODEL)
    assert (model.id, model.type, model.display_name) == (CLAUDE_MODEL, "model", "Claude Haiku 4.5")
    assert model.created_at.year >= 2025


def test_errors_have_anthropics_shape_through_the_sdk(
    server: ServerThread, client: anthropic.Anthropic
) -> None:
    with pytest.raises(anthropic.NotFoundError) as not_found:
        client.messages.create(**(request("hi") | {"model": "claude-unknown"}))
    ERROR.validate_python(not_found.value.body)
    assert not_found.value.response.headers["request-id"] == not_found.value.request_id

    orphan_result: Any = [{"type": "tool_result", "tool_use_id": "toolu_01x", "content": "x"}]
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(
            model=CLAUDE_MODEL,
            max_tokens=16,
            messages=[{"role": "user", "content": orphan_result}],
        )
    ERROR.validate_python(bad.value.body)
    assert bad.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]

    no_version = post(
        server.url + "/v1/messages",
        {"x-api-key": "sk-ant-test"},
        request("hi"),
    )
    assert no_version.status_code == 400
    ERROR.validate_python(no_version.json())
    no_key = post(server.url + "/v1/messages", {"anthropic-version": "2023-06-01"}, request("hi"))
    assert no_key.status_code == 401
    assert ERROR.validate_python(no_key.json()).error.type == "authentication_error"
