"""How to: assert on what the server received.

`mockserver.requests` is this test's journal (filter it by rule, model, endpoint, dialect,
status); `assert_called` fails with the most similar requests it did find.
"""

from __future__ import annotations

from mockserver.testing.handle import MockServer


def test_assert_on_the_journal(mockserver: MockServer) -> None:
    mockserver.add_rule(name="greeting", match={"last_user": "hello"}, reply={"content": "Hi!"})
    client = mockserver.openai_client()
    for model, text in [("gpt-4o", "hello"), ("gpt-4o-mini", "hello again")]:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])

    mockserver.assert_called(rule="greeting", times=2)
    assert mockserver.requests(model="gpt-4o-mini").call_count == 1
    assert mockserver.last.body["messages"][0]["content"] == "hello again"
    assert mockserver.last.headers["authorization"] == "Bearer sk-***"  # keys are redacted
    mockserver.assert_all_rules_used()
