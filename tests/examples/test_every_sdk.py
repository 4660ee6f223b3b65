"""How to: one rule, every vendor SDK.

A rule says what to answer, not in which format: the same rule replies to the OpenAI, Anthropic
and Gemini SDKs, each in its own wire format. The handle makes ready clients for each.
"""

from __future__ import annotations

from mockserver.testing.handle import MockServer


def test_one_rule_answers_every_sdk(mockserver: MockServer) -> None:
    mockserver.add_rule(name="sky", match={"last_user": "sky"}, reply={"content": "Blue."})
    question = "What colour is the sky?"

    openai_reply = mockserver.openai_client().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}]
    )
    anthropic_reply = mockserver.anthropic_client().messages.create(
        model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": question}]
    )
    gemini_reply = mockserver.genai_client().models.generate_content(
        model="gemini-2.5-flash", contents=question
    )

    assert openai_reply.choices[0].message.content == "Blue."
    assert anthropic_reply.content[0].text == "Blue."  # type: ignore[union-attr]
    assert gemini_reply.text == "Blue."
    assert [r.dialect for r in mockserver.requests(rule="sky")] == [
        "openai.chat",
        "anthropic.messages",
        "gemini",
    ]
