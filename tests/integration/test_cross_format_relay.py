"""Cross-format relay as the gateway (new-api) does it, through the official SDKs: Claude and
Gemini models asked on Chat Completions (thinking as `reasoning_content`, `reasoning_effort` as
a thinking budget, the `-thinking` / `-nothinking` name suffixes), OpenAI and Gemini models
asked on Anthropic's Messages (content blocks, Anthropic usage, stream events, thinking blocks),
and a Claude model on chat billed with its own ratios in gateway mode."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import openai
import pytest

from mockserver.testing.handle import MockServer
from tests.gateway.gateway_scenario import http

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

ASK = [{"role": "user", "content": "Why is the sky blue?"}]


def assert_reasons_on_chat(answer: Any) -> None:
    message = answer.choices[0].message
    reasoning = message.model_extra.get("reasoning_content")
    assert isinstance(reasoning, str) and reasoning.strip(), message
    assert message.content
    assert answer.usage.completion_tokens_details.reasoning_tokens > 0
    assert answer.usage.completion_tokens > answer.usage.completion_tokens_details.reasoning_tokens


def streamed_chat(client: openai.OpenAI, **request: Any) -> tuple[str, str, Any]:
    reasoning, content, usage = [], [], None
    stream = client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            extra = choice.delta.model_extra or {}
            reasoning.append(extra.get("reasoning_content") or "")
            content.append(choice.delta.content or "")
    return "".join(reasoning), "".join(content), usage


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gemini-2.5-pro"])
@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_reasoning_effort_on_chat_thinks_and_shows_reasoning_content(
    mockserver: MockServer, model: str, effort: str
) -> None:
    client = mockserver.openai_client()
    answer = client.chat.completions.create(model=model, messages=ASK, reasoning_effort=effort)  # type: ignore[arg-type]
    assert answer.model == model
    assert_reasons_on_chat(answer)

    reasoning, content, usage = streamed_chat(
        client,
        model=model,
        messages=ASK,
        reasoning_effort=effort,
    )
    assert reasoning.strip() and content.strip()
    assert usage.completion_tokens_details.reasoning_tokens > 0


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gemini-2.5-pro"])
def test_more_effort_means_more_reasoning(mockserver: MockServer, model: str) -> None:
    client = mockserver.openai_client()
    tokens = []
    for effort in ("low", "medium", "high"):
        answer = client.chat.completions.create(model=model, messages=ASK, reasoning_effort=effort)  # type: ignore[arg-type]
        assert answer.usage is not None and answer.usage.completion_tokens_details is not None
        tokens.append(answer.usage.completion_tokens_details.reasoning_tokens)
    assert tokens == sorted(tokens) and tokens[0] < tokens[-1]


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gemini-2.5-pro"])
def test_without_asking_there_is_no_reasoning(mockserver: MockServer, model: str) -> None:
    answer = mockserver.openai_client().chat.completions.create(model=model, messages=ASK)
    assert answer.choices[0].message.model_extra.get("reasoning_content") is None
    assert answer.usage is not None
    details = answer.usage.completion_tokens_details
    assert details is None or not details.reasoning_tokens


@pytest.mark.parametrize(
    "model",
    ["claude-sonnet-4-5-thinking", "gemini-2.5-pro-thinking", "gemini-2.5-flash-thinking-512"],
)
def test_thinking_suffix_turns_thinking_on(mockserver: MockServer, model: str) -> None:
    client = mockserver.openai_client()
    answer = client.chat.completions.create(model=model, messages=ASK)
    assert answer.model == model
    assert_reasons_on_chat(answer)
    reasoning, content, _ = streamed_chat(client, model=model, messages=ASK)
    assert reasoning and content


def test_thinking_suffix_budget_caps_the_reasoning(mockserver: MockServer) -> None:
    answer = mockserver.openai_client().chat.completions.create(
        model="gemini-2.5-flash-thinking-16", messages=ASK
    )
    assert answer.usage is not None and answer.usage.completion_tokens_details is not None
    assert 0 < (answer.usage.completion_tokens_details.reasoning_tokens or 0) <= 16


@pytest.mark.parametrize("model", ["claude-sonnet-4-5-nothinking", "gemini-2.5-flash-nothinking"])
def test_nothinking_suffix_never_thinks(mockserver: MockServer, model: str) -> None:
    answer = mockserver.openai_client().chat.completions.create(
        model=model, messages=ASK, reasoning_effort="high"
    )
    assert answer.choices[0].message.model_extra.get("reasoning_content") is None


# --- OpenAI and Gemini models on Anthropic's Messages -----------------------------------------


@pytest.mark.parametrize("model", ["gpt-4o", "o4-mini", "gemini-2.5-flash"])
def test_messages_answers_any_model_in_anthropic_format(mockserver: MockServer, model: str) -> None:
    client = mockserver.anthropic_client()
    request: dict[str, Any] = {"model": model, "max_tokens": 1024, "messages": ASK}
    message = client.messages.create(**request)
    assert message.type == "message" and message.role == "assistant"
    assert message.model == model
    assert [block.type for block in message.content] == ["text"]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0

    events = []
    with client.messages.stream(**request) as stream:
        events = [event.type for event in stream]
        streamed = stream.get_final_message()
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "content_block_delta" in events and "message_delta" in events
    assert [block.type for block in streamed.content] == ["text"]
    assert streamed.content[0].text  # type: ignore[union-attr]
    assert streamed.usage.output_tokens > 0


@pytest.mark.parametrize("model", ["o4-mini", "gemini-2.5-flash"])
def test_messages_thinking_blocks_for_reasoning_models(mockserver: MockServer, model: str) -> None:
    client = mockserver.anthropic_client()
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": ASK,
    }
    message = client.messages.create(**request)
    assert [block.type for block in message.content] == ["thinking", "text"]
    thinking = message.content[0]
    assert thinking.type == "thinking" and thinking.thinking and thinking.signature

    with client.messages.stream(**request) as stream:
        kinds = {event.delta.type for event in stream if event.type == "content_block_delta"}
        streamed = stream.get_final_message()
    assert kinds == {"thinking_delta", "signature_delta", "text_delta"}
    assert [block.type for block in streamed.content] == ["thinking", "text"]


def test_messages_without_thinking_shows_no_thinking_block(mockserver: MockServer) -> None:
    message = mockserver.anthropic_client().messages.create(
        model="o4-mini", max_tokens=1024, messages=ASK
    )
    assert [block.type for block in message.content] == ["text"]


# --- Gateway mode: a Claude model on chat is billed with its own ratios -----------------------

KEY = "sk-relay0000000000000000000000000000000000000000000"
GATEWAY = f"""
version: 1
seed: 3
gateway:
  users:
    - {{id: 1, username: alice, quota: 100000000}}
  models:
    claude-sonnet-4-5: {{model_ratio: 1.5, completion_ratio: 5}}
    gpt-4o-mini: {{model_ratio: 0.075, completion_ratio: 4}}
  tokens:
    - {{name: relay, key: {KEY}, unlimited_quota: true}}
