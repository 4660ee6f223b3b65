"""Anthropic Messages dialect in-process: what it accepts, what it rejects (with the API's words),
and what it renders, validated with the official SDK's own models, its stream accumulator and,
through an in-memory transport, its real client."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import anthropic
import pytest
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message, ModelInfo, RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse
from pydantic import TypeAdapter

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.reply import Choice, Reply, Usage
from mockserver.protocols import leniency
from mockserver.protocols.anthropic import messages as module
from mockserver.protocols.anthropic.messages import AnthropicDialect, prompt_tokens
from mockserver.protocols.dialect import Inbound
from mockserver.tokens.tokenizer import get_tokenizer
from tests.openapi_spec import CONFORMANCE

try:  # the transport library the SDK is built on: httpx2 from anthropic 2.x, httpx before
    import httpx2
except ImportError:  # pragma: no cover
    import httpx as httpx2  # type: ignore[no-redef]

RECORDED = CONFORMANCE / "recorded" / "anthropic-messages-stream"
HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
EVENT: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
TOKENIZER = get_tokenizer("o200k_base")
dialect = AnthropicDialect()


def body(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A messages body; `Hi` from the user unless messages are given."""
    chosen = list(messages) or [{"role": "user", "content": "Hi"}]
    return {"model": "claude-sonnet-4-5", "max_tokens": 2048, "messages": chosen, **extra}


def user(*content: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(content)}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def source(kind: str, **fields: str) -> dict[str, Any]:
    return {"type": kind, **fields}


def block(kind: str, src: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "source": src}


def parse(
    payload: Any, headers: dict[str, str] | None = None, path: str = "/v1/messages"
) -> Exchange:
    return dialect.parse(payload, Inbound(path, headers=HEADERS if headers is None else headers))


def rejected(payload: Any, headers: dict[str, str] | None = None) -> APIError:
    """The error for `payload`, read with `validation: strict` (known fields fail either way)."""
    with pytest.raises(APIError) as info, leniency.reading(strict=True):
        parse(payload, headers)
    return info.value


# --- parse: accepted shapes -------------------------------------------------------------------

PNG = source("base64", media_type="image/png", data="iVBORw0KGgo=")
WEATHER = {"name": "get_weather", "description": "d", "input_schema": {"type": "object"}}
TOOL = {"name": "f", "input_schema": {"type": "object"}}


