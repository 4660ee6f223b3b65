from __future__ import annotations

import json
from typing import Any

import pytest
import tiktoken

from mockserver.core.exchange import (
    Attachment,
    Exchange,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
)
from mockserver.tokens.chat_framing import (
    FILE_TOKENS,
    chat_prompt_tokens,
    tools_tokens,
)
from mockserver.tokens.media_tokens import OPENAI_AUDIO_TOKENS as AUDIO_TOKENS
from mockserver.tokens.tokenizer import get_tokenizer


def cookbook_count(
    encoding: tiktoken.Encoding,
    messages: list[dict[str, str]],
    functions: list[dict[str, Any]] | None = None,
) -> int:
    """OpenAI cookbook "How_to_count_tokens_with_tiktoken" arithmetic, restated for the test."""

    def n(text: str) -> int:
        return len(encoding.encode(text))

    total = 3  # reply priming
    for message in messages:
        total += 3 + sum(n(value) for value in message.values()) + ("name" in message)
    if not functions:
        return total
    function_start = 7 if encoding.name == "o200k_base" else 10
    total += 12
    for function in functions:
        total += function_start + n(f"{function['name']}:{function['description'].rstrip('.')}")
        properties = function["parameters"]["properties"]
        if properties:
            total += 3
        for key, spec in properties.items():
            total += 3
            if "enum" in spec:
                total += -3 + sum(3 + n(item) for item in spec["enum"])
            total += n(f"{key}:{spec['type']}:{spec['description'].rstrip('.')}")
    return total


def chat(messages: list[dict[str, str]], functions: list[dict[str, Any]] | None = None) -> Exchange:
    return Exchange(
        dialect="openai",
        endpoint="chat.completions",
        model="gpt-4o",
        messages=[
            Message(role=m["role"], text=m.get("content", ""), name=m.get("name"))  # type: ignore[arg-type]
            for m in messages
        ],
        body={},
        tools=[Tool(f["name"], f["description"], f["parameters"]) for f in functions or []],
    )


COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]
WEATHER_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]
WEATHER_FUNCTION: dict[str, Any] = {
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The city and state, e.g. San Francisco, CA",
            },
            "unit": {
                "type": "string",
                "description": "The unit of temperature to return",
                "enum": ["celsius", "fahrenheit"],
            },
        },
        "required": ["location"],
    },
}
SEARCH_FUNCTION: dict[str, Any] = {
    "name": "search_docs",
    "description": "Search the documentation.",
    "parameters": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for."},
            "limit": {"type": "integer", "description": "At most this many hits"},
            "sort": {"type": "string", "description": "Order", "enum": ["relevance", "date"]},
        },
    },
}
NO_ARGS_FUNCTION: dict[str, Any] = {
    "name": "now",
    "description": "Current time",
    "parameters": {"type": "object", "properties": {}},
}


@pytest.mark.parametrize(
    ("model_encoding", "expected"), [("o200k_base", 124), ("cl100k_base", 129)]
)
def test_cookbook_published_message_counts(model_encoding: str, expected: int) -> None:
    # The notebook verified these against the API: 124 for gpt-4o / gpt-4o-mini, 129 for
    # gpt-3.5-turbo / gpt-4.
    tokenizer = get_tokenizer(model_encoding)
    assert chat_prompt_tokens(chat(COOKBOOK_MESSAGES), tokenizer) == expected


@pytest.mark.parametrize(
    ("model_encoding", "expected"), [("o200k_base", 101), ("cl100k_base", 105)]
)
def test_cookbook_published_tool_counts(model_encoding: str, expected: int) -> None:
    tokenizer = get_tokenizer(model_encoding)
    exchange = chat(WEATHER_MESSAGES, [WEATHER_FUNCTION])
    assert chat_prompt_tokens(exchange, tokenizer) == expected


CASES: dict[str, tuple[list[dict[str, str]], list[dict[str, Any]] | None]] = {
    "plain": ([{"role": "user", "content": "Hello, how are you?"}], None),
    "names": (COOKBOOK_MESSAGES, None),
    "multiple-system": (
        [
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "What is the capital of Italy?"},
            {"role": "assistant", "content": "Rome."},
            {"role": "user", "content": "And of Spain?"},
        ],
        None,
    ),
    "unicode": (
        [
            {"role": "system", "content": "翻译成日语。"},
            {"role": "user", "content": "お誕生日おめでとう 🎂🎉 👨\u200d👩\u200d👧 naïve café"},
        ],
        None,
    ),
    "empty-content": (
        [{"role": "system", "content": ""}, {"role": "user", "content": ""}],
        None,
    ),
    "tools-with-enum": (WEATHER_MESSAGES, [WEATHER_FUNCTION, SEARCH_FUNCTION]),
    "tool-without-properties": (WEATHER_MESSAGES, [NO_ARGS_FUNCTION]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_chat_prompt_tokens_follow_the_cookbook(
    reference: dict[str, tiktoken.Encoding], name: str, case: str
) -> None:
    messages, functions = CASES[case]
    expected = cookbook_count(reference[name], messages, functions)
    actual = chat_prompt_tokens(chat(messages, functions), get_tokenizer(name))
    assert actual == expected


def test_tool_calls_results_and_attachments(
    reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    encoding = reference[name]
    arguments = json.dumps({"location": "Paris, France"})
    exchange = chat([{"role": "user", "content": "Weather in Paris?"}])
    exchange.messages += [
        Message(
            role="assistant",
            tool_calls=[ToolCall(id="call_1", name="get_current_weather", arguments=arguments)],
        ),
        Message(role="tool", text='{"temp": 21}', tool_call_id="call_1", tool_name="get_weather"),
        Message(
            role="user",
            text="And this?",
            attachments=[
                Attachment(kind="image", detail="low"),
                Attachment(kind="image", detail="high"),
                Attachment(kind="image"),
                Attachment(kind="audio", mime_type="audio/wav"),
                Attachment(kind="file", mime_type="application/pdf"),
            ],
        ),
    ]
    expected = cookbook_count(
        encoding,
        [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "call": "get_current_weather", "args": arguments},
            {"role": "tool", "content": '{"temp": 21}'},
            {"role": "user", "content": "And this?"},
        ],
    )
    expected += 85 + 765 + 765 + AUDIO_TOKENS + FILE_TOKENS
    assert chat_prompt_tokens(exchange, get_tokenizer(name)) == expected


def test_json_schema_response_format_counts_schema_text(
    reference: dict[str, tiktoken.Encoding],
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    exchange = chat([{"role": "user", "content": "City?"}])
    tokenizer = get_tokenizer("o200k_base")
    plain = chat_prompt_tokens(exchange, tokenizer)
    exchange.response_format = ResponseFormat(type="json_object")
    assert chat_prompt_tokens(exchange, tokenizer) == plain
    exchange.response_format = ResponseFormat(type="json_schema", schema=schema, name="city")
    extra = len(reference["o200k_base"].encode(json.dumps(schema, separators=(",", ":")))) + 1
    assert chat_prompt_tokens(exchange, tokenizer) == plain + extra


def test_nested_tool_parameters_are_counted(name: str) -> None:
    flat = Tool("f", "d", {"type": "object", "properties": {"a": {"type": "object"}}})
    nested = Tool(
        "f",
        "d",
        {
            "type": "object",
            "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}},
        },
    )
    tokenizer = get_tokenizer(name)
    assert tools_tokens([nested], tokenizer) > tools_tokens([flat], tokenizer)
    assert tools_tokens([], tokenizer) == 0
