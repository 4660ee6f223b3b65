"""Deterministic fake prose and words: the default reply when no scenario scripts one.

    fake_text("k1", 12, o200k)
        -> "Director discover than crime again win. Laugh evidence season at."
    (12 tokens: 7 + 5, ending on a full stop)

Every value is a pure function of a key: seeds come from blake2b of the key, never from the
wall clock or Faker's global seed. Creating a Faker costs ~40 ms (and importing it ~100 ms, so
that too waits for the first use), so there is one per locale, made on first use and re-seeded
under a lock for every call; outputs therefore do not depend on which thread asked. Faker's
word and name lists are the source, so outputs are stable for a given Faker version, not across
Faker upgrades. Values for single schema fields (by name, format or pattern) are in
`mockserver.fake_fields`.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from faker import Faker

__all__ = [
    "TokenizerLike",
    "default_reply_length",
    "fake_text",
    "fake_words",
    "seed_for",
    "seeded_faker",
]


class TokenizerLike(Protocol):
    """What fake_text needs from a tokenizer; `tiktoken.Encoding` fits as it is."""

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: list[int]) -> str: ...


_FAKERS: dict[str, tuple[Faker, threading.RLock]] = {}
_FAKERS_LOCK = threading.Lock()
# Token counts of short fragments (" word", "."), per tokenizer. Keyed by id() with the
# tokenizer kept alive alongside, so that slotted tokenizers work and ids are never reused;
# only the few most recent tokenizers are kept.
_FRAGMENT_COUNTS: dict[int, tuple[TokenizerLike, dict[str, int]]] = {}
_FRAGMENT_TOKENIZERS = 8

# Sentence length in words and the chance that a sentence opens a new paragraph: plausible
# chat-answer prose rather than Faker's six-word lorem sentences.
_SENTENCE_WORDS = (5, 14)
_PARAGRAPH_CHANCE = 0.15
_MAX_CHARS_PER_TOKEN = 32  # far above any real tokenizer's average (~4 for English)


def seed_for(key: str, label: str) -> int:
    """A 64-bit seed from key and label; different labels give independent streams."""
    digest = hashlib.blake2b(f"{label}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@contextmanager
def seeded_faker(seed: int, locale: str = "en_US") -> Iterator[Faker]:
    """The shared Faker for `locale`, seeded with `seed` and held exclusively while in use."""
    with _FAKERS_LOCK:
        entry = _FAKERS.get(locale)
        if entry is None:
            # Imported here, not with the module: ~0.1 s and ~15 MB that a server answering
            # only scripted replies never needs.
            from faker import Faker

            # Unweighted draws: Faker's frequency-weighted name lists cost ~100 us a draw.
            entry = _FAKERS[locale] = (Faker(locale, use_weighting=False), threading.RLock())
    faker, lock = entry
    with lock:
        faker.seed_instance(seed)
        yield faker


def fake_words(key: str, n: int, *, locale: str = "en_US") -> list[str]:
    """`n` lower-case dictionary words from key: ("k", 3) -> ["floor", "per", "plan"]."""
    if n <= 0:
        return []
    with seeded_faker(seed_for(key, "words"), locale) as faker:
        return list(faker.words(nb=n))


def default_reply_length(key: str, max_tokens: int | None) -> int:
    """A plausible reply length in tokens: 20..60 derived from key, capped by max_tokens."""
    length = 20 + seed_for(key, "reply-length") % 41
    if max_tokens is not None:
        length = max(0, min(length, max_tokens))
    return length


class _Prose:
    """Sentences and words drawn from Faker's word list with its seeded generator."""

    def __init__(self, faker: Faker) -> None:
        self._rng: random.Random = faker.random
        # Drawing from the list directly is ~10x faster than faker.words() or .sentence().
        self._words: list[str] = list(faker.get_words_list())

    def word(self) -> str:
        return self._rng.choice(self._words)

    def sentence(self, first: bool) -> list[str]:
        """The next sentence as fragments: separator + first word, " word"..., "."."""
        words = self._rng.choices(self._words, k=self._rng.randint(*_SENTENCE_WORDS))
        lead = ""
        if not first:
            lead = "\n\n" if self._rng.random() < _PARAGRAPH_CHANCE else " "
        return [lead + words[0].capitalize(), *[" " + word for word in words[1:]], "."]