def test_every_content_shape_flattens_to_neutral_messages() -> None:
    calls = [
        {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
        text("Checking."),
        {"type": "tool_use", "id": "toolu_A", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_B", "name": "get_time", "input": {}},
    ]
    results = user(
        {"type": "tool_result", "tool_use_id": "toolu_A", "content": "21C"},
        {
            "type": "tool_result",
            "tool_use_id": "toolu_B",
            "is_error": True,
            "content": [text("no clock"), block("image", PNG)],
        },
        text("and"),
        block("image", source("url", url="https://x/y.jpg")),
        block("document", source("base64", media_type="application/pdf", data="JVBERi0=")),
        block("document", source("text", media_type="text/plain", data="notes")),
        block("document", source("url", url="https://x/a.pdf")),
        text("this?"),
    )
    exchange = parse(
        body(
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": calls},
            results,
            system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
            stop_sequences=["END"],
            temperature=0.5,
            top_p=0.9,
            top_k=5,
            metadata={"user_id": "u-1"},
            service_tier="auto",
            stream=True,
        )
    )
    assert [m.role for m in exchange.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "user",
    ]
    assert exchange.system == "be brief"
    assistant = exchange.messages[2]
    assert assistant.text == "Checking."
    assert [(c.id, c.name, json.loads(c.arguments)) for c in assistant.tool_calls] == [
        ("toolu_A", "get_weather", {"city": "Paris"}),
        ("toolu_B", "get_time", {}),
    ]
    first, second = exchange.messages[3], exchange.messages[4]
    assert (first.tool_call_id, first.tool_name, first.text) == ("toolu_A", "get_weather", "21C")
    assert (second.tool_name, second.text, second.attachments[0].kind) == (
        "get_time",
        "no clock",
        "image",
    )
    last = exchange.messages[5]
    assert last.text == "and\nthis?"
    assert [(a.kind, a.mime_type) for a in last.attachments] == [
        ("image", None),
        ("file", "application/pdf"),
        ("file", "text/plain"),
        ("file", "application/pdf"),
    ]
    assert exchange.stream and exchange.stop == ["END"] and exchange.max_tokens == 2048
    assert exchange.turn == 1 and exchange.last_user == "and\nthis?"


@pytest.mark.parametrize(
    ("raw", "mode", "name"),
    [
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", None),
        ({"type": "any"}, "required", None),
        ({"type": "tool", "name": "get_weather"}, "function", "get_weather"),
        ({"type": "none"}, "none", None),
    ],
)
def test_tool_choice_maps_to_neutral_modes(raw: Any, mode: str, name: str | None) -> None:
    server_tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    exchange = parse(body(tools=[WEATHER, server_tool], tool_choice=raw))
    assert [t.name for t in exchange.tools] == ["get_weather"]  # server tools run vendor-side
    assert (exchange.tool_choice.mode, exchange.tool_choice.name) == (mode, name)


def test_thinking_effort_and_structured_output_map_to_neutral_fields() -> None:
    thinking = parse(body(thinking={"type": "enabled", "budget_tokens": 1024}, temperature=1))
    assert thinking.reasoning_budget == 1024 and thinking.reasoning_effort is None
    adaptive = parse(body(thinking={"type": "adaptive"}, output_config={"effort": "high"}))
    assert adaptive.reasoning_effort == "high"
    assert parse(body(output_config={"effort": "low"})).reasoning_effort is None  # no thinking
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = parse(body(output_config={"format": {"type": "json_schema", "schema": schema}}))
    assert (fmt.response_format.type, fmt.response_format.schema) == ("json_schema", schema)


def test_bearer_auth_new_versions_assistant_first_and_empty_prefill_are_accepted() -> None:
    bearer = {"authorization": "Bearer k", "anthropic-version": "2026-10-21"}
    conversation = body(
        {"role": "assistant", "content": "How can I help?"},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": ""},
    )
    assert parse(conversation, bearer).turn == 2


def test_count_tokens_body_needs_no_max_tokens() -> None:
    payload = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi"}]}
    exchange = parse(payload, path="/v1/messages/count_tokens")
    assert exchange.max_tokens is None and not exchange.stream
    assert dialect.parse_count_tokens(payload, Inbound("/x", headers=HEADERS)).max_tokens is None
    assert rejected(payload).message == "max_tokens: Field required"


# --- parse: rejected shapes, with the live API's status, type and message ---------------------

HI = {"role": "user", "content": "Hi"}
CALL = {
    "role": "assistant",
    "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
}
FORCED = {"tools": [TOOL], "tool_choice": {"type": "any"}}
DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
SYSTEM_ROLE = (
    'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
    'parameter, not "system" as an input message role.'
)
EMPTY = (
    "messages.0: all messages must have non-empty content except for the optional final "
    "assistant message"
)
MEDIA = (
    "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
    "'image/png', 'image/gif' or 'image/webp'"
)
ORPHAN_RESULT = (
    "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_x. "
    "Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
)
UNANSWERED = (
    "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: t1. "
    "Each `tool_use` block must have a corresponding `tool_result` block in the next message."
)
BUDGET = (
    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
    f"documentation at {DOCS}#max-tokens-and-context-window-size"
)
TEMPERATURE = (
    "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode. "
    f"Please consult our documentation at {DOCS}"
)
CHOICE_TAG = (
    "tool_choice: Input tag 'required' found using 'type' does not match any of the expected "
    "tags: 'auto', 'any', 'tool', 'none'"
)
BAD_IMAGE = user(block("image", source("base64", media_type="image/bmp", data="x")))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"model": "m", "messages": [HI]}, "max_tokens: Field required"),
        ({"model": "m", "max_tokens": 5}, "messages: Field required"),
        ({"max_tokens": 5, "messages": [HI]}, "model: Field required"),
        (
            {"model": "m", "max_tokens": 5, "messages": []},
            "messages: at least one message is required",
        ),
        (body(max_tokens="9"), "max_tokens: Input should be a valid integer"),
        (body(n=2), "n: Extra inputs are not permitted"),
        (body(temperature=1.5), "temperature: Input should be less than or equal to 1"),
        (body({"role": "system", "content": "x"}, HI), SYSTEM_ROLE),
        (
            body({"role": "tool", "content": "x"}),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
        (body({"role": "user", "content": ""}), EMPTY),
        (body(user(text(""))), "messages: text content blocks must be non-empty"),
        (
            body(user(text("a") | {"foo": 1})),
            "messages.0.content.0.text.foo: Extra inputs are not permitted",
        ),
        (body(BAD_IMAGE), MEDIA),
        (body(user({"type": "tool_result", "tool_use_id": "toolu_x"})), ORPHAN_RESULT),
        (body(HI, CALL, {"role": "user", "content": "never mind"}), UNANSWERED),
        (
            body(thinking={"type": "enabled", "budget_tokens": 512}),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (body(thinking={"type": "enabled"}), "thinking.enabled.budget_tokens: Field required"),
        (body(thinking={"type": "enabled", "budget_tokens": 2048}), BUDGET),
        (
            body(max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048}, **FORCED),
            "Thinking may not be enabled when tool_choice forces tool use.",
        ),
        (body(thinking={"type": "adaptive"}, temperature=0.2), TEMPERATURE),
        (body(tools=[{"name": "f"}]), "tools.0.custom.input_schema: Field required"),
        (
            body(tools=[TOOL | {"name": "a b"}]),
            "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
        ),
        (body(tools=[TOOL, TOOL]), "tools: Tool names must be unique."),
        (body(tool_choice={"type": "required"}), CHOICE_TAG),
        (body(tool_choice={"type": "tool"}), "tool_choice.tool.name: Field required"),
    ],
)
def test_rejections_use_the_api_words(payload: dict[str, Any], message: str) -> None:
    error = rejected(payload)
    assert (error.status, error.message) == (400, message)
    assert dialect.render_error(error)["error"]["type"] == "invalid_request_error"


