"""Two OpenAI outputs that follow from the request's options and the reply's text: token
`logprobs` (Chat `logprobs: true`, `top_logprobs: k`; Responses `include:
["message.output_text.logprobs"]`) and Chat's predicted-output counts (`prediction`).

Logprobs are made up, deterministically from the text (`engine.content.logprobs`): the same
text always gets the same numbers, streamed or not; `top_logprobs` lists the chosen token first.

A prediction's tokens that appear in the answer, in order, are `accepted_prediction_tokens`;
the rest `rejected_prediction_tokens` (OpenAI's definitions). Counted on o200k_base, the
encoding of every model that takes predictions (gpt-4o, gpt-4.1 families).
"""

from __future__ import annotations

import difflib
from typing import Any

from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice
from mockserver.engine.content.logprobs import token_logprobs


def top_logprobs(exchange: Exchange) -> int | None:
    """How many alternatives each token lists; None when logprobs weren't asked for."""
    if exchange.body.get("logprobs") is not True:
        return None
    top = exchange.body.get("top_logprobs")
    return top if isinstance(top, int) and not isinstance(top, bool) else 0


def responses_top_logprobs(exchange: Exchange) -> int | None:
    """Responses: logprobs come with `include: ["message.output_text.logprobs"]`."""
    include = exchange.body.get("include")
    if not isinstance(include, list) or "message.output_text.logprobs" not in include:
        return None
    top = exchange.body.get("top_logprobs")
    return top if isinstance(top, int) and not isinstance(top, bool) else 0


def token_entries(choice: Choice, index: int, top: int) -> list[dict[str, Any]]:
    """One `ChatCompletionTokenLogprob` per token piece of the choice's text."""
    return [
        {
            "token": entry.token,
            "logprob": entry.logprob,
            "bytes": list(entry.token.encode()),
            "top_logprobs": [
                {"token": token, "logprob": logprob, "bytes": list(token.encode())}
                for token, logprob in entry.top
            ],
        }
        for entry in token_logprobs(choice, index, top)
    ]


def choice_logprobs(choice: Choice, index: int, top: int) -> dict[str, Any]:
    return {"content": token_entries(choice, index, top), "refusal": None}


def prediction_counts(exchange: Exchange, choice: Choice | None) -> tuple[int, int]:
    """(accepted, rejected) prediction tokens of the first choice; (0, 0) without one."""
    prediction = exchange.body.get("prediction")
    if not isinstance(prediction, dict) or choice is None:
        return 0, 0
    predicted = _prediction_text(prediction.get("content"))
    if not predicted:
        return 0, 0
    from mockserver.tokens.tokenizer import get_tokenizer

    tokenizer = get_tokenizer("o200k_base")
    expected, produced = tokenizer.encode(predicted), tokenizer.encode(choice.text or "")
    matcher = difflib.SequenceMatcher(None, expected, produced, autojunk=False)
    accepted = sum(block.size for block in matcher.get_matching_blocks())
    return accepted, len(expected) - accepted


def _prediction_text(content: Any) -> str:
    """`prediction.content`: a string, or an array of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""
