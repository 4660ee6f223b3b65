"""How to: test code that builds its own SDK client.

The `mockserver` fixture sets OPENAI_BASE_URL and OPENAI_API_KEY (and the Anthropic and Gemini
variables) for the duration of the test, so the code under test runs unchanged against the mock.
"""

from __future__ import annotations

import openai

from mockserver.testing.handle import MockServer


def summarize(text: str) -> str:
    """The code under test: it makes its own client from the environment."""
    client = openai.OpenAI()
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Summarize: {text}"}],
        max_tokens=20,
    )
    return reply.choices[0].message.content or ""


def test_summarize_gets_an_answer_from_the_mock(mockserver: MockServer) -> None:
    summary = summarize("The quick brown fox jumps over the lazy dog.")

    assert summary  # no rule loaded: the built-in default answers with deterministic text
    assert mockserver.last.model == "gpt-4o-mini"
    assert mockserver.last.usage is not None
    assert mockserver.last.usage["completion_tokens"] <= 20
