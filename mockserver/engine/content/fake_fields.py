"""Plausible values for one string field of a JSON schema: by its name, its format or its pattern.

    fake_for_name("home_city", faker) -> "New Cory"
    fake_for_format("uuid", faker) -> "cd613e30-d8f1-4adf-91b7-584a2265b1f5"
    sample_regex("^[A-Z]{2}-\\d{3}$", rng) -> "QK-507"

Every value comes from the seeded Faker or `random.Random` the caller passes in (see
`mockserver.engine.content.fakes.seeded_faker`), never from the wall clock.
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import random
import re
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker  # callers pass one in; importing Faker is slow

__all__ = ["fake_for_format", "fake_for_name", "sample_regex"]


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
