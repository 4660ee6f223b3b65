"""How to: write rules inside the test.

Inline rules are tried before the marker's files and the session's scenarios, and are removed
when the test ends.
"""

from __future__ import annotations

import openai
import pytest

from mockserver.testing.handle import MockServer


def test_a_rule_written_in_the_test(mockserver: MockServer) -> None:
    mockserver.add_rule(
        name="capital",
        match={"last_user": {"contains": "capital of France"}},
        reply={"content": "Paris."},
    )

    reply = mockserver.openai_client().chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )

    assert reply.choices[0].message.content == "Paris."


def test_a_flaky_endpoint_from_yaml(mockserver: MockServer) -> None:
    mockserver.load(
        """
        version: 1
        rules:
          - name: flaky
            match: {last_user: status}
            sequence:
              - fault: {status: 503}
              - reply: {content: "All systems go."}
        """
    )
    client = mockserver.openai_client(max_retries=0)
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "status?"}]}

    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(**ask)  # type: ignore[call-overload]
    reply = client.chat.completions.create(**ask)  # type: ignore[call-overload]

    assert reply.choices[0].message.content == "All systems go."
