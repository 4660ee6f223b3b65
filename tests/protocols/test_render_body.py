"""`render_body` splices what a memoized reply keeps with what each occurrence makes: the bytes
must be exactly `orjson.dumps(render(...))`, for every dialect, first time and replayed."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.core.exchange import Exchange
from mockserver.core.reply import Reply
from mockserver.http.app import create_app
from mockserver.protocols.anthropic.messages import AnthropicDialect
from mockserver.protocols.dialect import Dialect
from mockserver.protocols.gemini.generate import GeminiDialect
from mockserver.protocols.openai.chat import ChatDialect
from mockserver.protocols.openai.responses import ResponsesDialect
from mockserver.scenario import ScenarioSet, load_text
from mockserver.server_state import MockState
from mockserver.settings import Settings

SCENARIO = """\
version: 1
rules:
  - name: text
    match: {last_user: {contains: "text"}}
    reply: {content: "Plain words."}
  - name: tools
    match: {last_user: {contains: "tools"}}
    reply:
      tool_calls: [{id: call_fixed0000000000000001, name: lookup, arguments: {q: "x"}}]
  - name: thinking
    match: {last_user: {contains: "thinking"}}
    reply: {content: "Answer.", reasoning: "Let me think."}
  - name: cut
    match: {last_user: {contains: "cut"}}
    reply: {content: "A reply long enough to be cut by a small max tokens setting."}
  - name: refusal
    match: {last_user: {contains: "refuse"}}
    reply: {refusal: "I can't help with that."}
  - name: both
    match: {last_user: {contains: "both"}}
    reply:
      content: "Looking it up."
      tool_calls: [{name: lookup, arguments: {q: "y"}}, {name: lookup, arguments: {q: "z"}}]
"""
TOOLS = [
    {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}
]


def requests(prompt: str) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    openai = {"authorization": "Bearer sk-test"}
    anthropic = {"x-api-key": "sk-test", "anthropic-version": "2023-06-01"}
    gemini = {"x-goog-api-key": "sk-test"}
    return [
        (
            "/v1/chat/completions",
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]},
            openai,
        ),
        (
            "/v1/responses",
            {"model": "gpt-4o-mini", "input": prompt, "max_output_tokens": 16},
            openai,
        ),
        (
            "/v1/messages",
            {
                "model": "claude-sonnet-4-5-20250929",
                "max_tokens": 9,
                "messages": [{"role": "user", "content": prompt}],
            },
            anthropic,
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            {"contents": [{"role": "user", "parts": [{"text": prompt}]}]},
            gemini,
        ),
    ]


PROMPTS = ["text", "tools", "thinking", "cut", "refuse", "both", "nothing scripted"]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_bodies_equal_the_serialised_render(prompt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = check_render_body(monkeypatch)
    post_each(requests(prompt))
    assert len(checked) == 12


def check_render_body(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every dialect's `render_body` check its bytes; returns the names it checked."""
    checked: list[str] = []
    for dialect in (ChatDialect, ResponsesDialect, AnthropicDialect, GeminiDialect):
        spliced = dialect.render_body

        def checking(
            self: Dialect, reply: Reply, exchange: Exchange, spliced: Any = spliced
        ) -> bytes:
            body: bytes = spliced(self, reply, exchange)
            assert body == orjson.dumps(self.render(reply, exchange)), self.name
            checked.append(self.name)
            return body

        monkeypatch.setattr(dialect, "render_body", checking)
    return checked


def post_each(requests: list[tuple[str, dict[str, Any], dict[str, str]]]) -> None:
    scenarios = ScenarioSet.build([load_text(textwrap.dedent(SCENARIO), "s.yaml")])
    state = MockState(Settings(), scenarios)
    with TestClient(create_app(state=state)) as client:
        for path, body, headers in requests:
            for _ in range(3):  # made, then replayed from the memo
                response = client.post(path, content=orjson.dumps(body), headers=headers)
                assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "settings",
    [
        {"include": ["reasoning.encrypted_content"], "reasoning": {"effort": "low"}},
        {"reasoning": {"effort": "high", "summary": "auto"}, "store": False, "background": False},
        {"max_output_tokens": 16, "instructions": "Be brief.", "metadata": {"k": "v"}},
    ],
)
@pytest.mark.parametrize("prompt", ["thinking", "both", "cut", "nothing scripted"])
def test_responses_bodies_equal_the_render_whatever_the_settings(
    prompt: str, settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = check_render_body(monkeypatch)
    body = {"model": "o4-mini", "input": prompt, "tools": [{"type": "function", **TOOLS[0]}]}
    post_each([("/v1/responses", {**body, **settings}, {"authorization": "Bearer sk-test"})])
    assert checked == ["openai.responses"] * 3
