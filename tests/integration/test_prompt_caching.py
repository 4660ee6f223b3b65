"""Prompt caching through the official SDKs, as each vendor counts it, on the task clock."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from mockserver.testing.handle import MockServer

HANDBOOK = "Section: every employee reads the security policy before the first day. " * 150
QUESTION = "Summarise the handbook, please."
ANSWER = "The handbook covers onboarding, expenses and security, in that order."
SCENARIO = "scenarios/prompt_caching.yaml"


def claude_request(**control: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "system": [
            {"type": "text", "text": HANDBOOK, "cache_control": {"type": "ephemeral", **control}}
        ],
        "messages": [{"role": "user", "content": QUESTION}],
    }


def test_anthropic_writes_then_reads_then_expires(mockserver: MockServer) -> None:
    mockserver.load(SCENARIO)
    client = mockserver.anthropic_client()

    first = client.messages.create(**claude_request())
    second = client.messages.create(**claude_request())
    mockserver.advance_clock(301)
    third = client.messages.create(**claude_request())

    assert first.content[0].text == ANSWER  # type: ignore[union-attr]
    written = first.usage.cache_creation_input_tokens or 0
    assert written >= 1024 and first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == written  # type: ignore[union-attr]
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.cache_read_input_tokens == written
    assert second.usage.input_tokens == first.usage.input_tokens  # the uncached rest
    assert third.usage.cache_creation_input_tokens == written  # 5 minutes passed
    journaled = [call.usage for call in mockserver.requests]
    assert [(u["cached_tokens"], u["cache_creation_tokens"]) for u in journaled] == [
        (0, written),
        (written, 0),
        (0, written),
    ]


def test_anthropic_one_hour_ttl(mockserver: MockServer) -> None:
    client = mockserver.anthropic_client()

    first = client.messages.create(**claude_request(ttl="1h"))
    mockserver.advance_clock(1800)
    stream_usage = None
    with client.messages.stream(**claude_request(ttl="1h")) as stream:
        for event in stream:
            if event.type == "message_start":
                stream_usage = event.message.usage

    assert first.usage.cache_creation.ephemeral_1h_input_tokens > 0  # type: ignore[union-attr]
    assert stream_usage is not None
    assert stream_usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


def test_anthropic_short_prefixes_are_not_cached(mockserver: MockServer) -> None:
    client = mockserver.anthropic_client()
    short = claude_request()
    short["system"][0]["text"] = "Be brief."

    usages = [client.messages.create(**short).usage for _ in range(2)]

    assert [(u.cache_creation_input_tokens, u.cache_read_input_tokens) for u in usages] == [
        (0, 0),
        (0, 0),
    ]


def test_anthropic_haiku_needs_a_longer_prefix(mockserver: MockServer) -> None:
    client = mockserver.anthropic_client()
    request = {**claude_request(), "model": "claude-3-5-haiku-20241022"}
    request["system"][0]["text"] = HANDBOOK[: len(HANDBOOK) // 2]  # ~1100 tokens

    usage = client.messages.create(**request).usage

    assert usage.cache_creation_input_tokens == 0


def test_anthropic_refuses_a_fifth_breakpoint(mockserver: MockServer) -> None:
    client = mockserver.anthropic_client(max_retries=0)
    marked = {"type": "text", "text": "part", "cache_control": {"type": "ephemeral"}}

    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": [marked] * 5}],  # type: ignore[list-item]
        )

    assert caught.value.status_code == 400
    assert caught.value.body["error"] == {  # type: ignore[index]
        "type": "invalid_request_error",
        "message": "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    }


def chat(mockserver: MockServer, question: str, **extra: Any) -> Any:
    return mockserver.openai_client().chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": HANDBOOK}, {"role": "user", "content": question}],
        **extra,
    )


def test_openai_chat_caches_the_shared_prefix_in_128_token_steps(mockserver: MockServer) -> None:
    first = chat(mockserver, "Summarise the handbook.")
    second = chat(mockserver, "What does the handbook say about day one?")

    cached = second.usage.prompt_tokens_details.cached_tokens
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert cached >= 1024 and (cached - 1024) % 128 == 0
    assert cached <= second.usage.prompt_tokens


def test_openai_prompt_cache_key_keeps_caches_apart(mockserver: MockServer) -> None:
    chat(mockserver, "Summarise the handbook.", prompt_cache_key="team-a")

    other = chat(mockserver, "Summarise the handbook.", prompt_cache_key="team-b")
    same = chat(mockserver, "Summarise the handbook.", prompt_cache_key="team-a")

    assert other.usage.prompt_tokens_details.cached_tokens == 0
    assert same.usage.prompt_tokens_details.cached_tokens > 0


def test_openai_short_prompts_and_expiry(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    short = [{"role": "user", "content": "Hi there"}]
    client.chat.completions.create(model="gpt-4o", messages=short)  # type: ignore[arg-type]
    again = client.chat.completions.create(model="gpt-4o", messages=short)  # type: ignore[arg-type]
    chat(mockserver, "Summarise the handbook.")
    mockserver.advance_clock(301)

    expired = chat(mockserver, "Summarise the handbook.")

    assert again.usage.prompt_tokens_details.cached_tokens == 0  # type: ignore[union-attr]
    assert expired.usage.prompt_tokens_details.cached_tokens == 0


def test_openai_responses_input_tokens_details(mockserver: MockServer) -> None:
    client = mockserver.openai_client()

    def ask(text: str) -> Any:
        return client.responses.create(model="gpt-4.1", instructions=HANDBOOK, input=text)

    first, second = ask("Summarise the handbook."), ask("And the expenses part?")

    assert first.usage.input_tokens_details.cached_tokens == 0
    assert second.usage.input_tokens_details.cached_tokens >= 1024


def test_gemini_implicit_caching(mockserver: MockServer) -> None:
    from google.genai import types

    client = mockserver.genai_client()
    config = types.GenerateContentConfig(system_instruction=HANDBOOK)

    def ask(question: str) -> Any:
        return client.models.generate_content(
            model="gemini-2.5-flash", contents=question, config=config
        ).usage_metadata

    first, second = ask("Summarise the handbook."), ask("What about day one?")

    assert first.cached_content_token_count is None
    assert second.cached_content_token_count >= 1024
    assert second.cached_content_token_count <= second.prompt_token_count
