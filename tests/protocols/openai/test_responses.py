"""Responses dialect in-process: what `/v1/responses` accepts and rejects (in the API's words),
the `response` object and event stream it renders (checked against the official spec and the
openai SDK's own types and stream accumulator), and `previous_response_id` chaining."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx2
import openai
import pydantic
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.reply import Choice, Reply, Usage
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.openai.response_store import ResponseStore
from mockserver.protocols.openai.responses import (
    ResponsesDialect,
    make_response_id,
    render_input_tokens,
)
from tests.openapi_spec import validate

AUTH = {"authorization": "Bearer sk-test"}
EVENT_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)


def parse(dialect: ResponsesDialect, body: Any, headers: dict[str, str] | None = None) -> Exchange:
    return dialect.parse(
        body, Inbound("/v1/responses", headers=AUTH if headers is None else headers)
    )


def rejected(body: Any, dialect: ResponsesDialect | None = None) -> APIError:
    with pytest.raises(APIError) as info:
        parse(dialect or ResponsesDialect(), body)
    return info.value


def pieces(text: str) -> list[str]:
    """Word-sized pieces that join back to `text` (the engine cuts on tokens; any cut will do)."""
    return re.findall(r"\s*\S+|\s+$", text)


def text_choice(text: str, **fields: Any) -> Choice:
    return Choice(
        text=text, text_pieces=pieces(text), completion_tokens=len(pieces(text)), **fields
    )


def calls_choice(*calls: ToolCall) -> Choice:
    return Choice(
        tool_calls=list(calls),
        argument_pieces=[pieces(c.arguments) for c in calls],
        finish_reason="tool_calls",
        completion_tokens=9,
    )


def reply(choice: Choice, key: str = "key-1", created: int = 1741476777) -> Reply:
    usage = Usage(20, choice.completion_tokens, choice.reasoning_tokens, cached_tokens=4)
    return Reply([choice], key=key, created=created, fingerprint="fp_0123456789", usage=usage)


def events(frames: list[bytes]) -> list[dict[str, Any]]:
    """Decode SSE frames, checking each is `event: <type>` + one `data:` line."""
    decoded = []
    for frame in frames:
        event_line, data_line, *rest = frame.decode().split("\n")
        assert rest == ["", ""], frame
        payload = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {payload['type']}"
        decoded.append(payload)
    return decoded


def checked_body(dialect: ResponsesDialect, r: Reply, exchange: Exchange) -> dict[str, Any]:
    body = dialect.render(r, exchange)
    validate("Response", body)
    Response.model_validate(body)
    return body


def checked_stream(dialect: ResponsesDialect, r: Reply, exchange: Exchange) -> list[dict[str, Any]]:
    stream = events(dialect.render_stream(r, exchange))
    assert [e["sequence_number"] for e in stream] == list(range(len(stream)))
    for event in stream:
        validate("ResponseStreamEvent", event)
        EVENT_ADAPTER.validate_python(event)
    # The stream ends in exactly the non-stream body.
    assert stream[-1]["response"] == dialect.render(r, exchange)
    return stream


# --- parse ------------------------------------------------------------------------------------


def test_string_input_and_instructions_first() -> None:
    exchange = parse(
        ResponsesDialect(), {"model": "gpt-4o", "input": "hi", "instructions": "be brief"}
    )
    assert [(m.role, m.text) for m in exchange.messages] == [("system", "be brief"), ("user", "hi")]
    assert exchange.dialect == "openai.responses" and exchange.endpoint == "/v1/responses"
    assert exchange.tool_choice.mode == "none" and exchange.n == 1 and not exchange.stream


def test_item_list_with_every_role_and_part_type() -> None:
    exchange = parse(
        ResponsesDialect(),
        {
            "model": "gpt-4o",
            "input": [
                {"role": "developer", "content": "dev rules"},
                {"role": "system", "content": [{"type": "input_text", "text": "sys"}]},
                {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "look"},
                        {
                            "type": "input_image",
                            "image_url": "data:image/png;base64,AA",
                            "detail": "low",
                        },
                        {
                            "type": "input_file",
                            "file_data": "data:application/pdf;base64,AAA",
                            "filename": "a.pdf",
                        },
                        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                        {"type": "input_text", "text": "here"},
                    ],
                },
                {
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "seen", "annotations": []}],
                },
                {"role": "user", "content": "thanks"},
            ],
            "temperature": 0.3,
            "top_p": 0.9,
            "metadata": {"a": "b"},
            "user": "u1",
            "service_tier": "auto",
            "truncation": "auto",
            "include": ["reasoning.encrypted_content"],
            "parallel_tool_calls": False,
            "store": True,
            "some_future_field": {"harmless": True},
        },
    )
    assert exchange.system == "dev rules\nsys"
    user = exchange.messages[2]
    assert user.text == "look\nhere"
    assert [(a.kind, a.mime_type) for a in user.attachments] == [
        ("image", "image/png"),
        ("file", "application/pdf"),
        ("audio", "audio/wav"),
    ]
    assert user.attachments[0].detail == "low"
    assert exchange.messages[3].role == "assistant" and exchange.messages[3].text == "seen"
    assert exchange.last_user == "thanks" and exchange.turn == 1


def test_function_calls_join_their_assistant_turn_and_outputs_name_the_tool() -> None:
    exchange = parse(
        ResponsesDialect(),
        {
            "model": "gpt-4o",
            "input": [
                {"role": "user", "content": "weather in Paris and Rome?"},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Checking."}],
                },
                {
                    "type": "function_call",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                },
                {
                    "type": "function_call",
                    "call_id": "call_2",
                    "name": "get_time",
                    "arguments": "{}",
                },
                {"type": "function_call_output", "call_id": "call_1", "output": "21C"},
                {
                    "type": "function_call_output",
                    "call_id": "call_2",
                    "output": [{"type": "input_text", "text": "noon"}],
                },
                {"type": "item_reference", "id": "msg_123"},
            ],
        },
    )
    assistant = exchange.messages[1]
    assert (assistant.role, assistant.text) == ("assistant", "Checking.")
    assert [(c.id, c.name) for c in assistant.tool_calls] == [
        ("call_1", "get_weather"),
        ("call_2", "get_time"),
    ]
    assert exchange.turn == 1
    results = [(m.role, m.tool_call_id, m.tool_name, m.text) for m in exchange.messages[2:]]
    assert results == [
        ("tool", "call_1", "get_weather", "21C"),
        ("tool", "call_2", "get_time", "noon"),
    ]
    assert exchange.tool_result is not None and exchange.tool_result.tool_name == "get_time"


def test_tools_tool_choice_text_format_and_reasoning_map_to_the_exchange() -> None:
    dialect = ResponsesDialect()
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather",
            "parameters": {"type": "object"},
            "strict": True,
        },
        {"type": "web_search"},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {"type": "mcp", "server_label": "x", "server_url": "https://example.com"},
        {"type": "custom", "name": "grammar_tool"},
    ]
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    exchange = parse(
        dialect,
        {
            "model": "o4-mini",
            "input": "x",
            "tools": tools,
            "tool_choice": {"type": "function", "name": "get_weather"},
            "text": {
                "format": {"type": "json_schema", "name": "thing", "schema": schema, "strict": True}
            },
            "reasoning": {"effort": "high", "summary": "auto"},
            "max_output_tokens": 500,
            "stream": True,
            "stream_options": {"include_obfuscation": False},
        },
    )
    assert [(t.name, t.description) for t in exchange.tools] == [
        ("get_weather", "Weather"),
        ("grammar_tool", ""),
    ]
    assert (exchange.tool_choice.mode, exchange.tool_choice.name) == ("function", "get_weather")
    fmt = exchange.response_format
    assert (fmt.type, fmt.name, fmt.schema, fmt.strict) == ("json_schema", "thing", schema, True)
    assert (exchange.reasoning_effort, exchange.max_tokens, exchange.stream) == ("high", 500, True)

    def choice_of(value: Any) -> tuple[str, str | None]:
        parsed = parse(
            dialect, {"model": "gpt-4o", "input": "x", "tools": tools, "tool_choice": value}
        )
        return parsed.tool_choice.mode, parsed.tool_choice.name

    assert choice_of("required") == ("required", None)
    assert choice_of("none") == ("none", None)
    assert choice_of(None) == ("auto", None)
    assert choice_of({"type": "allowed_tools", "mode": "required", "tools": []}) == (
        "required",
        None,
    )
    assert choice_of({"type": "web_search_preview"}) == ("auto", None)
    json_object = parse(
        dialect, {"model": "gpt-4o", "input": "x", "text": {"format": {"type": "json_object"}}}
    )
    assert json_object.response_format.type == "json_object"


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        (
            {"input": "x"},
            "Missing required parameter: 'model'.",
            "model",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o"},
            "Missing required parameter: 'input'.",
            "input",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "input": 5},
            "Invalid type for 'input': expected one of a string or array of input items, but got "
            "an integer instead.",
            "input",
            "invalid_type",
        ),
        (
            {"model": "gpt-4o", "input": [{"role": "bot", "content": "x"}]},
            "Invalid value: 'bot'. Supported values are: 'assistant', 'system', 'developer', and "
            "'user'.",
            "input[0].role",
            "invalid_value",
        ),
        (
            {
                "model": "gpt-4o",
                "input": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
            },
            "Invalid value: 'text'. Supported values are: 'input_text', 'input_image', "
            "'input_audio', 'output_text', 'refusal', 'input_file', 'computer_screenshot', "
            "'summary_text', and 'encrypted_content'.",
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            {
                "model": "gpt-4o",
                "input": [{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}],
            },
            "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "input": [{"role": "user"}]},
            "Missing required parameter: 'input[0].content'.",
            "input[0].content",
            "missing_required_parameter",
        ),
        (
            {
                "model": "gpt-4o",
                "input": [{"type": "function_call_output", "call_id": "call_9", "output": "x"}],
            },
            "No tool call found for function call output with call_id call_9.",
            "input",
            None,
        ),
        (
            {
                "model": "gpt-4o",
                "input": [
                    {"type": "function_call", "call_id": "call_9", "name": "f", "arguments": "{}"},
                    {"role": "user", "content": "and?"},
                ],
            },
            "No tool output found for function call call_9.",
            "input",
            None,
        ),
        (
            {
                "model": "gpt-4o",
                "input": [{"type": "function_call", "call_id": "call_9", "arguments": "{}"}],
            },
            "Missing required parameter: 'input[0].name'.",
            "input[0].name",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "input": [{"type": "reasoning", "id": "rs_1"}]},
            "Missing required parameter: 'input[0].summary'.",
            "input[0].summary",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "input": "x", "max_output_tokens": 5},
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
            "but got 5 instead.",
            "max_output_tokens",
            "integer_below_min_value",
        ),
        (
            {"model": "gpt-4o", "input": "x", "temperature": 3},
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 "
            "instead.",
            "temperature",
            "decimal_above_max_value",
        ),
        (
            {"model": "gpt-4o", "input": "x", "reasoning": {"effort": "extreme"}},
            "Invalid value: 'extreme'. Supported values are: 'none', 'minimal', 'low', 'medium', "
            "'high', and 'xhigh'.",
            "reasoning.effort",
            "invalid_value",
        ),
        (
            {
                "model": "gpt-4o",
                "input": "x",
                "text": {"format": {"type": "json_schema", "schema": {}}},
            },
            "Missing required parameter: 'text.format.name'.",
            "text.format.name",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "input": "x", "tools": [{"type": "function", "parameters": {}}]},
            "Missing required parameter: 'tools[0].name'.",
            "tools[0].name",
            "missing_required_parameter",
        ),
        (
            {
                "model": "gpt-4o",
                "input": "x",
                "tools": [{"type": "function", "name": "f"}],
                "tool_choice": {"type": "function", "name": "g"},
            },
            "Invalid value for 'tool_choice': tool 'g' not found in 'tools'.",
            "tool_choice",
            None,
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
            "Unknown parameter: 'messages'.",
            "messages",
            "unknown_parameter",
        ),
        (
            {"model": "gpt-4o", "input": "x", "previous_response_id": "resp_missing"},
            "Previous response with id 'resp_missing' not found.",
            "previous_response_id",
            "previous_response_not_found",
        ),
    ],
)
def test_rejections_use_the_api_words(
    body: Any, message: str, param: str | None, code: str | None
) -> None:
    error = rejected(body)
    assert (error.status, error.message, error.param, error.code) == (400, message, param, code)
    assert ResponsesDialect().render_error(error) == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def test_missing_key_is_401() -> None:
    with pytest.raises(APIError) as info:
        parse(ResponsesDialect(), {"model": "gpt-4o", "input": "x"}, headers={})
    assert info.value.status == 401


# --- previous_response_id and the store ---------------------------------------------------------


def test_previous_response_id_continues_the_stored_conversation() -> None:
    dialect = ResponsesDialect()
    first = parse(
        dialect, {"model": "gpt-4o", "input": "weather in Paris?", "instructions": "old rules"}
    )
    call = ToolCall("call_w1", "get_weather", '{"city":"Paris"}')
    first_reply = reply(calls_choice(call), key="first")
    dialect.remember(first_reply, first)
    first_id = dialect.render(first_reply, first)["id"]

    second = parse(
        dialect,
        {
            "model": "gpt-4o",
            "previous_response_id": first_id,
            "instructions": "new rules",
            "input": [{"type": "function_call_output", "call_id": "call_w1", "output": "21C"}],
        },
    )
    # New instructions first; the old ones are not carried over (as the live API documents).
    assert [(m.role, m.text) for m in second.messages] == [
        ("system", "new rules"),
        ("user", "weather in Paris?"),
        ("assistant", ""),
        ("tool", "21C"),
    ]
    assert second.messages[2].tool_calls == [call]
    assert second.tool_result is not None and second.tool_result.tool_name == "get_weather"
    assert second.turn == 1

    second_reply = reply(text_choice("It is 21C in Paris."), key="second")
    dialect.remember(second_reply, second)
    body = dialect.render(second_reply, second)
    assert body["previous_response_id"] == first_id and body["instructions"] == "new rules"

    third = parse(
        dialect, {"model": "gpt-4o", "previous_response_id": body["id"], "input": "thanks"}
    )
    assert [m.role for m in third.messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert third.messages[3].text == "It is 21C in Paris." and third.turn == 2

    unanswered = rejected(
        {"model": "gpt-4o", "previous_response_id": first_id, "input": "hello?"}, dialect
    )
    assert unanswered.message == "No tool output found for function call call_w1."


def test_store_false_responses_cannot_be_continued() -> None:
    dialect = ResponsesDialect()
    exchange = parse(dialect, {"model": "gpt-4o", "input": "x", "store": False})
    r = reply(text_choice("y"))
    dialect.remember(r, exchange)
    body = checked_body(dialect, r, exchange)
    assert body["store"] is False and len(dialect.store) == 0
    error = rejected({"model": "gpt-4o", "input": "z", "previous_response_id": body["id"]}, dialect)
    assert error.message == f"Previous response with id '{body['id']}' not found."


def test_store_is_bounded_and_forgets_the_oldest_first() -> None:
    dialect = ResponsesDialect(ResponseStore(capacity=3))
    exchange = parse(dialect, {"model": "gpt-4o", "input": "x"})
    replies = [reply(text_choice(f"answer {i}"), key=f"k{i}") for i in range(5)]
    for r in replies:
        dialect.remember(r, exchange)
    stored = [make_response_id(r) in dialect.store for r in replies]
    assert stored == [False, False, True, True, True] and len(dialect.store) == 3
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        ResponseStore(capacity=0)


def test_retrieve_and_delete_stored_responses() -> None:
    dialect = ResponsesDialect()
    exchange = parse(dialect, {"model": "gpt-4o", "input": "x"})
    r = reply(text_choice("kept"))
    dialect.remember(r, exchange)
    response_id = make_response_id(r)
    assert dialect.retrieve(response_id) == dialect.render(r, exchange)
    assert dialect.delete(response_id) == {"id": response_id, "object": "response", "deleted": True}
    for action in (dialect.retrieve, dialect.delete):
        with pytest.raises(APIError) as info:
            action(response_id)
        assert (info.value.status, info.value.message) == (
            404,
            f"Response with id '{response_id}' not found.",
        )


# --- render: the response object and its stream ------------------------------------------------


def test_text_reply_body_and_stream() -> None:
    dialect = ResponsesDialect()
    exchange = parse(
        dialect, {"model": "gpt-4o", "input": "hi", "metadata": {"k": "v"}, "temperature": 0.5}
    )
    r = reply(text_choice("Hello there, friend."))
    body = checked_body(dialect, r, exchange)
    assert re.fullmatch(r"resp_[0-9a-f]{48}", body["id"])
    assert body["id"][5:13] == f"{r.created:08x}"  # live ids start with their creation time
    message = body["output"][0]
    assert (
        re.fullmatch(r"msg_[0-9a-f]{48}", message["id"]) and message["id"][-16:] == body["id"][-16:]
    )
    assert (body["object"], body["status"], body["created_at"], body["model"]) == (
        "response",
        "completed",
        r.created,
        "gpt-4o",
    )
    assert (
        body["completed_at"] >= body["created_at"]
        and body["error"] is None
        and body["incomplete_details"] is None
    )
    assert (body["metadata"], body["temperature"], body["top_p"], body["store"]) == (
        {"k": "v"},
        0.5,
        1.0,
        True,
    )
    assert "output_text" not in body  # an SDK convenience property, not a wire field
    assert message["content"] == [
        {"type": "output_text", "annotations": [], "logprobs": [], "text": "Hello there, friend."}
    ]
    assert body["usage"] == {
        "input_tokens": 20,
        "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 23,
    }
    assert Response.model_validate(body).output_text == "Hello there, friend."
    assert dialect.render(r, exchange) == body  # deterministic

    stream = checked_stream(dialect, r, exchange)
    assert [e["type"] for e in stream] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert (
        stream[0]["response"]["status"] == "in_progress" and stream[0]["response"]["output"] == []
    )
    deltas = [e for e in stream if e["type"] == "response.output_text.delta"]
    assert [e["delta"] for e in deltas] == ["Hello", " there,", " friend."]
    assert all(
        e["logprobs"] == [] and e["obfuscation"] and e["item_id"] == message["id"] for e in deltas
    )


def test_parallel_function_calls() -> None:
    dialect = ResponsesDialect()
    tools = [
        {"type": "function", "name": n, "parameters": {"type": "object"}}
        for n in ("get_weather", "get_time")
    ]
    exchange = parse(
        dialect, {"model": "gpt-4o", "input": "x", "tools": tools, "tool_choice": "required"}
    )
    calls = [
        ToolCall("call_a", "get_weather", '{"city": "Paris"}'),
        ToolCall("call_b", "get_time", '{"tz": "CET"}'),
    ]
    r = reply(calls_choice(*calls))
    body = checked_body(dialect, r, exchange)
    assert [
        (o["type"], o["call_id"], o["name"], o["arguments"], o["status"]) for o in body["output"]
    ] == [
        ("function_call", "call_a", "get_weather", '{"city": "Paris"}', "completed"),
        ("function_call", "call_b", "get_time", '{"tz": "CET"}', "completed"),
    ]
    assert all(re.fullmatch(r"fc_[0-9a-f]{48}", o["id"]) for o in body["output"])
    assert body["tools"][0] == {
        "type": "function",
        "description": None,
        "name": "get_weather",
        "parameters": {"type": "object"},
        "strict": True,
    }
    assert body["tool_choice"] == "required"

    stream = checked_stream(dialect, r, exchange)
    kinds = [e["type"] for e in stream]
    assert (
        kinds.count("response.output_item.added") == 2
        and kinds.count("response.function_call_arguments.done") == 2
    )
    added = [e["item"] for e in stream if e["type"] == "response.output_item.added"]
    assert all(a["arguments"] == "" and a["status"] == "in_progress" for a in added)
    for index, call in enumerate(calls):
        joined = "".join(
            e["delta"]
            for e in stream
            if e["type"] == "response.function_call_arguments.delta" and e["output_index"] == index
        )
        assert joined == call.arguments


@pytest.mark.parametrize("summary", [None, "auto"])
def test_reasoning_item_with_and_without_a_summary(summary: str | None) -> None:
    dialect = ResponsesDialect()
    request: dict[str, Any] = {
        "model": "o4-mini",
        "input": "x",
        "include": ["reasoning.encrypted_content"],
    }
    request["reasoning"] = (
        {"effort": "low"} if summary is None else {"effort": "low", "summary": summary}
    )
    exchange = parse(dialect, request)
    choice = text_choice("Done.", reasoning="First, think.", reasoning_pieces=["First,", " think."])
    choice.reasoning_tokens, choice.completion_tokens = 12, 13
    r = reply(choice)
    body = checked_body(dialect, r, exchange)
    reasoning, message = body["output"]
    assert re.fullmatch(r"rs_[0-9a-f]{48}", reasoning["id"]) and reasoning["encrypted_content"]
    expected_summary = (
        [] if summary is None else [{"type": "summary_text", "text": "First, think."}]
    )
    assert reasoning["summary"] == expected_summary and message["type"] == "message"
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] == 12
    assert body["reasoning"] == {"effort": "low", "summary": summary}

    kinds = [e["type"] for e in checked_stream(dialect, r, exchange)]
    summary_events = [k for k in kinds if "reasoning_summary" in k]
    if summary is None:
        assert summary_events == []
    else:
        assert summary_events == [
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
        ]


def test_reasoning_tokens_alone_give_an_empty_reasoning_item() -> None:
    dialect = ResponsesDialect()
    exchange = parse(dialect, {"model": "o4-mini", "input": "x"})
    choice = text_choice("ok")
    choice.reasoning_tokens = 64
    body = checked_body(dialect, reply(choice), exchange)
    assert [o["type"] for o in body["output"]] == ["reasoning", "message"]
    assert body["output"][0]["summary"] == [] and "encrypted_content" not in body["output"][0]


def test_refusal() -> None:
    dialect = ResponsesDialect()
    exchange = parse(dialect, {"model": "gpt-4o", "input": "x"})
    r = reply(
        Choice(refusal="I can't help with that.", refusal_pieces=["I can't", " help with that."])
    )
    body = checked_body(dialect, r, exchange)
    assert body["output"][0]["content"] == [
        {"type": "refusal", "refusal": "I can't help with that."}
    ]
    kinds = [e["type"] for e in checked_stream(dialect, r, exchange)]
    assert kinds[3:8] == [
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
    ]


@pytest.mark.parametrize(
    ("finish", "reason"), [("length", "max_output_tokens"), ("content_filter", "content_filter")]
)
def test_cut_replies_are_incomplete(finish: Any, reason: str) -> None:
    dialect = ResponsesDialect()
    exchange = parse(dialect, {"model": "gpt-4o", "input": "x", "max_output_tokens": 16})
    r = reply(text_choice("A long answer that was cut", finish_reason=finish))
    body = checked_body(dialect, r, exchange)
    assert (body["status"], body["incomplete_details"], body["completed_at"]) == (
        "incomplete",
        {"reason": reason},
        None,
    )
    assert body["output"][0]["status"] == "incomplete" and body["max_output_tokens"] == 16
    stream = checked_stream(dialect, r, exchange)
    assert stream[-1]["type"] == "response.incomplete"


def test_stop_sequence_and_structured_json_complete_normally() -> None:
    dialect = ResponsesDialect()
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    exchange = parse(
        dialect,
        {
            "model": "gpt-4o",
            "input": "x",
            "text": {
                "format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}
            },
        },
    )
    r = reply(text_choice('{"city": "Paris"}', is_json=True, stop_sequence="END"))
    body = checked_body(dialect, r, exchange)
    assert body["status"] == "completed" and json.loads(
        body["output"][0]["content"][0]["text"]
    ) == {"city": "Paris"}
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True},
        "verbosity": "medium",
    }
    checked_stream(dialect, r, exchange)


def test_spliced_deltas_stay_valid_json() -> None:
    dialect = ResponsesDialect()
    exchange = parse(dialect, {"model": "gpt-4o", "input": "x", "stream": True})
    text = 'She said "héllo"\n\tthen \\ left 🙂 </script>'
    stream = checked_stream(dialect, reply(text_choice(text)), exchange)
    deltas = [e["delta"] for e in stream if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == text and len(deltas) > 3


def test_parameters_are_checked_before_the_previous_response_is_looked_up() -> None:
    error = rejected(
        {"model": "gpt-4o", "input": "x", "previous_response_id": "resp_x", "top_p": 2}
    )
    assert error.param == "top_p"


def test_obfuscation_can_be_switched_off() -> None:
    dialect = ResponsesDialect()
    exchange = parse(
        dialect,
        {
            "model": "gpt-4o",
            "input": "x",
            "stream": True,
            "stream_options": {"include_obfuscation": False},
        },
    )
    stream = checked_stream(dialect, reply(text_choice("a b c")), exchange)
    assert not any("obfuscation" in e for e in stream)


def test_error_event_and_failed_response() -> None:
    dialect = ResponsesDialect()
    error = APIError(429, "Rate limit reached.", code="rate_limit_exceeded")
    (error_event,) = events([dialect.stream_error_frame(error, sequence_number=7)])
    assert error_event == {
        "type": "error",
        "sequence_number": 7,
        "code": "rate_limit_exceeded",
        "message": "Rate limit reached.",
        "param": None,
    }
    validate("ResponseStreamEvent", error_event)

    exchange = parse(dialect, {"model": "gpt-4o", "input": "x", "stream": True})
    r = reply(text_choice("never finished"))
    frames = dialect.render_stream(r, exchange)
    cut = 5
    failed = events(
        dialect.failed_frames(r, exchange, APIError(500, "The server had an error."), cut)
    )
    assert [e["type"] for e in failed] == ["response.failed"] and failed[0][
        "sequence_number"
    ] == cut
    response = failed[0]["response"]
    assert (response["status"], response["error"]) == (
        "failed",
        {"code": "server_error", "message": "The server had an error."},
    )
    assert response["id"] == events(frames)[0]["response"]["id"]
    validate("ResponseStreamEvent", failed[0])
    EVENT_ADAPTER.validate_python(failed[0])
    limited = events(dialect.failed_frames(r, exchange, error, cut))[0]["response"]["error"]
    assert limited["code"] == "rate_limit_exceeded"


def test_headers_and_input_tokens_body() -> None:
    dialect = ResponsesDialect()
    headers = dialect.reply_headers(reply(text_choice("x")), None)
    assert re.fullmatch(r"req_[0-9a-f]{32}", headers["x-request-id"])
    assert render_input_tokens(42) == {"object": "response.input_tokens", "input_tokens": 42}


# --- the openai SDK end to end, over an in-process transport ------------------------------------


def sdk_client(dialect: ResponsesDialect, answer: Callable[[Exchange], Choice]) -> openai.OpenAI:
    """An OpenAI client whose HTTP goes straight into the dialect (no server, no network)."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        inbound = Inbound(
            request.url.path, headers={k.lower(): v for k, v in request.headers.items()}
        )
        try:
            exchange = dialect.parse(json.loads(request.content), inbound)
        except APIError as error:
            return httpx2.Response(error.status, json=dialect.render_error(error))
        r = reply(answer(exchange), key=ids.digest(request.content))
        dialect.remember(r, exchange)
        if exchange.stream:
            stream = b"".join(dialect.render_stream(r, exchange))
            return httpx2.Response(
                200, content=stream, headers={"content-type": "text/event-stream"}
            )
        return httpx2.Response(200, json=dialect.render(r, exchange))

    transport = httpx2.MockTransport(handle)
    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://mock/v1",
        http_client=httpx2.Client(transport=transport),
        max_retries=0,
    )


