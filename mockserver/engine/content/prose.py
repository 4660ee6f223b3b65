"""Fake English prose cut into its tokens, fast enough to write a fresh one for every request.

    fake_pieces("k1", 12, o200k) -> ["Director", " discover", " than", ..., "."]  (12 tokens)

The built-in default reply is fake prose whose length in tokens is chosen first, so it must come
out with an exact token count, and a stream sends it one token per event. Encoding and re-cutting
a fresh text on every request is most of what a default reply costs; instead the text is put
together from words whose tokens are known. The first use of a tokenizer looks up, once, the
tokens of each word of Faker's English word list where a word can stand: first in a paragraph
("Word"), first in a sentence (" Word") and inside one (" word"), and of the two sentence ends
("." and ".\n\n"). tiktoken's encodings split text into pre-tokens before any merge, and each of
these fragments is one pre-token (or several whole ones), so a text's tokens are its fragments'
tokens laid end to end — the tests check this against the tokenizer over thousands of texts.
The words are Faker's English lorem list, shipped as `mockserver/data/words.txt`.

Every choice comes from a `random.Random` seeded with blake2b of the key: the same key gives the
same text, with no wall clock and no global random state.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from msgspec import Struct

from mockserver.core.ids import seed_for

# Sentence length in words and the chance that a sentence opens a new paragraph: plausible
# chat-answer prose rather than lorem ipsum's six-word sentences.
SENTENCE_WORDS = (5, 14)
PARAGRAPH_CHANCE = 0.15
WORDS_FILE = Path(__file__).resolve().parents[2] / "data" / "words.txt"


class PieceTokenizer(Protocol):
    """What the vocabulary needs: a text's tokens as whole-character pieces."""

    def pieces(self, text: str) -> list[str]: ...

    def pieces_of(self, texts: Iterable[str]) -> list[list[str]]: ...


def word_list() -> list[str]:
    """The words prose is made of: plain lower-case English words, one per line."""
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


class Slot(Struct, frozen=True):
    """The words as they read in one place of a sentence, with their tokens."""

    pieces: tuple[tuple[str, ...], ...]  # per word
    short: tuple[int, ...]  # indices of the one-token words, for filling the last gaps


class Vocabulary:
    """Faker's words tokenized in each place a word can stand, for one tokenizer."""

    def __init__(self, tokenizer: PieceTokenizer, words: list[str]) -> None:
        self.words = words
        first, sentence_first, inner = _fragment_pieces(tokenizer, words)
        self.paragraph_first = _slot(first)
        self.sentence_first = _slot(sentence_first)
        self.inner = _slot(inner)
        # How many of the last tokens the ending decides (words drawn to fit, the full stop, a
        # filler word): nothing before them depends on the length of the text.
        self.ending_reach = 2 + max(
            len(p)
            for slot in (self.paragraph_first, self.sentence_first, self.inner)
            for p in slot.pieces
        )
        self.stop = tuple(tokenizer.pieces("."))
        self.paragraph_stop = tuple(tokenizer.pieces(".\n\n"))
        if len(self.stop) != 1 or not all(
            slot.short for slot in (self.paragraph_first, self.sentence_first, self.inner)
        ):
            raise ValueError(
                "this tokenizer can't end a sentence in one token or has no one-token words; "
                "fake prose needs both"
            )


def _slot(pieces: list[list[str]]) -> Slot:
    kept = tuple(tuple(piece) for piece in pieces)
    return Slot(kept, tuple(i for i, p in enumerate(kept) if len(p) == 1))


def _fragments(words: list[str]) -> list[list[str]]:
    """Each word as it reads first in a paragraph, first in a sentence and inside one."""
    return [
        [w.capitalize() for w in words],
        [" " + w.capitalize() for w in words],
        [" " + w for w in words],
    ]


# Bump when how a text is cut into pieces changes: the cached pieces are cut again.
PIECES_FORMAT = b"prose-pieces-2"


def _fragment_pieces(tokenizer: PieceTokenizer, words: list[str]) -> list[list[list[str]]]:
    """The pieces of `_fragments(words)`. Cutting ~3,000 fragments is most of a fresh server's
    first default reply, so for tiktoken's encodings they are kept in the cache folder, keyed
    by the encoding's official hash and the words; pieces that don't spell the fragments (a
    file edited by hand) are cut again."""
    fragments = _fragments(words)

    def cut() -> list[list[list[str]]]:
        return [tokenizer.pieces_of(place) for place in fragments]

    from mockserver.tokens.encodings import SPECS

    name = getattr(tokenizer, "name", None)
    if not isinstance(name, str) or name not in SPECS:
        return cut()
    from mockserver.core.cache_files import derived_json

    source = b"\n".join([PIECES_FORMAT, SPECS[name].sha256.encode(), *map(str.encode, words)])
    cached = derived_json(f"prose-{name}", source, cut)
    return cached if _spells(cached, fragments) else cut()