def test_headers_are_checked_first() -> None:
    no_key = rejected(body(), {"anthropic-version": "2023-06-01"})
    assert (no_key.status, no_key.type) == (401, "authentication_error")
    assert no_key.message == "x-api-key header is required"
    no_version = rejected(body(), {"x-api-key": "k"})
    assert (no_version.status, no_version.message) == (400, "anthropic-version: header is required")
    doubled = "2023-06-01, 2023-06-01"
    bad_version = rejected(body(), {"x-api-key": "k", "anthropic-version": doubled})
    assert bad_version.message == f'anthropic-version: "{doubled}" is not a valid version'


# --- render -----------------------------------------------------------------------------------


def make_reply(
    answer: str | None = "Hello there!",
    *,
    reasoning: str | None = None,
    calls: tuple[tuple[str, dict[str, Any]], ...] = (),
    finish: Any = "stop",
    stop_sequence: str | None = None,
    refusal: str | None = None,
    cached: int = 0,
    key: str = "reply-key",
) -> Reply:
    """A reply as the engine shapes it: pieces cut on token boundaries, tokens counted."""
    tool_calls = [ToolCall(f"call_{i}{key}", n, json.dumps(a)) for i, (n, a) in enumerate(calls)]
    choice = Choice(
        text=answer,
        reasoning=reasoning,
        refusal=refusal,
        tool_calls=tool_calls,
        finish_reason=finish,
        stop_sequence=stop_sequence,
        text_pieces=TOKENIZER.pieces(answer or ""),
        reasoning_pieces=TOKENIZER.pieces(reasoning or ""),
        refusal_pieces=TOKENIZER.pieces(refusal or ""),
        argument_pieces=[TOKENIZER.pieces(c.arguments) for c in tool_calls],
        reasoning_tokens=TOKENIZER.count(reasoning or ""),
    )
    visible = [answer or refusal or "", *(c.arguments for c in tool_calls)]
    choice.completion_tokens = choice.reasoning_tokens + sum(map(TOKENIZER.count, visible))
    usage = Usage(25, choice.completion_tokens, choice.reasoning_tokens, cached_tokens=cached)
    return Reply([choice], key=key, created=1_700_000_000, fingerprint="fp_x", usage=usage)


