"""Made-up logprobs: one per token piece, near-certain skew, alternatives strictly lower, the
same for the same text."""

from __future__ import annotations

from mockserver.core.reply import Choice
from mockserver.engine.content.logprobs import token_logprobs


def choice(*pieces: str) -> Choice:
    return Choice(text="".join(pieces), text_pieces=list(pieces))


def test_one_entry_per_piece_with_lower_alternatives() -> None:
    entries = token_logprobs(choice("Hello", ",", " world", "."), 0, 4)
    assert [e.token for e in entries] == ["Hello", ",", " world", "."]
    for entry in entries:
        assert -2.5 <= entry.logprob < 0
        assert entry.top[0] == (entry.token, entry.logprob)
        assert len(entry.top) == 4 and len({t for t, _ in entry.top}) == 4
        chances = [p for _, p in entry.top]
        assert chances == sorted(chances, reverse=True) and len(set(chances)) == 4


def test_the_same_text_gets_the_same_numbers() -> None:
    assert token_logprobs(choice("a", "b"), 0, 2) == token_logprobs(choice("a", "b"), 0, 2)
    assert token_logprobs(choice("a", "b"), 0, 2) != token_logprobs(choice("a", "b"), 1, 2)
    assert token_logprobs(choice("a", "b"), 0, 0)[0].top == []
    assert token_logprobs(Choice(text=None), 0, 2) == []
