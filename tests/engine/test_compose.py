"""`depends_on_key` must say True whenever composing a reply uses the reply key: the memo replays
a reply it calls key-independent, so a wrong answer would freeze fake text or ids. (It may say
True without need, e.g. fake reasoning on a model that doesn't reason: that only costs a replay.)"""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.core.catalog import load_builtin
from mockserver.core.exchange import Exchange, Message, Tool
from mockserver.core.reply import Choice
from mockserver.engine.compose import build_choices, depends_on_key
from mockserver.engine.decide import Decision
from mockserver.scenario import ReplySpec
from mockserver.tokens.tokenizer import get_tokenizer

REPLIES: list[dict[str, Any] | None] = [
    None,  # the built-in default
    {"content": "Literal words."},
    {"content": "Hello {{ request.last_user }}."},
    {"content": {"fake_tokens": 12}},
    {"content": "Answer.", "reasoning": "Scripted thinking."},
    {"content": "Answer.", "reasoning": {"fake_tokens": 8}},
    {"refusal": "I can't help with that."},
    {"json": {"city": "Paris"}},
    {"tool_calls": [{"name": "lookup", "arguments": {"q": "x"}}]},
    {"tool_calls": [{"id": "call_fixed", "name": "lookup", "arguments": {"q": "x"}}]},
    {"finish_reason": "length"},  # scripts no text: the default text answers
    {"choices": [{"content": "one"}, {"content": {"fake_tokens": 5}}]},
    {"choices": [{"content": "one"}, {"content": "two"}]},
]


def compose(reply: ReplySpec | None, key: str, n: int) -> list[Choice]:
    exchange = Exchange(
        "chat",
        "/v1/chat/completions",
        "gpt-4o-mini",
        [Message(role="user", text="hi")],
        {},
        tools=[Tool("lookup", parameters={"type": "object"})],
        n=n,
    )
    decision = Decision(key=key, created=0, fingerprint="fp", retry_group="g", reply=reply)
    model = load_builtin().get("gpt-4o-mini")
    assert model is not None
    return build_choices(decision, exchange, model, get_tokenizer("o200k_base"), False)


@pytest.mark.parametrize("raw", REPLIES)
@pytest.mark.parametrize("n", [1, 2])
def test_depends_on_key_matches_what_composing_does(raw: dict[str, Any] | None, n: int) -> None:
    reply = None if raw is None else ReplySpec.model_validate(raw)
    differs = compose(reply, "key-one", n) != compose(reply, "key-two", n)
    assert depends_on_key(reply, n) or not differs


@pytest.mark.parametrize(
    "raw",
    [
        {"content": "Literal words."},
        {"content": "Hello {{ request.last_user }}."},
        {"content": "Answer.", "reasoning": "Scripted thinking."},
        {"refusal": "I can't help with that."},
        {"json": {"city": "Paris"}},
        {"tool_calls": [{"id": "call_fixed", "name": "lookup", "arguments": {"q": "x"}}]},
        {"choices": [{"content": "one"}, {"content": "two"}]},
    ],
)
def test_scripted_replies_are_replayed(raw: dict[str, Any]) -> None:
    assert not depends_on_key(ReplySpec.model_validate(raw), 2)
