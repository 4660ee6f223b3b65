"""Gemini dialect in-process: what it accepts (the bodies the google-genai SDK really sends and
hand-written REST bodies), what it rejects (with Google's words), and what it renders, checked
with the SDK's own types and parsers."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.engine.pipeline import body_too_large
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.gemini.extras import gemini_prompt_tokens
from mockserver.protocols.gemini.generate import api_key, api_version, split_model_action
from mockserver.protocols.gemini.stream import render_stream_array, stream_chunks
from tests.protocols.gemini.gemini_sdk import FakeGemini, choice, dialect, reply

KEY = {"x-goog-api-key": "test-key"}
WEATHER = ToolCall("call_weather0000000000000001", "get_weather", '{"city": "Paris"}')
TIME = ToolCall("call_time000000000000000001", "get_time", '{"zone": "CET"}')


def inbound(
    action: str = "generateContent",
    *,
    model: str = "gemini-2.5-flash",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    version: str = "v1beta",
) -> Inbound:
    path = f"/{version}/models/{model}:{action}"
    return Inbound(
        path,
        headers=KEY if headers is None else headers,
        query=query or {},
        path_params={"model": f"{model}:{action}"},
    )


def parse(body: Any, **options: Any) -> Exchange:
    return dialect.parse(body, inbound(**options))


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def rejected(body: Any, **options: Any) -> dict[str, Any]:
    """The error body (and checks that the wire status matches its `code`), read with
    `validation: strict` (bad values fail either way; unknown names only then)."""
    with pytest.raises(APIError) as info, leniency.reading(strict=True):
        parse(body, **options)
    error = dialect.render_error(info.value)["error"]
    assert dialect.error_status(info.value) == error["code"]
    return error  # type: ignore[no-any-return]


def validated(body: dict[str, Any]) -> types.GenerateContentResponse:
    """Parse a body the way the SDK does for the Gemini Developer API."""
    from google.genai.models import _GenerateContentResponse_from_mldev

    converted = _GenerateContentResponse_from_mldev(body)
    return types.GenerateContentResponse._from_response(response=converted, kwargs={})


# --- what the SDK sends ---------------------------------------------------------------------


def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return city


class Forecast(BaseModel):
    city: str
    days: list[int]


def test_sdk_generate_content_config_maps_to_the_exchange() -> None:
    fake = FakeGemini(reply(choice("ok")))
    config = types.GenerateContentConfig(
        system_instruction="Be brief.",
        temperature=0.5,
        top_p=0.9,
        top_k=20,
        candidate_count=2,
        max_output_tokens=100,
        stop_sequences=["END"],
        seed=7,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_mime_type="application/json",
        response_schema=Forecast,
        thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True),
        safety_settings=[
            types.SafetySetting(category="HARM_CATEGORY_HATE_SPEECH", threshold="BLOCK_NONE")
        ],
        tools=[get_weather],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode="ANY", allowed_function_names=["get_weather"]
            )
        ),
        labels={"team": "qa"},
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    fake.client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=config)
    (exchange,) = fake.exchanges
    assert exchange.model == "gemini-2.5-flash"
    assert exchange.endpoint == "/v1/models/gemini-2.5-flash:generateContent"
    assert not exchange.stream
    assert [(m.role, m.text) for m in exchange.messages] == [
        ("system", "Be brief."),
        ("user", "hi"),
    ]
    assert (exchange.n, exchange.max_tokens, exchange.stop, exchange.seed) == (2, 100, ["END"], 7)
    assert exchange.reasoning_budget == 1024
    assert exchange.response_format.type == "json_schema"
    assert exchange.response_format.name == "Forecast"
    schema = exchange.response_format.schema or {}
    assert schema["type"] == "object"
    assert schema["properties"]["days"] == {
        "items": {"type": "integer"},
        "title": "Days",
        "type": "array",
    }
    assert "property_ordering" not in schema and "propertyOrdering" not in schema
    (tool,) = exchange.tools
    assert (tool.name, tool.description) == ("get_weather", "Get the weather for a city.")
    assert tool.parameters["properties"] == {"city": {"type": "string"}}
    assert (exchange.tool_choice.mode, exchange.tool_choice.name) == ("function", "get_weather")


def test_sdk_history_with_media_calls_and_results() -> None:
    fake = FakeGemini(reply(choice("It is sunny.")))
    contents = [
        types.Content(
            role="user",
            parts=[
                types.Part.from_text(text="Weather and time?"),
                types.Part.from_bytes(data=b"\x89PNG....", mime_type="image/png"),
                types.Part.from_uri(file_uri="https://x.test/a.pdf", mime_type="application/pdf"),
            ],
        ),
        types.Content(
            role="model",
            parts=[
                types.Part(text="Let me think", thought=True),
                types.Part.from_function_call(name="get_weather", args={"city": "Paris"}),
                types.Part.from_function_call(name="get_time", args={"zone": "CET"}),
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part.from_function_response(name="get_time", response={"result": "12:00"}),
                types.Part.from_function_response(name="get_weather", response={"result": "sun"}),
            ],
        ),
    ]
    fake.client.models.generate_content(model="models/gemini-2.5-flash", contents=contents)
    (exchange,) = fake.exchanges
    first, model_turn, time_result, weather_result = exchange.messages
    assert first.role == "user" and first.text == "Weather and time?"
    assert [(a.kind, a.mime_type) for a in first.attachments] == [
        ("image", "image/png"),
        ("file", "application/pdf"),
    ]
    assert model_turn.role == "assistant" and model_turn.text == ""  # thoughts are dropped
    weather_call, time_call = model_turn.tool_calls
    assert orjson.loads(weather_call.arguments) == {"city": "Paris"}
    assert weather_call.id.startswith("call_") and weather_call.id != time_call.id
    assert (time_result.role, time_result.tool_name, time_result.tool_call_id) == (
        "tool",
        "get_time",
        time_call.id,
    )
    assert weather_result.tool_call_id == weather_call.id
    assert orjson.loads(weather_result.text) == {"result": "sun"}
    assert exchange.tool_result is weather_result


def test_function_responses_match_calls_by_id() -> None:
    body = {
        "contents": [
            user("go"),
            {
                "role": "model",
                "parts": [
                    {"functionCall": {"name": "f", "args": {}, "id": "aaaa"}},
                    {"functionCall": {"name": "f", "args": {"n": 2}, "id": "bbbb"}},
                ],
            },
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "f", "id": "bbbb", "response": {"ok": 1}}}],
            },
        ]
    }
    messages = parse(body).messages
    assert [c.id for c in messages[1].tool_calls] == ["aaaa", "bbbb"]
    assert (messages[2].tool_call_id, messages[2].tool_name) == ("bbbb", "f")


def test_synthesised_ids_are_stable() -> None:
    body = {
        "contents": [
            user("go"),
            {"role": "model", "parts": [{"functionCall": {"name": "f"}}]},
            {"role": "function", "parts": [{"functionResponse": {"name": "f", "response": {}}}]},
        ]
    }
    first, second = parse(body), parse(body)
    assert first.messages[1].tool_calls[0].id == second.messages[1].tool_calls[0].id
    assert first.messages[2].tool_call_id == first.messages[1].tool_calls[0].id


def test_rest_body_with_camel_and_snake_case_fields() -> None:
    body = {
        "system_instruction": {"parts": [{"text": "A"}, {"text": "B"}]},
        "contents": [{"parts": [{"text": "hello"}]}],  # no role: a user turn
        "tools": [
            {"googleSearch": {}},
            {
                "function_declarations": [
                    {
                        "name": "lookup",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {
                                "q": {"type": "STRING", "nullable": True},
                                "n": {"anyOf": [{"type": "INTEGER"}, {"type": "NULL"}]},
                                "tags": {
                                    "type": "ARRAY",
                                    "items": {"type": "STRING"},
                                    "minItems": "1",
                                },
                            },
                            "required": ["q"],
                            "propertyOrdering": ["q", "n", "tags"],
                        },
                    }
                ]
            },
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        "generationConfig": {
            "maxOutputTokens": "64",
            "topK": 20.0,
            "thinkingConfig": {"thinkingLevel": "HIGH", "thinkingBudget": -1},
            "responseMimeType": "application/json",
        },
        "safetySettings": [],
    }
    exchange = parse(body)
    assert [(m.role, m.text) for m in exchange.messages] == [("system", "A\nB"), ("user", "hello")]
    assert exchange.tools[0].parameters == {
        "type": "object",
        "properties": {
            "q": {"type": ["string", "null"]},
            "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["q"],
    }
    assert exchange.tool_choice.mode == "required"
    assert exchange.max_tokens == 64
    assert (exchange.reasoning_effort, exchange.reasoning_budget) == ("high", None)
    assert exchange.response_format.type == "json_object"


@pytest.mark.parametrize(
    ("config", "mode"),
    [({"mode": "NONE"}, "none"), ({"mode": "VALIDATED"}, "auto"), ({}, "auto")],
)
def test_function_calling_modes(config: dict[str, Any], mode: str) -> None:
    body = {"contents": [user("x")], "toolConfig": {"functionCallingConfig": config}}
    assert parse(body).tool_choice.mode == mode


def test_streaming_actions_and_sse_switch() -> None:
    body = {"contents": [user("x")]}
    sse = parse(body, action="streamGenerateContent", query={"alt": "sse"})
    array = parse(body, action="streamGenerateContent")
    assert sse.stream and array.stream
    assert sse.endpoint.endswith(":streamGenerateContent?alt=sse")
    assert dialect.stream_media_type(sse) == b"text/event-stream"
    assert dialect.stream_media_type(array) == b"application/json; charset=UTF-8"


def test_thinking_budget_zero_turns_thinking_off() -> None:
    body = {"contents": [user("x")], "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}
    assert parse(body).reasoning_budget == 0


def test_model_path_helpers() -> None:
    assert split_model_action("gemini-2.5-flash:generateContent") == (
        "gemini-2.5-flash",
        "generateContent",
    )
    assert split_model_action("models/gemini-2.5-flash:countTokens") == (
        "gemini-2.5-flash",
        "countTokens",
    )
    assert split_model_action("gemini-2.5-flash") == ("gemini-2.5-flash", "")
    assert api_version("/v1/models/x:generateContent") == "v1"
    assert api_version("/v1beta/models/x:generateContent") == "v1beta"
    assert (
        parse({"contents": [user("x")]}, model="models/gemini-2.0-flash").model
        == "gemini-2.0-flash"
    )


# --- auth -----------------------------------------------------------------------------------


def test_key_from_header_query_or_bearer() -> None:
    assert api_key(inbound(headers={"x-goog-api-key": "a"})) == "a"
    assert api_key(inbound(headers={}, query={"key": "b"})) == "b"
    assert api_key(inbound(headers={"authorization": "Bearer ya29.token"})) == "ya29.token"
    assert api_key(inbound(headers={"authorization": "Basic abc"})) is None


def test_missing_key_is_permission_denied() -> None:
    error = rejected({"contents": [user("x")]}, headers={})
    assert error == {
        "code": 403,
        "message": "Method doesn't allow unregistered callers (callers without established "
        "identity). Please use API Key or other form of API consumer identity to call this API.",
        "status": "PERMISSION_DENIED",
    }


# --- rejections -----------------------------------------------------------------------------


def test_missing_contents() -> None:
    error = rejected({})
    assert error["message"] == "* GenerateContentRequest.contents: contents is not specified\n"
    assert error["status"] == "INVALID_ARGUMENT"


def test_request_checks_are_reported_together() -> None:
    body = {
        "contents": [{"role": "user", "parts": []}, {"role": "user", "parts": [{}]}],
        "tools": [{"functionDeclarations": [{"name": "bad name"}]}],
    }
    assert rejected(body)["message"] == (
        "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"
        "* GenerateContentRequest.contents[1].parts[0].data: required oneof field 'data' must "
        "have one initialized field\n"
        "* GenerateContentRequest.tools[0].function_declarations[0].name: Invalid function name. "
        "Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), "
        "underscores (_), dots (.), colons (:), or dashes (-), with a maximum length of 64.\n"
    )


@pytest.mark.parametrize("role", ["assistant", "system", "tool"])
def test_unknown_role(role: str) -> None:
    error = rejected({"contents": [{"role": role, "parts": [{"text": "x"}]}]})
    assert (error["code"], error["message"]) == (400, "Please use a valid role: user, model.")


def test_unknown_names_and_bad_values_in_one_bad_request() -> None:
    body = {
        "messages": [],
        "contents": [{"role": "user", "content": "hi", "parts": [{"text": "x"}]}],
        "generationConfig": {"max_tokens": 5, "temperature": "hot", "candidateCount": 1.5},
    }
    error = rejected(body)
    expected = [
        (None, 'Invalid JSON payload received. Unknown name "messages": Cannot find field.'),
        (
            "contents[0]",
            "Invalid JSON payload received. Unknown name \"content\" at 'contents[0]': "
            "Cannot find field.",
        ),
        (
            "generation_config",
            "Invalid JSON payload received. Unknown name \"max_tokens\" at 'generation_config': "
            "Cannot find field.",
        ),
        (
            "generation_config.temperature",
            "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
        ),
        (
            "generation_config.candidate_count",
            "Invalid value at 'generation_config.candidate_count' (TYPE_INT32), 1.5",
        ),
    ]
    assert error["message"] == "\n".join(text for _, text in expected)
    (detail,) = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert detail["fieldViolations"] == [
        {"field": f, "description": d} if f else {"description": d} for f, d in expected
    ]


def test_enum_values_are_taken_in_any_case_like_the_api() -> None:
    body = {
        "contents": [user("x")],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "f",
                        "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
                    }
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "any"}},
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "string"}}},
            "thinkingConfig": {"thinkingLevel": "low"},
        },
    }
    exchange = parse(body)
    assert exchange.response_format.schema == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
    }
    assert exchange.tools[0].parameters["type"] == "object"
    assert exchange.tool_choice.mode == "required"
    assert exchange.reasoning_effort == "low"
    assert rejected({**body, "toolConfig": {"functionCallingConfig": {"mode": "sometimes"}}})[
        "message"
    ] == (
        "Invalid value at 'tool_config.function_calling_config.mode' "
        "(type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "
        '"sometimes"'
    )


def test_unknown_names_are_noted_unless_validation_is_strict() -> None:
    body = {"contents": [user("x")], "futureField": 1, "generationConfig": {"newKnob": 2}}
    with leniency.reading(strict=False) as notes:
        parse(body)
    assert notes == ["unknown field 'futureField'", "unknown field 'generation_config.newKnob'"]


def test_shape_errors() -> None:
    enum_error = rejected(
        {"contents": [user("x")], "toolConfig": {"functionCallingConfig": {"mode": "maybe"}}},
        version="v1",
    )
    assert enum_error["message"] == (
        "Invalid value at 'tool_config.function_calling_config.mode' "
        '(type.googleapis.com/google.ai.generativelanguage.v1.FunctionCallingConfig.Mode), "maybe"'
    )
    list_error = rejected({"contents": [user("x")], "systemInstruction": [{"text": "x"}]})
    assert list_error["message"] == (
        'Invalid JSON payload received. Unknown name "systemInstruction": '
        "Proto field is not repeating, cannot start list."
    )
    oneof = rejected({"contents": [{"parts": [{"text": "a", "inlineData": {"data": ""}}]}]})
    assert oneof["message"] == (
        "Invalid JSON payload received. Unknown name \"inlineData\" at 'contents[0].parts[0]': "
        "Oneof field 'data' is already set. Cannot set 'inlineData'"
    )
    root = rejected([user("x")])
    assert root["message"] == (
        'Invalid JSON payload received. Unknown name "": Root element must be a message.'
    )


def test_unsupported_response_mime_type() -> None:
    body = {"contents": [user("x")], "generationConfig": {"responseMimeType": "text/csv"}}
    assert rejected(body)["message"] == (
        "* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are "
        "`text/plain`, `application/json`, `application/xml`, `application/yaml` and "
        "`text/x.enum`.\n"
    )


# --- rendering ------------------------------------------------------------------------------


def exchange_for(config: dict[str, Any] | None = None, **options: Any) -> Exchange:
    body: dict[str, Any] = {"contents": [user("hi")]}
    if config:
        body["generationConfig"] = config
    return parse(body, **options)


THOUGHTS = {"thinkingConfig": {"includeThoughts": True}}


def test_plain_text() -> None:
    answer = reply(choice("Hello there friend"))
    body = dialect.render(answer, exchange_for())
    assert body == {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hello there friend"}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 11,
            "candidatesTokenCount": 3,
            "totalTokenCount": 14,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}],
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": body["responseId"],
    }
    assert len(body["responseId"]) == 23
    assert dialect.render(answer, exchange_for())["responseId"] == body["responseId"]
    parsed = validated(body)
    assert parsed.text == "Hello there friend"
    assert parsed.usage_metadata is not None
    assert parsed.usage_metadata.total_token_count == 14
    assert parsed.model_version == "gemini-2.5-flash"


def test_parallel_function_calls() -> None:
    body = dialect.render(reply(choice(calls=[WEATHER, TIME], finish="tool_calls")), exchange_for())
    candidate = body["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    calls = validated(body).function_calls or []
    assert [(c.name, c.args) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"zone": "CET"}),
    ]
    ids_ = [c.id for c in calls]
    assert all(i and len(i) == 8 and i.isalpha() and i.islower() for i in ids_)
    assert ids_[0] != ids_[1]
    assert "thoughtSignature" not in candidate["content"]["parts"][0]


def test_thoughts_only_when_asked() -> None:
    answer = reply(choice("Answer", reasoning="Let me see", calls=[WEATHER]))
    shown = dialect.render(answer, exchange_for(THOUGHTS))
    parts = shown["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "Let me see", "thought": True}
    assert parts[1] == {"text": "Answer"}
    signature = parts[2]["thoughtSignature"]
    assert base64.b64decode(signature, validate=True)
    parsed = validated(shown)
    assert parsed.text == "Answer"  # the SDK leaves thoughts out of .text
    assert parsed.candidates and parsed.candidates[0].content and parsed.candidates[0].content.parts
    assert parsed.candidates[0].content.parts[0].thought is True
    hidden = dialect.render(answer, exchange_for())
    assert all("thought" not in p for p in hidden["candidates"][0]["content"]["parts"])
    assert hidden["usageMetadata"]["thoughtsTokenCount"] == 3
    assert hidden["usageMetadata"]["totalTokenCount"] == 11 + answer.usage.completion_tokens


@pytest.mark.parametrize(
    ("shaped", "finish"),
    [
        (choice("Cut he", finish="length"), "MAX_TOKENS"),
        (choice("Before", stop_sequence="END"), "STOP"),
        (choice(refusal="I can't help with that.", pieces=[]), "STOP"),
    ],
)
def test_finish_reasons(shaped: Any, finish: str) -> None:
    body = dialect.render(reply(shaped), exchange_for())
    assert body["candidates"][0]["finishReason"] == finish
    assert validated(body).text == (shaped.text or shaped.refusal)


def test_all_budget_spent_thinking_gives_a_content_without_parts() -> None:
    shaped = choice("", reasoning="long thought", finish="length", visible_tokens=0)
    body = dialect.render(reply(shaped), exchange_for())
    assert body["candidates"][0]["content"] == {"role": "model"}
    assert "candidatesTokenCount" not in body["usageMetadata"]
    assert validated(body).text is None


def test_safety_block_has_no_content() -> None:
    body = dialect.render(reply(choice(None, finish="content_filter")), exchange_for())
    candidate = body["candidates"][0]
    assert "content" not in candidate
    assert candidate["finishReason"] == "SAFETY"
    assert any(rating.get("blocked") for rating in candidate["safetyRatings"])
    assert validated(body).candidates is not None


def test_several_candidates() -> None:
    body = dialect.render(reply(choice("One"), choice("Two")), exchange_for({"candidateCount": 2}))
    parsed = validated(body)
    assert [c.index for c in parsed.candidates or []] == [0, 1]
    assert body["usageMetadata"]["candidatesTokenCount"] == 2


def test_truncated_call_arguments_are_left_out() -> None:
    broken = ToolCall("call_x", "get_weather", '{"city": "Pa')
    body = dialect.render(reply(choice(calls=[broken], finish="length")), exchange_for())
    assert body["candidates"][0]["content"] == {"role": "model"}


def test_structured_output_through_the_sdk() -> None:
    fake = FakeGemini(reply(choice('{"city": "Paris", "days": [1, 2]}', is_json=True)))
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=Forecast
    )
    result = fake.client.models.generate_content(
        model="gemini-2.5-flash", contents="x", config=config
    )
    assert result.parsed == Forecast(city="Paris", days=[1, 2])


# --- streaming ------------------------------------------------------------------------------


def sse_chunks(frames: list[bytes]) -> list[dict[str, Any]]:
    chunks = []
    for frame in frames:
        assert frame.startswith(b"data: ") and frame.endswith(b"\r\n\r\n")
        assert b"event:" not in frame
        chunks.append(orjson.loads(frame[len(b"data: ") : -4]))
    return chunks


def stream_exchange(config: dict[str, Any] | None = None) -> Exchange:
    return exchange_for(config, action="streamGenerateContent", query={"alt": "sse"})


def test_text_stream() -> None:
    answer = reply(choice("One two three four"))
    chunks = sse_chunks(dialect.render_stream(answer, stream_exchange()))
    assert len(chunks) == 4
    parsed = [validated(chunk) for chunk in chunks]
    assert "".join(p.text or "" for p in parsed) == "One two three four"
    finishes = [c["candidates"][0].get("finishReason") for c in chunks]
    assert finishes == [None, None, None, "STOP"]
    counts = [c["usageMetadata"].get("candidatesTokenCount", 0) for c in chunks]
    assert counts == sorted(counts) and counts[-1] == 4
    assert all(c["usageMetadata"]["promptTokenCount"] == 11 for c in chunks)
    assert chunks[-1]["usageMetadata"] == dialect.render(answer, stream_exchange())["usageMetadata"]
    assert {c["responseId"] for c in chunks} == {
        dialect.render(answer, stream_exchange())["responseId"]
    }


def test_stream_with_thoughts_then_text_then_calls() -> None:
    answer = reply(choice("Sure thing", reasoning="Think more", calls=[WEATHER, TIME]))
    chunks = sse_chunks(dialect.render_stream(answer, stream_exchange(THOUGHTS)))
    kinds = []
    for chunk in chunks:
        part = chunk["candidates"][0]["content"]["parts"][0]
        kinds.append(
            "thought" if part.get("thought") else "call" if "functionCall" in part else "text"
        )
    assert kinds == ["thought", "thought", "text", "text", "call"]
    last = validated(chunks[-1])
    assert [c.name for c in last.function_calls or []] == ["get_weather", "get_time"]
    thoughts = [c["usageMetadata"].get("thoughtsTokenCount") for c in chunks]
    assert thoughts == [1, 2, 2, 2, 2]
    # Without includeThoughts the thinking is counted from the first chunk but not shown.
    hidden = sse_chunks(dialect.render_stream(answer, stream_exchange()))
    assert len(hidden) == 3
    assert hidden[0]["usageMetadata"]["thoughtsTokenCount"] == 2


def test_stream_interleaves_candidates() -> None:
    answer = reply(choice("a b c"), choice("x"))
    chunks = stream_chunks(answer, stream_exchange({"candidateCount": 2}))
    assert [[c["index"] for c in chunk["candidates"]] for chunk in chunks] == [[0, 1], [0], [0]]
    assert chunks[0]["candidates"][1]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 4


def test_json_array_stream() -> None:
    answer = reply(choice("One two", reasoning="hm"))
    array_exchange = exchange_for(THOUGHTS, action="streamGenerateContent")
    frames = dialect.render_stream(answer, array_exchange)
    assert (
        frames[0].startswith(b"[{") and frames[1].startswith(b"\r\n,\r\n{") and frames[-1] == b"]"
    )
    whole = render_stream_array(answer, array_exchange)
    assert whole == b"".join(frames)
    assert orjson.loads(whole) == stream_chunks(answer, stream_exchange(THOUGHTS))


def test_sdk_stream_reads_every_chunk() -> None:
    fake = FakeGemini(reply(choice("Streaming works fine", reasoning="ok"), prompt=5))
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True)
    )
    chunks = list(
        fake.client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="x", config=config
        )
    )
    assert "".join(c.text or "" for c in chunks) == "Streaming works fine"
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata and last.usage_metadata.thoughts_token_count == 1
    assert fake.exchanges[0].endpoint.endswith("?alt=sse")


def test_error_in_the_middle_of_a_stream_raises_in_the_sdk() -> None:
    fake = FakeGemini(reply(choice("a b c d")), fail_stream_after=2)
    received = []
    with pytest.raises(genai_errors.ServerError) as info:
        for chunk in fake.client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="x"
        ):
            received.append(chunk.text)
    assert received == ["a", " b"]
    assert (info.value.code, info.value.status) == (500, "INTERNAL")


# --- errors ---------------------------------------------------------------------------------


def test_model_not_found_through_the_sdk() -> None:
    def answer(exchange: Exchange) -> Any:
        raise dialect.model_not_found(exchange.model, version="v1")

    fake = FakeGemini(answer)
    with pytest.raises(genai_errors.ClientError) as info:
        fake.client.models.generate_content(model="gemini-9", contents="x")
    assert (info.value.code, info.value.status) == (404, "NOT_FOUND")
    assert info.value.message == (
        "models/gemini-9 is not found for API version v1, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods."
    )


def test_sdk_reads_our_error_bodies() -> None:
    fake = FakeGemini(reply(choice("x")))
    with pytest.raises(genai_errors.ClientError) as info:
        fake.client.models.generate_content(
            model="gemini-2.5-flash",
            contents=[types.Content(role="tool", parts=[types.Part(text="x")])],
        )
    assert (info.value.code, info.value.status) == (400, "INVALID_ARGUMENT")
    assert info.value.message == "Please use a valid role: user, model."


def test_neutral_errors_in_google_words() -> None:
    bad_key = APIError(401, "Incorrect API key provided.", code="invalid_api_key")
    assert dialect.error_status(bad_key) == 400
    body = dialect.render_error(bad_key)["error"]
    assert body["message"] == "API key not valid. Please pass a valid API key."
    assert body["details"][0]["reason"] == "API_KEY_INVALID"
    too_large = body_too_large(30_000_000, 20_971_520)
    assert dialect.error_status(too_large) == 400
    assert dialect.render_error(too_large)["error"] == {
        "code": 400,
        "message": "Request payload size exceeds the limit: 20971520 bytes.",
        "status": "INVALID_ARGUMENT",
    }
    limited = APIError(429, "", headers={"retry-after": "7"})
    quota = dialect.render_error(limited)["error"]
    assert quota["status"] == "RESOURCE_EXHAUSTED"
    assert quota["message"].startswith("You exceeded your current quota")
    assert quota["details"][-1] == {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "7s",
    }
    statuses = {
        s: dialect.render_error(APIError(s, "x"))["error"]["status"] for s in (500, 503, 504)
    }
    assert statuses == {500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
    exceeded = dialect.render_error(dialect.context_exceeded(1_048_576, 1_200_293, 100))["error"]
    assert exceeded["message"] == (
        "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)."
    )
    assert dialect.render_error(dialect.invalid_json())["error"]["code"] == 400


def test_stream_error_frame_is_a_data_event() -> None:
    frame = dialect.stream_error_frame(APIError(503, ""))
    assert frame.startswith(b'data: {"error":') and frame.endswith(b"\r\n\r\n")
    assert (
        orjson.loads(frame[6:])["error"]["message"]
        == "The model is overloaded. Please try again later."
    )


# --- prompt tokens --------------------------------------------------------------------------


class WordTokenizer:
    name = "words"

    def count(self, text: str) -> int:
        return len(text.split())


def test_prompt_tokens_and_modalities() -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "be kind"}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "look at this"},
                    {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
                ],
            }
        ],
    }
    exchange = parse(body)
    total = dialect.prompt_tokens(exchange, WordTokenizer())  # type: ignore[arg-type]
    assert total == 2 + 3 + 258
    assert total == gemini_prompt_tokens(exchange, WordTokenizer())  # type: ignore[arg-type]
    answer = reply(choice("ok"), prompt=total)
    details = dialect.render(answer, exchange)["usageMetadata"]["promptTokensDetails"]
    assert details == [
        {"modality": "TEXT", "tokenCount": 5},
        {"modality": "IMAGE", "tokenCount": 258},
    ]
