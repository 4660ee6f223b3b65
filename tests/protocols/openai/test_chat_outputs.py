"""Predicted outputs: the prediction's tokens found in the answer, in order, are accepted."""

from __future__ import annotations

from typing import Any

from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice
from mockserver.protocols.openai.chat_outputs import prediction_counts, top_logprobs
from mockserver.tokens.tokenizer import get_tokenizer


def exchange(**body: Any) -> Exchange:
    return Exchange("openai.chat", "/v1/chat/completions", "gpt-4o", [], body)


def test_prediction_counts_match_tokens_in_order() -> None:
    count = get_tokenizer("o200k_base").count
    code = "def add(a, b):\n    return a + b\n"
    same = prediction_counts(exchange(prediction={"content": code}), Choice(text=code))
    assert same == (count(code), 0)
    other = prediction_counts(exchange(prediction={"content": code}), Choice(text="nothing"))
    assert other[0] + other[1] == count(code) and other[1] > other[0]
    parts = {"content": [{"type": "text", "text": code}]}
    assert prediction_counts(exchange(prediction=parts), Choice(text=code)) == same
    assert prediction_counts(exchange(), Choice(text=code)) == (0, 0)


def test_logprobs_are_asked_for_with_logprobs_true() -> None:
    assert top_logprobs(exchange()) is None
    assert top_logprobs(exchange(logprobs=True)) == 0
    assert top_logprobs(exchange(logprobs=True, top_logprobs=5)) == 5
    assert top_logprobs(exchange(logprobs=False, top_logprobs=5)) is None