EXCHANGE = parse(body())


def events(frames: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) per frame; every frame is one complete `event:` + `data:` event."""
    out = []
    for frame in frames:
        assert frame.endswith(b"\n\n") and frame.count(b"\n\n") == 1
        name, data = frame.decode().rstrip("\n").split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        out.append((name[7:], json.loads(data[6:])))
    return out


def stream_of(reply: Reply) -> list[tuple[str, dict[str, Any]]]:
    return events(dialect.render_stream(reply, EXCHANGE))


def accumulate(frames: list[bytes]) -> Message:
    """Validate every event with the SDK's union and fold them with the SDK's accumulator."""
    snapshot = None
    buffers: dict[int, bytes] = {}
    for name, data in events(frames):
        assert data["type"] == name
        if name != "ping":
            event = EVENT.validate_python(data)
            snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=buffers)
    assert snapshot is not None
    return Message.model_validate(snapshot.model_dump())


def rendered(reply: Reply) -> Message:
    """The non-stream body, validated; the accumulated stream must give the same message."""
    message = Message.model_validate(dialect.render(reply, EXCHANGE))
    streamed = accumulate(dialect.render_stream(reply, EXCHANGE))
    assert streamed.model_dump() == message.model_dump()
    return message


def test_plain_text_message_has_the_live_shape() -> None:
    payload = dialect.render(make_reply(), EXCHANGE)
    keys = ["model", "id", "type", "role", "content", "stop_reason", "stop_sequence", "usage"]
    assert list(payload) == keys
    assert re.fullmatch(r"msg_01[0-9A-Za-z]{22}", payload["id"])
    assert payload["content"] == [{"type": "text", "text": "Hello there!"}]
    assert (payload["model"], payload["stop_reason"]) == ("claude-sonnet-4-5", "end_turn")
    assert payload["usage"] == {
        "input_tokens": 25,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 3,
        "service_tier": "standard",
    }
    rendered(make_reply())
    assert dialect.render(make_reply(), EXCHANGE) == payload  # deterministic
    assert dialect.render(make_reply(key="other"), EXCHANGE)["id"] != payload["id"]


def test_parallel_tool_calls_stream_input_json_and_accumulate_to_the_same_input() -> None:
    calls = (("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"}))
    reply = make_reply("Let me check.", calls=calls, finish="tool_calls")
    message = rendered(reply)
    assert [b.type for b in message.content] == ["text", "tool_use", "tool_use"]
    uses = [b for b in message.content if b.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == list(calls)
    assert all(re.fullmatch(r"toolu_01[0-9A-Za-z]{22}", u.id) for u in uses)
    assert message.stop_reason == "tool_use"
    deltas = [d for n, d in stream_of(reply) if n == "content_block_delta" and d["index"] == 1]
    assert deltas[0]["delta"] == {"type": "input_json_delta", "partial_json": ""}


def test_thinking_comes_first_with_a_deterministic_signature() -> None:
    reply = make_reply("42.", reasoning="Let me think about it carefully.")
    thinking = rendered(reply).content[0]
    assert thinking.type == "thinking"
    assert thinking.thinking == "Let me think about it carefully."
    assert thinking.signature == dialect.render(reply, EXCHANGE)["content"][0]["signature"]
    names = [(n, d.get("delta", {}).get("type")) for n, d in stream_of(reply)]
    signature_at = names.index(("content_block_delta", "signature_delta"))
    assert names[signature_at + 1] == ("content_block_stop", None)


@pytest.mark.parametrize(
    ("reply", "reason", "sequence"),
    [
        (make_reply("Partial", finish="length"), "max_tokens", None),
        (make_reply("One, two", stop_sequence="three"), "stop_sequence", "three"),
        (make_reply(None, refusal="I can't help.", finish="content_filter"), "refusal", None),
        (make_reply('{"a": "b"}'), "end_turn", None),
    ],
)
def test_finish_reasons_map_to_stop_reasons(
    reply: Reply, reason: str, sequence: str | None
) -> None:
    message = rendered(reply)
    assert (message.stop_reason, message.stop_sequence) == (reason, sequence)
    if reason == "refusal":
        assert message.content[0].type == "text" and message.content[0].text == "I can't help."
        assert message.stop_details is not None and message.stop_details.type == "refusal"


def test_only_choice_zero_is_rendered_and_cached_tokens_are_reported_apart() -> None:
    reply = make_reply("first", cached=10)
    reply.choices.append(Choice(text="second", completion_tokens=50))
    payload = dialect.render(reply, EXCHANGE)
    assert payload["content"] == [{"type": "text", "text": "first"}]
    usage = payload["usage"]
    assert (usage["output_tokens"], usage["input_tokens"], usage["cache_read_input_tokens"]) == (
        1,
        15,
        10,
    )


# --- event order against the recorded live streams --------------------------------------------

Signature = list[tuple[str, str | None]]


def recorded(name: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in (RECORDED / name).read_text().strip().split("\n\n"):
        event, data = frame.split("\n", 1)
        out.append((event.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return out


def signature(stream: list[tuple[str, dict[str, Any]]], *, collapse: bool = False) -> Signature:
    """Event names with delta types; `collapse` merges runs (piece counts differ)."""
    kinds = [(n, d.get("delta", {}).get("type")) for n, d in stream]
    return [k for i, k in enumerate(kinds) if not collapse or i == 0 or k != kinds[i - 1]]


def test_event_order_matches_the_recordings() -> None:
    basic = make_reply("Hello there!")
    basic.choices[0].text_pieces = ["Hello", " there", "!"]
    assert signature(stream_of(basic)) == signature(recorded("basic_response.sse"))
    tool = make_reply(
        "I'll check.", calls=(("get_weather", {"location": "Paris"}),), finish="tool_calls"
    )
    tool.choices[0].text_pieces = ["I", "'ll check."]
    tool.choices[0].argument_pieces = [['{"locati', 'on": "P', "ar", 'is"}']]
    assert signature(stream_of(tool)) == signature(recorded("tool_use_response.sse"))
    refusal = make_reply(None, finish="content_filter")
    assert signature(stream_of(refusal)) == signature(recorded("refusal_response.sse"))
    thinking = make_reply("Hi", reasoning="Simple question.", finish="content_filter")
    live = signature(recorded("thinking_then_refusal.sse"), collapse=True)
    assert signature(stream_of(thinking), collapse=True) == live


def test_tool_use_block_matches_the_recording_event_for_event() -> None:
    reply = make_reply(
        "I'll check.", calls=(("get_weather", {"location": "Paris"}),), finish="tool_calls"
    )
    reply.choices[0].argument_pieces = [['{"locati', 'on": "P', "ar", 'is"}']]
    live, mine = recorded("tool_use_response.sse"), stream_of(reply)
    live_tool = [d for _, d in live if d.get("index") == 1]
    mine_tool = [d for _, d in mine if d.get("index") == 1]
    for data in (*live_tool, *mine_tool):
        data.get("content_block", {}).pop("id", None)
    assert mine_tool == live_tool
    start_usage = mine[0][1]["message"]["usage"]
    assert set(start_usage) >= set(live[0][1]["message"]["usage"])
    assert start_usage["output_tokens"] == 1


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "sent"),
    [
        (400, "invalid_request_error", 400),
        (401, "authentication_error", 401),
        (403, "permission_error", 403),
        (404, "not_found_error", 404),
        (413, "request_too_large", 413),
        (429, "rate_limit_error", 429),
        (500, "api_error", 500),
        (503, "overloaded_error", 529),
        (529, "overloaded_error", 529),
    ],
)
def test_errors_take_anthropic_types_and_statuses(status: int, kind: str, sent: int) -> None:
    error = APIError(status, "nope", type="server_error")
    payload = dialect.render_error(error)
    assert payload["type"] == "error" and payload["error"] == {"type": kind, "message": "nope"}
    assert re.fullmatch(r"req_011C[0-9A-Za-z]{20}", payload["request_id"])
    assert payload == dialect.render_error(APIError(status, "nope"))  # deterministic
    assert dialect.error_status(error) == sent
    if kind != "request_too_large":  # the SDK's union has no object for it
        ErrorResponse.model_validate(payload)
    headers = module.error_headers(error)
    assert headers["request-id"] == payload["request_id"]
    assert headers["x-should-retry"] == ("true" if sent in (429, 500, 529) else "false")


def test_in_stream_error_and_dialect_specific_errors() -> None:
    frame = dialect.stream_error_frame(APIError(503, "Overloaded"))
    error = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    assert frame == b"event: error\ndata: " + error + b"\n\n"
    not_found = dialect.render_error(dialect.model_not_found("sonnet"))["error"]
    assert not_found == {"type": "not_found_error", "message": "model: sonnet"}
    assert dialect.context_exceeded(200000, 199759, 8192).message == (
        "input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000, "
        "decrease input length or `max_tokens` and try again"
    )
    too_long = dialect.context_exceeded(200000, 208310, None).message
    assert too_long == "prompt is too long: 208310 tokens > 200000 maximum"


def test_reply_headers_are_deterministic() -> None:
    headers = dialect.reply_headers(make_reply(), EXCHANGE)
    assert re.fullmatch(r"req_011C[0-9A-Za-z]{20}", headers["request-id"])
    uuid = r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}"
    assert re.fullmatch(uuid, headers["anthropic-organization-id"])
    assert headers == dialect.reply_headers(make_reply(), EXCHANGE)
    other = dialect.reply_headers(make_reply(key="other"), EXCHANGE)
    assert headers["request-id"] != other["request-id"]
    counted = dialect.reply_headers(None, EXCHANGE)  # count_tokens has no reply
    assert counted["request-id"] == dialect.reply_headers(None, parse(body()))["request-id"]
    assert counted["request-id"] != dialect.reply_headers(None, parse(body(top_k=1)))["request-id"]
    assert dialect.reply_headers(None, None) == {}


# --- token counting, models -------------------------------------------------------------------


def test_prompt_tokens_reproduce_the_documented_example_and_count_everything() -> None:
    hello = {"role": "user", "content": "Hello, Claude"}
    example = parse(body(hello, system="You are a scientist"))
    assert prompt_tokens(example, TOKENIZER) == 14 == dialect.prompt_tokens(example, TOKENIZER)
    assert module.render_count_tokens(14) == {"input_tokens": 14}
    image = block("image", source("url", url="https://x/y.png"))
    with_image = parse(body(user(text("Hello, Claude"), image), system="You are a scientist"))
    # A URL can't be fetched offline: counted as 1024 x 1024 px, ceil(1024 * 1024 / 750).
    assert prompt_tokens(with_image, TOKENIZER) == 14 + 1399
    auto = prompt_tokens(parse(body(tools=[TOOL])), TOKENIZER)
    forced = prompt_tokens(parse(body(**FORCED)), TOKENIZER)
    assert auto - forced == module.TOOL_PROMPT_AUTO - module.TOOL_PROMPT_FORCED


@dataclass
class Info:
    id: str
    created: int
    context_window: int = 200000
    max_output_tokens: int = 64000


HAIKU = Info("claude-3-5-haiku-20241022", 1729555200)
SONNET = Info("claude-sonnet-4-5-20250929", 1759104000)
OPUS = Info("claude-opus-4-1-20250805", 1754352000)


def test_model_list_has_claude_shape_and_pages() -> None:
    model = module.render_model(SONNET)
    ModelInfo.model_validate(model)
    assert (model["display_name"], model["created_at"]) == (
        "Claude Sonnet 4.5",
        "2025-09-29T00:00:00Z",
    )
    assert module.render_model(HAIKU)["display_name"] == "Claude Haiku 3.5"
    page = module.render_model_list([HAIKU, SONNET, OPUS])
    assert [m["id"] for m in page["data"]] == [SONNET.id, OPUS.id, HAIKU.id]
    assert (page["has_more"], page["first_id"], page["last_id"]) == (False, SONNET.id, HAIKU.id)
    first = module.render_model_list([HAIKU, SONNET, OPUS], limit=2)
    assert first["has_more"] and first["last_id"] == OPUS.id
    rest = module.render_model_list([HAIKU, SONNET, OPUS], limit=2, after_id=OPUS.id)
    assert [m["id"] for m in rest["data"]] == [HAIKU.id] and not rest["has_more"]


# --- the real SDK client, over an in-memory transport -----------------------------------------


def sdk_client(answer: Any) -> anthropic.Anthropic:
    """A client whose requests the dialect parses and answers (`answer(exchange) -> Reply`)."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            exchange = dialect.parse(
                json.loads(request.content), Inbound(request.url.path, headers=headers)
            )
            reply = answer(exchange)
        except APIError as error:
            payload = dialect.render_error(error)
            status = dialect.error_status(error)
            return httpx2.Response(status, json=payload, headers=module.error_headers(error))
        if exchange.stream:
            sse = b"".join(dialect.render_stream(reply, exchange))
            return httpx2.Response(200, content=sse, headers={"content-type": "text/event-stream"})
        headers = dialect.reply_headers(reply, exchange)
        return httpx2.Response(200, json=dialect.render(reply, exchange), headers=headers)

    http = httpx2.Client(transport=httpx2.MockTransport(handle))
    return anthropic.Anthropic(
        api_key="sk-ant", base_url="http://mock", http_client=http, max_retries=0
    )