def test_sdk_create_stream_and_chain() -> None:
    dialect = ResponsesDialect()

    def answer(exchange: Exchange) -> Choice:
        if exchange.tool_result is not None:
            return text_choice(f"It is {exchange.tool_result.text} in Paris.")
        return calls_choice(ToolCall("call_p1", "get_weather", '{"city": "Paris"}'))

    client = sdk_client(dialect, answer)
    tools: Any = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object"},
            "strict": False,
        }
    ]
    with client.responses.stream(model="gpt-4o", input="weather in Paris?", tools=tools) as stream:
        deltas = [e.delta for e in stream if e.type == "response.function_call_arguments.delta"]
        first = stream.get_final_response()
    assert "".join(deltas) == '{"city": "Paris"}'
    (call,) = first.output
    assert call.type == "function_call" and call.call_id == "call_p1" and call.name == "get_weather"
    assert first.usage is not None and first.usage.output_tokens == 9

    second = client.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": "call_p1", "output": "21C"}],
        tools=tools,
    )
    assert second.output_text == "It is 21C in Paris." and second.previous_response_id == first.id

    with client.responses.stream(
        model="gpt-4o", previous_response_id=second.id, input="and Rome?", tools=tools
    ) as stream:
        third = stream.get_final_response()
    assert third.output[0].type == "function_call"

    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="gpt-4o", previous_response_id="resp_nope", input="x")
    assert info.value.code == "previous_response_not_found"


