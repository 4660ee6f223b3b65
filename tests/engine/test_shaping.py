"""Shaping a reply whose text came with its tokens (fake prose): cut and counted like any text."""

from __future__ import annotations

from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice
from mockserver.engine.content.prose import fake_pieces
from mockserver.engine.shaping import shape
from mockserver.tokens.tokenizer import get_tokenizer


def exchange(**options: object) -> Exchange:
    return Exchange("chat", "/v1/chat/completions", "gpt-4o-mini", [], {}, **options)  # type: ignore[arg-type]


def prose_choice(tokens: int) -> Choice:
    pieces = fake_pieces("key", tokens, get_tokenizer("o200k_base"))
    return Choice(text="".join(pieces), text_pieces=pieces, pieces_are_tokens=True)


def test_token_pieces_are_counted_without_encoding_and_cut_at_the_budget() -> None:
    tokenizer = get_tokenizer("o200k_base")
    whole, cut = prose_choice(40), prose_choice(40)
    shape([whole], exchange(), tokenizer)
    shape([cut], exchange(max_tokens=15), tokenizer)
    assert (whole.completion_tokens, whole.finish_reason) == (40, "stop")
    assert (cut.completion_tokens, cut.finish_reason) == (15, "length")
    assert cut.text == "".join(whole.text_pieces[:15])
    assert cut.text_pieces == tokenizer.pieces(cut.text)
    assert tokenizer.count(cut.text) == 15


def test_a_stop_sequence_cuts_the_text_and_its_pieces_are_made_again() -> None:
    tokenizer = get_tokenizer("o200k_base")
    choice = prose_choice(40)
    stop = choice.text_pieces[10] + choice.text_pieces[11]
    shape([choice], exchange(stop=[stop]), tokenizer)
    assert choice.text is not None and stop not in choice.text
    assert choice.text_pieces == tokenizer.pieces(choice.text)
    assert choice.completion_tokens == tokenizer.count(choice.text)
    assert not choice.pieces_are_tokens
