"""Deterministic fake prose and words: the default reply when no scenario scripts one.

    fake_text("k1", 12, o200k)
        -> "Director discover than crime again win. Laugh evidence season at."
    (12 tokens: 7 + 5, ending on a full stop)

Every value is a pure function of a key: seeds come from blake2b of the key, never from the
wall clock or Faker's global seed. Creating a Faker costs ~40 ms, so there is one per locale,
made on first use and re-seeded under a lock for every call; outputs therefore do not depend on
which thread asked. Faker's word and name lists are the source, so outputs are stable for a
given Faker version, not across Faker upgrades.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import ipaddress
import random
import re
import string
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from faker import Faker

__all__ = [
    "TokenizerLike",
    "default_reply_length",
    "fake_for_format",
    "fake_for_name",
    "fake_text",
    "fake_words",
    "sample_regex",
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


def fake_for_name(name: str, faker: Faker) -> str | None:
    """A plausible value for a field called `name` ("home_city" -> "Elainemouth"), or None."""
    make = _maker_for(name)
    return None if make is None else make(faker)


@functools.lru_cache(maxsize=4096)
def _maker_for(name: str) -> Callable[[Faker], str] | None:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return next((make for pattern, make in _NAME_HINTS if pattern.search(snake)), None)


def _hint(words: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|_)(?:{words})s?(?:_|$)")


# First match wins, so the specific names come before "name".
_NAME_HINTS: tuple[tuple[re.Pattern[str], Callable[[Faker], str]], ...] = (
    (_hint("e_?mail"), lambda f: _FORMATS["email"](f, f.random)),
    (_hint("first_?name|given_?name"), lambda f: f.first_name()),
    (_hint("last_?name|surname|family_?name"), lambda f: f.last_name()),
    (_hint("user_?name|login|handle"), lambda f: f.user_name()),
    (_hint("company|organi[sz]ation|employer"), lambda f: f.company()),
    (_hint("file_?name"), lambda f: f.file_name()),
    (_hint("name|author|person|customer|owner|contact"), lambda f: f.name()),
    (_hint("city|town|location|place"), lambda f: f.city()),
    (_hint("country"), lambda f: f.country()),
    (_hint("address|street"), lambda f: f.street_address()),
    (_hint("zip|zip_?code|postal_?code|postcode"), lambda f: f.postcode()),
    (_hint("phone|mobile|telephone"), lambda f: f.phone_number()),
    (_hint("url|website|homepage|link"), lambda f: _url(f)),
    (_hint("title|headline|subject"), lambda f: f.sentence(nb_words=4).rstrip(".")),
    (
        _hint("description|summary|bio|about|comment|content|text|message|note|reason|answer"),
        lambda f: f.sentence(),
    ),
    (_hint("job|occupation|profession"), lambda f: f.job()),
    (_hint("colou?r"), lambda f: f.color_name()),
    (_hint("currency"), lambda f: f.currency_code()),
    (_hint("language"), lambda f: f.language_name()),
)


def fake_for_format(fmt: str, faker: Faker) -> str | None:
    """A value in JSON Schema format `fmt` ("uuid", "date-time", ...), or None if unknown."""
    make = _FORMATS.get(fmt)
    return None if make is None else make(faker, faker.random)


def _moment(rng: random.Random) -> datetime:
    # A fixed window, not "now": nothing a client sees may depend on the clock.
    return datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(30 * 365 * 86400))


def _url(faker: Faker) -> str:
    return f"https://{faker.word()}.example.com/{faker.word()}"


_FORMATS: dict[str, Callable[[Faker, random.Random], str]] = {
    "date-time": lambda f, rng: _moment(rng).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda f, rng: _moment(rng).strftime("%Y-%m-%d"),
    "time": lambda f, rng: _moment(rng).strftime("%H:%M:%SZ"),
    "duration": lambda f, rng: f"PT{rng.randint(1, 59)}M",
    "email": lambda f, rng: f"{f.word()}.{f.word()}@example.com",
    "idn-email": lambda f, rng: f"{f.word()}@example.com",
    "uri": lambda f, rng: _url(f),
    "url": lambda f, rng: _url(f),
    "iri": lambda f, rng: _url(f),
    "uri-reference": lambda f, rng: f"/{f.word()}/{f.word()}",
    "uuid": lambda f, rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda f, rng: str(ipaddress.IPv4Address(rng.getrandbits(32))),
    "ipv6": lambda f, rng: str(ipaddress.IPv6Address(rng.getrandbits(128))),
    "hostname": lambda f, rng: f"{f.word()}.example.com",
    "idn-hostname": lambda f, rng: f"{f.word()}.example.com",
}

# re's own parser turns a pattern into (opcode, argument) pairs that are easy to walk. It is
# private but stable since Python 3.11 (the public `sre_parse` alias warns on import).
_REGEX_PARSER: Any = importlib.import_module("re._parser")
_REPEAT_SPREAD = 3  # `+` and `*` repeat at most this many times beyond their minimum
_CLASS_CHARS = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.,",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": string.ascii_letters + string.digits,
}
_PRINTABLE = string.ascii_letters + string.digits + " -_.,"  # the universe of [^...] and "."


class _Undrawable(Exception):
    """The pattern uses a construct we cannot draw from (lookarounds, conditionals)."""


def sample_regex(pattern: str, rng: random.Random) -> str | None:
    """A string drawn from `pattern`, e.g. "^[A-Z]{2}-\\d{3}$" -> "QK-507".

    None when the pattern does not compile in Python or uses lookarounds or conditionals.
    Repeats are kept short and character classes are drawn from ASCII, so callers should
    check the draw with `re.search` and redraw if needed.
    """
    try:
        out: list[str] = []
        _draw(_parsed(pattern), rng, out, {})
    except (re.error, _Undrawable, RecursionError):
        return None
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _parsed(pattern: str) -> list[Any]:
    return list(_REGEX_PARSER.parse(pattern))


def _draw(items: list[Any], rng: random.Random, out: list[str], groups: dict[int, str]) -> None:
    for op, arg in items:
        kind = op.name
        if kind == "LITERAL":
            out.append(chr(arg))
        elif kind == "NOT_LITERAL":
            out.append(rng.choice([c for c in _PRINTABLE if ord(c) != arg]))
        elif kind == "ANY":
            out.append(rng.choice(string.ascii_letters))
        elif kind == "IN":
            out.append(rng.choice(_class(arg)))
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            for _ in range(rng.randint(low, min(high, low + _REPEAT_SPREAD))):
                _draw(list(sub), rng, out, groups)
        elif kind == "SUBPATTERN":
            group, _, _, sub = arg
            start = len(out)
            _draw(list(sub), rng, out, groups)
            if group:
                groups[group] = "".join(out[start:])
        elif kind == "ATOMIC_GROUP":
            _draw(list(arg), rng, out, groups)
        elif kind == "BRANCH":
            _draw(list(rng.choice(arg[1])), rng, out, groups)
        elif kind == "GROUPREF":
            out.append(groups.get(arg, ""))
        elif kind != "AT":  # anchors hold by construction: the draw is the whole string
            raise _Undrawable(kind)


def _class(items: list[Any]) -> list[str]:
    negate = False
    chars: set[str] = set()
    for op, arg in items:
        kind = op.name
        if kind == "NEGATE":
            negate = True
        elif kind == "LITERAL":
            chars.add(chr(arg))
        elif kind == "RANGE":
            chars.update(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 255) + 1))
        elif kind == "CATEGORY":
            chars.update(_CLASS_CHARS.get(arg.name, ""))
        else:
            raise _Undrawable(kind)
    # Sorted: set order varies with hash randomisation, and draws must not.
    pool = sorted(set(_PRINTABLE) - chars) if negate else sorted(chars)
    if not pool:
        raise _Undrawable("empty character class")
    return pool