def test_sdk_parse_reads_structured_output_and_stream_text() -> None:
    class Place(pydantic.BaseModel):
        city: str
        population: int

    dialect = ResponsesDialect()
    client = sdk_client(
        dialect,
        lambda exchange: text_choice('{"city": "Paris", "population": 2100000}', is_json=True),
    )
    parsed = client.responses.parse(model="gpt-4o", input="biggest French city?", text_format=Place)
    assert parsed.output_parsed == Place(city="Paris", population=2100000)

    with client.responses.stream(model="gpt-4o", input="x", text_format=Place) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == '{"city": "Paris", "population": 2100000}' and final.output_parsed == Place(
        city="Paris", population=2100000
    )
    assert final.usage is not None and final.usage.input_tokens == 20


def test_sdk_sees_an_incomplete_stream() -> None:
    dialect = ResponsesDialect()
    client = sdk_client(dialect, lambda exchange: text_choice("cut short", finish_reason="length"))
    with client.responses.stream(model="gpt-4o", input="x", max_output_tokens=16) as stream:
        last = list(stream)[-1]
    assert last.type == "response.incomplete"
    assert (
        last.response.incomplete_details is not None
        and last.response.incomplete_details.reason == "max_output_tokens"
    )
    assert last.response.output_text == "cut short"


def test_ids_depend_on_their_reply_alone_whatever_was_rendered_before() -> None:
    dialect, exchange = (
        ResponsesDialect(),
        parse(ResponsesDialect(), {"model": "gpt-4o", "input": "hi"}),
    )
    first = reply(text_choice("a"), "key-1", 1741476777)
    second = reply(text_choice("b"), "key-2", 1741476999)
    alone = dialect.render(second, exchange)
    assert make_response_id(first).startswith(f"resp_{1741476777:08x}")
    assert make_response_id(second).startswith(f"resp_{1741476999:08x}")
    dialect.render(first, exchange)
    again = dialect.render(second, exchange)
    assert again["id"] == alone["id"] and again["output"][0]["id"] == alone["output"][0]["id"]
    assert again["output"][0]["id"].startswith(f"msg_{1741476999:08x}")
