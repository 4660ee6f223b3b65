"""Quickstart: the README's first test, as it is printed there (tests/examples/test_readme.py
checks that the two agree)."""

import openai

from mockserver.testing.handle import MockServer


def test_my_code_talks_to_the_mock(mockserver: MockServer) -> None:
    mockserver.add_rule(name="greet", match={"last_user": "hello"}, reply={"content": "Hi!"})

    client = openai.OpenAI()  # the fixture set OPENAI_BASE_URL and OPENAI_API_KEY
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )

    assert reply.choices[0].message.content == "Hi!"
    assert reply.usage is not None and reply.usage.prompt_tokens == 8  # the real tokenizer
    mockserver.assert_called(rule="greet", times=1)
