"""Chat Completions dialect in-process: what it accepts, what it rejects (with the API's words),
and the shape of what it renders (validated against the official spec)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.core.errors import APIError
from mockserver.core.exchange import ToolCall
from mockserver.core.reply import Choice, Reply, Usage
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.openai.chat import ChatDialect
from tests.openapi_spec import validate

AUTH = {"authorization": "Bearer sk-test"}
dialect = ChatDialect()


def parse(body: Any, headers: dict[str, str] | None = None) -> Any:
    inbound = Inbound("/v1/chat/completions", headers=AUTH if headers is None else headers)
    return dialect.parse(body, inbound)


def rejected(body: Any) -> APIError:
    """The error for `body`, read with `validation: strict` (known fields fail either way)."""
    with pytest.raises(APIError) as info, leniency.reading(strict=True):
        parse(body)
    return info.value


def test_content_as_string_or_parts_and_every_part_type() -> None:
    exchange = parse(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {
                    "role": "user",
                    "name": "ann",
                    "content": [
                        {"type": "text", "text": "look"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                        {"type": "file", "file": {"file_data": "data:application/pdf;base64,A"}},
                        {"type": "text", "text": "here"},
                    ],
                },
            ],
            "temperature": 0.2,
            "seed": 4,
            "user": "u1",
            "metadata": {"a": "b"},
            "reasoning_effort": "low",
            "some_future_field": {"harmless": True},
        }
    )
    assert exchange.system == "be brief"
    assert exchange.last_user == "look\nhere"
    assert [a.kind for a in exchange.messages[1].attachments] == ["image", "audio", "file"]
    assert exchange.messages[1].attachments[0].mime_type == "image/png"
    assert exchange.reasoning_effort == "low"


def test_tool_result_resolves_function_name_and_turn() -> None:
    exchange = parse(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            ],
        }
    )
    result = exchange.tool_result
    assert result is not None and result.tool_name == "get_weather" and result.text == "sunny"
    assert exchange.turn == 1


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        (
            {"messages": [{"role": "user", "content": "x"}]},
            "you must provide a model parameter",
            None,
            None,
        ),
        (
            {"model": "gpt-4o"},
            "Missing required parameter: 'messages'.",
            "messages",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "messages": []},
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
            "empty array instead.",
            "messages",
            "empty_array",
        ),
        (
            {"model": "gpt-4o", "messages": "hi"},
            "Invalid type for 'messages': expected an array, but got a string instead.",
            "messages",
            "invalid_type",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]},
            "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', "
            "'function', 'tool', and 'developer'.",
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "n": 0},
            "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
            "n",
            "integer_below_min_value",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "x"}],
                "temperature": "hot",
            },
            "Invalid type for 'temperature': expected a decimal, but got a string instead.",
            "temperature",
            "invalid_type",
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "tool", "tool_call_id": "c", "content": "x"}],
            },
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
            "message with 'tool_calls'.",
            "messages[0].role",
            None,
        ),
        (
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "x"}],
                "stream_options": {"include_usage": True},
            },
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            None,
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "video"}]}]},
            "Invalid value: 'video'. Supported values are: 'text', 'image_url', 'input_audio', "
            "'refusal', 'audio', and 'file'.",
            "messages[0].content[0].type",
            "invalid_value",
        ),
    ],
)
def test_rejections_use_the_api_words(
    body: Any, message: str, param: str | None, code: str | None
) -> None:
    error = rejected(body)
    assert (error.status, error.message, error.param, error.code) == (400, message, param, code)
    assert dialect.render_error(error) == {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def test_missing_key_is_401() -> None:
    with pytest.raises(APIError) as info:
        parse({"model": "gpt-4o", "messages": []}, headers={})
    assert info.value.status == 401
    assert info.value.message.startswith("You didn't provide an API key.")


def reply(*choices: Choice) -> Reply:
    return Reply(
        list(choices),
        key="k",
        created=1735689600,
        fingerprint="fp_0123456789",
        usage=Usage(10, 5, 2),
    )


def test_render_text_tool_calls_and_refusal_validate_against_spec() -> None:
    exchange = parse({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "n": 3})
    text = Choice(text="Hi there", text_pieces=["Hi", " there"])
    call = ToolCall("call_abc", "f", '{"a": 1}')
    tools = Choice(
        tool_calls=[call], finish_reason="tool_calls", argument_pieces=[['{"a', '": 1}']]
    )
    refusal = Choice(refusal="No.", refusal_pieces=["No", "."])
    body = dialect.render(reply(text, tools, refusal), exchange)
    validate("CreateChatCompletionResponse", body)
    assert body["choices"][1]["message"]["content"] is None
    assert body["choices"][2]["message"]["refusal"] == "No."
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 2

    stream_exchange = parse(
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "x"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    frames = dialect.render_stream(reply(text, tools, refusal), stream_exchange)
    assert frames[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(f.removeprefix(b"data: ")) for f in frames[:-1]]
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 15
    arguments = "".join(
        tc["function"]["arguments"]
        for c in chunks
        for choice in c["choices"]
        for tc in choice["delta"].get("tool_calls", [])
    )
    assert arguments == '{"a": 1}'
