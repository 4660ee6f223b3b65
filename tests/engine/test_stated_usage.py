"""`reply: {usage: ...}`: the token counts a recorded reply reports replace the computed ones,
in every dialect; counts not stated are computed as usual."""

from __future__ import annotations

import anthropic
import openai

from tests.conftest import StartServer

STATED = """
version: 1
rules:
  - name: partly
    match: {last_user: partly}
    reply: {content: "Hello.", usage: {prompt_tokens: 5}}
  - name: recorded
    reply:
      content: "Hello."
      usage: {prompt_tokens: 1000, completion_tokens: 7}
"""


def test_stated_usage_is_reported_and_what_is_not_stated_computed(
    start_server: StartServer,
) -> None:
    server = start_server(STATED)
    chat = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    reply = chat.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (1000, 7)
    assert reply.usage.total_tokens == 1007
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-test", max_retries=0)
    message = claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    assert (message.usage.input_tokens, message.usage.output_tokens) == (1000, 7)

    partly = chat.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "partly"}]
    )
    assert partly.usage is not None
    assert partly.usage.prompt_tokens == 5
    assert partly.usage.completion_tokens == 2  # "Hello." in o200k_base, computed