def _spells(found: object, fragments: list[list[str]]) -> bool:
    """Whether `found` holds, for each fragment, non-empty pieces that spell it."""
    return (
        isinstance(found, list)
        and len(found) == len(fragments)
        and all(
            isinstance(place, list)
            and len(place) == len(texts)
            and all(
                isinstance(pieces, list)
                and all(isinstance(p, str) and p for p in pieces)
                and "".join(pieces) == text
                for pieces, text in zip(place, texts, strict=True)
            )
            for place, texts in zip(found, fragments, strict=True)
        )
    )


_vocabularies: dict[int, tuple[PieceTokenizer, Vocabulary]] = {}
_lock = threading.Lock()


def vocabulary(tokenizer: PieceTokenizer) -> Vocabulary:
    """The vocabulary of `tokenizer`, built on first use (~1,000 words, three places each)."""
    found = _vocabularies.get(id(tokenizer))
    if found is not None and found[0] is tokenizer:
        return found[1]
    with _lock:
        found = _vocabularies.get(id(tokenizer))
        if found is None or found[0] is not tokenizer:
            # The tokenizer is kept alongside so that its id can't be reused by another one.
            found = _vocabularies[id(tokenizer)] = (tokenizer, Vocabulary(tokenizer, word_list()))
    return found[1]


def default_reply_length(key: str, max_tokens: int | None) -> int:
    """A plausible reply length in tokens: 20..60 derived from key, capped by max_tokens."""
    length = 20 + seed_for(key, "reply-length") % 41
    if max_tokens is not None:
        length = max(0, min(length, max_tokens))
    return length


def fake_pieces(
    key: str, tokens: int, tokenizer: PieceTokenizer, *, needed: int | None = None
) -> list[str]:
    """Prose from `key` as exactly `tokens` tokens, one piece per token.

    Sentences of 5-14 words, now and then a new paragraph; with 2 tokens or more the text ends
    on a full stop. Near the end, words are drawn among those that still fit, and the last
    gaps are filled with one-token words, so the count is met exactly.

    `needed`: only the first `needed` pieces will be used (a reply cut by `max_tokens`). They
    are the same as the whole text's, and when they end far enough from the last token that
    the ending can't touch them, the rest isn't made.
    """
    if tokens <= 0:
        return []
    vocab = vocabulary(tokenizer)
    if needed is not None and needed + vocab.ending_reach < tokens:
        return _prose(key, tokens, vocab, needed)
    return _prose(key, tokens, vocab, tokens)


def _prose(key: str, tokens: int, vocab: Vocabulary, made: int) -> list[str]:
    """The first `made` (or a few more) of the `tokens` pieces of the prose of `key`."""
    draw = random.Random(seed_for(key, "text")).random
    out: list[str] = []
    left = tokens
    slot = vocab.paragraph_first
    if tokens == 1:
        return list(slot.pieces[_one_token_word(draw, slot)])
    # Locals: this loop makes every default reply (~40 words). `left` counts down the tokens
    # still to place; `tokens - left` is how many `out` holds.
    fewest, choices = SENTENCE_WORDS[0], SENTENCE_WORDS[1] - SENTENCE_WORDS[0] + 1
    inner, stop = vocab.inner, vocab.stop
    paragraphs = len(vocab.paragraph_stop) == 1
    stop_after = tokens - made  # stop once no more than this is left
    while left > stop_after:
        pool = slot.pieces
        for _ in range(fewest + int(draw() * choices)):
            if left <= 1:
                break  # the full stop takes the last token
            word = pool[int(draw() * len(pool))]
            size = len(word)
            if size >= left:  # it leaves no room for the full stop: draw again
                word = _pick(draw, slot, left - 1)
                size = len(word)
            out += word
            left -= size
            if slot is not inner:
                slot, pool = inner, inner.pieces
        out += stop
        left -= 1
        if left <= 1:
            # One token can't hold a word and a full stop: this sentence takes it instead.
            if left == 1:
                out.insert(-1, inner.pieces[_one_token_word(draw, inner)][0])
            break
        if draw() < PARAGRAPH_CHANCE and paragraphs:
            out[-1] = vocab.paragraph_stop[0]
            slot = vocab.paragraph_first
        else:
            slot = vocab.sentence_first
    return out


def _pick(draw: Callable[[], float], slot: Slot, room: int) -> tuple[str, ...]:
    """A word of at most `room` tokens: a few more draws, then a one-token word."""
    words = slot.pieces
    for _ in range(3):
        word = words[int(draw() * len(words))]
        if len(word) <= room:
            return word
    return words[_one_token_word(draw, slot)]


def _one_token_word(draw: Callable[[], float], slot: Slot) -> int:
    return slot.short[int(draw() * len(slot.short))]


def fake_text(key: str, tokens: int, tokenizer: PieceTokenizer) -> str:
    """`fake_pieces` joined: English-looking prose of exactly `tokens` tokens."""
    return "".join(fake_pieces(key, tokens, tokenizer))
