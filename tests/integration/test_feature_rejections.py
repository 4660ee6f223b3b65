"""What the live APIs refuse of the text features, refused the same way through the SDKs
(status, message, param and code as the vendors send them)."""

from __future__ import annotations

import anthropic
import openai
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.testing.handle import MockServer

HI = [{"role": "user", "content": "Hi"}]


def test_reasoning_models_refuse_logprobs(mockserver: MockServer) -> None:
    with pytest.raises(openai.PermissionDeniedError) as raised:
        mockserver.openai_client().chat.completions.create(
            model="o4-mini", messages=HI, logprobs=True
        )
    assert raised.value.status_code == 403
    assert raised.value.body == {
        "message": "You are not allowed to request logprobs from this model",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1", "o4-mini"])
def test_only_search_models_take_web_search_options(mockserver: MockServer, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        mockserver.openai_client().chat.completions.create(
            model=model, messages=HI, web_search_options={}
        )
    assert raised.value.body == {
        "message": "Unknown parameter: 'web_search_options'.",
        "type": "invalid_request_error",
        "param": "web_search_options",
        "code": "unknown_parameter",
    }


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1", "gpt-4o-mini"])
def test_non_reasoning_models_refuse_reasoning_effort(mockserver: MockServer, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        mockserver.openai_client().chat.completions.create(
            model=model, messages=HI, reasoning_effort="low"
        )
    assert raised.value.body == {
        "message": "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "reasoning_effort",
        "code": "unsupported_parameter",
    }


def test_other_vendors_models_through_the_gateway_keep_their_options(
    mockserver: MockServer,
) -> None:
    """The gateway maps these for Claude and Gemini: not OpenAI's refusals."""
    client = mockserver.openai_client()
    reply = client.chat.completions.create(
        model="claude-sonnet-4-5", messages=HI, reasoning_effort="low"
    )
    assert reply.choices[0].message.content


def test_claude_thinking_refuses_top_k(mockserver: MockServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as raised:
        mockserver.anthropic_client().messages.create(
            model="claude-sonnet-4-5",
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=HI,  # type: ignore[arg-type]
            extra_body={"top_k": 5},
        )
    assert raised.value.body["error"]["message"] == (  # type: ignore[index]
        "`top_k` must be unset when thinking is enabled. Please consult our documentation at "
        "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        "#important-considerations-when-using-extended-thinking"
    )


@pytest.mark.parametrize(
    ("model", "budget"),
    [("gemini-2.5-flash", 24577), ("gemini-2.5-pro", 100), ("gemini-2.5-flash-lite", 256)],
)
def test_gemini_refuses_a_thinking_budget_out_of_range(
    mockserver: MockServer, model: str, budget: int
) -> None:
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(thinking_budget=budget)
    )
    with pytest.raises(genai_errors.ClientError) as raised:
        mockserver.genai_client().models.generate_content(model=model, contents="Hi", config=config)
    assert raised.value.code == 400 and raised.value.status == "INVALID_ARGUMENT"
    assert raised.value.message == f"The thinking budget ({budget}) is invalid."


@pytest.mark.parametrize(("model", "budget"), [("gemini-2.5-flash", 0), ("gemini-2.5-pro", 128)])
def test_gemini_takes_a_budget_in_range(mockserver: MockServer, model: str, budget: int) -> None:
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(thinking_budget=budget)
    )
    reply = mockserver.genai_client().models.generate_content(
        model=model, contents="Hi", config=config
    )
    assert reply.text
