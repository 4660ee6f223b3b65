"""Shape a reply's choices to the request: stop sequences, token limits, stream pieces, usage.

Runs after the engine picked the content and before any dialect renders it, so every dialect
reports the same cut text and the same token counts for the same rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice, Usage

if TYPE_CHECKING:
    from mockserver.tokens.tokenizer import Tokenizer


def shape(choices: list[Choice], exchange: Exchange, tokenizer: Tokenizer) -> None:
    """Apply stop sequences and `max_tokens` to each choice in place, cut pieces, count tokens.

    The token budget is spent as a model spends it: reasoning first, then visible text, then
    tool-call arguments. A choice that runs out of budget ends with finish reason "length".
    """
    for choice in choices:
        if choice.text and exchange.stop:
            _apply_stop(choice, exchange.stop)
        budget = exchange.max_tokens
        if choice.reasoning:
            choice.reasoning, spent, cut = _spend(choice.reasoning, budget, tokenizer)
            choice.reasoning_tokens = spent
            budget = None if budget is None else budget - spent
            if cut:
                choice.text = "" if choice.text is not None else None
                choice.tool_calls = []
                choice.finish_reason = "length"
        visible = 0
        for field in ("text", "refusal"):
            value = getattr(choice, field)
            if value:
                if field == "text" and choice.pieces_are_tokens:
                    value, spent, cut = _spend_pieces(choice, budget)
                else:
                    value, spent, cut = _spend(value, budget, tokenizer)
                setattr(choice, field, value)
                visible += spent
                budget = None if budget is None else budget - spent
                if cut:
                    choice.tool_calls = []
                    choice.finish_reason = "length"
                    choice.stop_sequence = None
        for call in choice.tool_calls:
            call.arguments, spent, cut = _spend(call.arguments, budget, tokenizer)
            visible += spent
            budget = None if budget is None else budget - spent
            if cut:
                choice.finish_reason = "length"
        choice.completion_tokens = choice.reasoning_tokens + visible
        if not (choice.pieces_are_tokens and choice.text):
            choice.text_pieces = tokenizer.pieces(choice.text) if choice.text else []
            choice.pieces_are_tokens = False
        choice.reasoning_pieces = tokenizer.pieces(choice.reasoning) if choice.reasoning else []
        choice.refusal_pieces = tokenizer.pieces(choice.refusal) if choice.refusal else []
        choice.argument_pieces = [tokenizer.pieces(call.arguments) for call in choice.tool_calls]


def usage_of(choices: list[Choice], prompt_tokens: int) -> Usage:
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=sum(c.completion_tokens for c in choices),
        reasoning_tokens=sum(c.reasoning_tokens for c in choices),
    )


def _apply_stop(choice: Choice, stops: list[str]) -> None:
    """Cut the text before the earliest stop string (the API never sends the stop string)."""
    assert choice.text is not None
    earliest: tuple[int, str] | None = None
    for stop in stops:
        at = choice.text.find(stop) if stop else -1
        if at >= 0 and (earliest is None or at < earliest[0]):
            earliest = (at, stop)
    if earliest is not None:
        choice.text = choice.text[: earliest[0]]
        choice.pieces_are_tokens = False  # the pieces no longer add up to the text
        choice.stop_sequence = earliest[1]
        choice.tool_calls = []
        choice.finish_reason = "stop"


def _spend_pieces(choice: Choice, budget: int | None) -> tuple[str, int, bool]:
    """`_spend` for a text whose pieces are its tokens."""
    pieces = choice.text_pieces
    if budget is None or len(pieces) <= budget:
        return choice.text or "", len(pieces), False
    choice.text_pieces = pieces[: max(budget, 0)]
    return "".join(choice.text_pieces), len(choice.text_pieces), True


def _spend(text: str, budget: int | None, tokenizer: Tokenizer) -> tuple[str, int, bool]:
    """(text cut to the budget, tokens spent, whether it was cut)."""
    count = tokenizer.count(text)
    if budget is None or count <= budget:
        return text, count, False
    cut = tokenizer.truncate(text, max(budget, 0))
    return cut, max(budget, 0), True