class _Counter:
    """Token counts; those of short fragments are memoised per tokenizer across calls."""

    def __init__(self, tokenizer: TokenizerLike) -> None:
        self._tokenizer = tokenizer
        with _FAKERS_LOCK:
            entry = _FRAGMENT_COUNTS.pop(id(tokenizer), None)
            if entry is None or entry[0] is not tokenizer:
                entry = (tokenizer, {})
            _FRAGMENT_COUNTS[id(tokenizer)] = entry  # re-inserted: last used sorts last
            while len(_FRAGMENT_COUNTS) > _FRAGMENT_TOKENIZERS:
                del _FRAGMENT_COUNTS[next(iter(_FRAGMENT_COUNTS))]
        self._memo = entry[1]
        self.stop = self.fragment(".")

    def whole(self, text: str) -> int:
        return len(self._tokenizer.encode(text))

    def fragment(self, text: str) -> int:
        count = self._memo.get(text)
        if count is None:
            count = self._memo[text] = self.whole(text)
        return count

    def opening(self, part: str, after_stop: bool) -> int:
        """Cost of a sentence's first fragment; o200k folds a paragraph break into the "."."""
        return self.fragment("." + part) - self.stop if after_stop else self.fragment(part)

    def sentence(self, parts: list[str], after_stop: bool) -> int:
        return self.opening(parts[0], after_stop) + sum(map(self.fragment, parts[1:]))


def fake_text(key: str, tokens: int, tokenizer: TokenizerLike, *, locale: str = "en_US") -> str:
    """English-looking prose from key that `tokenizer` encodes to exactly `tokens` tokens.

    With 2 tokens or more the text ends on a full stop. Sentences are costed word by word
    (byte-pair tokenizers split words at the space before them, so counts add up), the gap
    left is filled by a short sentence built word by word, and the whole is re-encoded to
    check. Should the check fail (a tokenizer that merges across spaces), the longest prefix of
    the prose with at most `tokens` tokens is searched for instead. Exactness is impossible
    only when no prefix of the prose has exactly that count (say, a tokenizer that never
    yields odd counts); the result then has the nearest count below.
    """
    if tokens <= 0:
        return ""
    counter = _Counter(tokenizer)
    with seeded_faker(seed_for(key, "text"), locale) as faker:
        prose = _Prose(faker)
        text = _assemble(prose, tokens, counter)
        if text is not None:
            return text
        return _longest_prefix(prose, tokens, counter)


def _assemble(prose: _Prose, tokens: int, counter: _Counter) -> str | None:
    """Whole sentences plus a fitted last one, or None if the count cannot be hit that way."""
    sentences: list[str] = []
    counts: list[int] = []
    total = 0
    # Bounded so that a tokenizer returning no tokens cannot keep us here forever.
    for _ in range(tokens + 8):
        parts = prose.sentence(first=not sentences)
        count = counter.sentence(parts, after_stop=bool(sentences))
        if total + count > tokens:
            break
        sentences.append("".join(parts))
        counts.append(count)
        total += count
        if total == tokens:
            break
    gap = tokens - total
    if gap == 1 and sentences:
        # One token cannot hold a word and a full stop: rebuild the last sentence instead.
        sentences.pop()
        gap += counts.pop()
    if gap:
        tail = _fitted_sentence(prose, gap, bool(sentences), counter)
        if tail is None:
            return None
        sentences.append(tail)
    text = "".join(sentences)
    return text if counter.whole(text) == tokens else None


def _fitted_sentence(prose: _Prose, gap: int, after_stop: bool, counter: _Counter) -> str | None:
    """A sentence of exactly `gap` tokens, picking words whose cost still fits."""
    stop = "." if gap >= 2 and counter.stop < gap else ""
    need = gap - (counter.stop if stop else 0)
    parts: list[str] = []
    for _ in range(4 * gap + 32):
        if need == 0:
            break
        word = prose.word()
        if parts:
            part = " " + word
            cost = counter.fragment(part)
        else:
            part = (" " if after_stop else "") + word.capitalize()
            cost = counter.opening(part, after_stop)
        if 0 < cost <= need:
            parts.append(part)
            need -= cost
    if need or not parts:
        return None
    return "".join(parts) + stop


def _longest_prefix(prose: _Prose, tokens: int, counter: _Counter) -> str:
    """The longest prefix of fresh prose with at most `tokens` tokens, preferring exact ones."""
    sentences = ["".join(prose.sentence(first=True))]
    # Doubling keeps the number of whole-text encodes logarithmic in the length; the length cap
    # stops a tokenizer that counts (next to) nothing from making us build megabytes.
    source = sentences[0]
    while counter.whole(source) <= tokens and len(source) <= _MAX_CHARS_PER_TOKEN * (tokens + 8):
        sentences += ["".join(prose.sentence(first=False)) for _ in sentences]
        source = "".join(sentences)
    # Invariant: the prefix of length `low` has at most `tokens` tokens. Counts grow almost
    # monotonically with length, so bisection lands next to the exact count when one exists.
    low, high = 0, len(source)
    while low < high:
        mid = (low + high + 1) // 2
        if counter.whole(source[:mid]) <= tokens:
            low = mid
        else:
            high = mid - 1
    for end in range(low, max(low - 8, 0), -1):
        if counter.whole(source[:end]) == tokens:
            return source[:end]
    return source[:low]