def overloaded(exchange: Exchange) -> Reply:
    raise APIError(503, "Overloaded")


def test_the_sdk_sends_what_we_accept_and_reads_what_we_send() -> None:
    calls = (("get_weather", {"city": "Oslo"}),)
    reply = make_reply("Sunny.", reasoning="Check the forecast.", calls=calls, finish="tool_calls")
    client = sdk_client(lambda exchange: reply)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request: Any = {
        "model": "claude-mock-1",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Oslo?"}],
        "tools": [{"name": "get_weather", "input_schema": schema}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    created = client.messages.create(**request)
    assert created.stop_reason == "tool_use" and created._request_id is not None
    with client.messages.stream(**request) as stream:
        assert stream.get_final_message().model_dump() == created.model_dump()
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(**request | {"messages": [{"role": "system", "content": "x"}]})
    assert info.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(anthropic.OverloadedError):
        sdk_client(overloaded).messages.create(**request)


def test_an_in_stream_error_event_raises_in_the_sdk() -> None:
    frames = dialect.render_stream(make_reply("Hello there!"), EXCHANGE)
    cut = b"".join([*frames[:4], dialect.stream_error_frame(APIError(529, "Overloaded"))])
    sse = {"content-type": "text/event-stream"}
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, content=cut, headers=sse))
    client = anthropic.Anthropic(
        api_key="k", base_url="http://mock", http_client=httpx2.Client(transport=transport)
    )
    request: Any = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        client.messages.stream(**request) as stream,
    ):
        stream.get_final_message()
    assert info.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
