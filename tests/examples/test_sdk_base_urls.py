"""How to: point each SDK at a running server yourself (as with `mockserver serve`).

OpenAI's SDK takes the `/v1` URL; Anthropic's and google-genai take the server's root. Any API
key is accepted. Here the fixture's server stands in for `http://127.0.0.1:8000`.
"""

from __future__ import annotations

from typing import Any

import anthropic
import openai
from google import genai
from google.genai import types

from mockserver.testing.handle import MockServer


def test_each_sdk_with_its_base_url(mockserver: MockServer) -> None:
    url = mockserver.url  # `mockserver serve`: http://127.0.0.1:8000
    mockserver.add_rule(name="ping", match={"last_user": "ping"}, reply={"content": "pong"})
    ping: Any = [{"role": "user", "content": "ping"}]

    openai_client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-anything")
    claude = anthropic.Anthropic(base_url=url, api_key="sk-anything")
    gemini = genai.Client(api_key="anything", http_options=types.HttpOptions(base_url=url))

    chat = openai_client.chat.completions.create(model="gpt-4o", messages=ping)
    message = claude.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=ping)
    content = gemini.models.generate_content(model="gemini-2.5-flash", contents="ping")

    assert chat.choices[0].message.content == "pong"
    assert message.content[0].text == "pong"  # type: ignore[union-attr]
    assert content.text == "pong"
    openai_client.close()
    claude.close()