"""


def expected_quota(prompt: int, completion: int, model_ratio: str, completion_ratio: str) -> int:
    total = (Decimal(prompt) + Decimal(completion) * Decimal(completion_ratio)) * Decimal(
        model_ratio
    )
    return max(1, int(total.quantize(Decimal(1), ROUND_HALF_UP)))


def test_claude_on_chat_is_billed_with_claudes_ratios(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(GATEWAY)
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    answer = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=ASK, reasoning_effort="low"
    )
    assert answer.usage is not None
    prompt, completion = answer.usage.prompt_tokens, answer.usage.completion_tokens
    assert answer.usage.completion_tokens_details is not None
    assert answer.usage.completion_tokens_details.reasoning_tokens  # thinking is billed output
    logs = http.get(f"{server.url}/api/log/token", headers={"Authorization": f"Bearer {KEY}"})
    quotas = [log["quota"] for log in logs.json()["data"]]
    assert quotas == [expected_quota(prompt, completion, "1.5", "5")]
    assert quotas != [expected_quota(prompt, completion, "0.075", "4")]


# --- Usage as the upstream vendor counts it ----------------------------------------------------


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "gpt-4o", "gemini-2.5-flash"])
def test_prompt_is_counted_as_the_models_own_api_counts_it(
    mockserver: MockServer, model: str
) -> None:
    """new-api passes the upstream's usage on: a Claude model on chat reports Claude's
    `input_tokens`, an OpenAI model on Messages OpenAI's `prompt_tokens`, a Gemini model
    Gemini's `promptTokenCount` on both."""
    system = "You are terse."
    chat = mockserver.openai_client().chat.completions.create(
        model=model, messages=[{"role": "system", "content": system}, *ASK]
    )
    message = mockserver.anthropic_client().messages.create(
        model=model, max_tokens=256, system=system, messages=ASK
    )
    assert chat.usage is not None
    assert chat.usage.prompt_tokens == message.usage.input_tokens
    if model.startswith("gemini"):
        native = mockserver.genai_client().models.generate_content(
            model=model,
            contents=ASK[0]["content"],
            config={"system_instruction": system},
        )
        assert native.usage_metadata is not None
        assert native.usage_metadata.prompt_token_count == chat.usage.prompt_tokens
