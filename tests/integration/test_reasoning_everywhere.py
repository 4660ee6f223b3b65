"""Reasoning features beyond the every-dialect basics: Anthropic's `redacted_thinking`, Gemini's
OpenAI-compatible `google.thinking_config`, and what Gemini refuses."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.testing.handle import MockServer

THINKING_ON = {"type": "enabled", "budget_tokens": 1024}


def redacted_rule(mockserver: MockServer) -> None:
    mockserver.add_rule(
        name="sensitive",
        match={"last_user": {"contains": "sensitive"}},
        reply={"reasoning_redacted": True, "content": "I can help with the safe part."},
    )


def test_anthropic_redacted_thinking_block(mockserver: MockServer) -> None:
    redacted_rule(mockserver)
    client = mockserver.anthropic_client()
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "thinking": THINKING_ON,
        "messages": [{"role": "user", "content": "A sensitive question"}],
    }

    message = client.messages.create(**request)
    with client.messages.stream(**request) as stream:
        streamed = stream.get_final_message()

    for reply in (message, streamed):
        block, text = reply.content
        assert block.type == "redacted_thinking" and len(block.data) > 100
        assert text.type == "text" and text.text == "I can help with the safe part."
    # The history goes back as it came (blocks the API accepts in a conversation).
    follow_up = client.messages.create(
        **{
            **request,
            "messages": [
                *request["messages"],
                {"role": "assistant", "content": [b.model_dump() for b in message.content]},
                {"role": "user", "content": "And then?"},
            ],
        }
    )
    assert follow_up.content[-1].type == "text"


def test_anthropic_without_thinking_shows_no_block(mockserver: MockServer) -> None:
    redacted_rule(mockserver)

    message = mockserver.anthropic_client().messages.create(
        model="claude-sonnet-4-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "A sensitive question"}],
    )

    assert [b.type for b in message.content] == ["text"]


def gemini_compat(mockserver: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{mockserver.url}/v1beta/openai", api_key="g-test")


@pytest.mark.parametrize(
    "extra",
    [
        {
            "extra_body": {"google": {"thinking_config": {"include_thoughts": True}}}
        },  # Google's docs
        {"google": {"thinking_config": {"include_thoughts": True, "thinking_budget": 512}}},
    ],
)
def test_gemini_openai_compat_include_thoughts(mockserver: MockServer, extra: Any) -> None:
    mockserver.load("scenarios/every_dialect.yaml")

    reply = gemini_compat(mockserver).chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "Please think it over: which route?"}],
        extra_body=extra,
    )

    message = reply.choices[0].message
    assert message.content == "Take the coastal route."
    assert getattr(message, "reasoning_content", None) == (
        "Two routes are possible. The coastal one is longer but avoids the roadworks."
    )
    assert reply.usage is not None
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0  # type: ignore[union-attr]


def test_gemini_openai_compat_thoughts_hidden_when_not_asked(mockserver: MockServer) -> None:
    reply = gemini_compat(mockserver).chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": "Hello"}],
        extra_body={"google": {"thinking_config": {"include_thoughts": False}}},
    )

    assert getattr(reply.choices[0].message, "reasoning_content", None) is None


def test_gemini_pro_refuses_a_zero_thinking_budget(mockserver: MockServer) -> None:
    client = mockserver.genai_client()
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=0))

    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-pro", contents="Hi", config=config)
    flash = client.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=config)

    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message == "Budget 0 is invalid. This model only works in thinking mode."
    assert flash.text


def test_gemini_unknown_tool_is_noted_or_refused_when_strict(mockserver: MockServer) -> None:
    body = {"contents": [{"parts": [{"text": "Hi"}]}], "tools": [{"teleport": {}}]}
    url = f"{mockserver.url}/v1beta/models/gemini-2.5-flash:generateContent"

    lenient = httpx.post(url, json=body, headers={"x-goog-api-key": "g"})
    assert lenient.status_code == 200
    assert "unknown field 'tools[0].teleport'" in mockserver.last.notes

    mockserver.load({"version": 1, "validation": "strict"})
    strict = httpx.post(url, json=body, headers={"x-goog-api-key": "g"})
    assert strict.status_code == 400
    assert strict.json()["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"teleport\" at 'tools[0]': Cannot find field."
    )
