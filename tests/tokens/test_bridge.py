from __future__ import annotations

import random
from pathlib import Path

import pytest
import tiktoken

from mockserver.tokens import bpe_files
from mockserver.tokens.bridge import Bridge, usable_text

CASES = [
    "",
    "tiktoken is great!",
    "antidisestablishmentarianism",
    "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "2 + 2 = 4; 1234567890 3.14159 -0.5e10 1,000,000 0x1F",
    "I'm sure you'll see they've said we'd go; it's HE'LL and SHE'S, don't  'twas O'Neil's",
    "Contractions after unicode: ÉL'S ſ's İ'LL Ǆ'RE",
    "   leading and trailing spaces   ",
    "tabs\tand\t\ttabs \t mixed\n\n\nnew lines\r\n\r\nwindows \n  \n indented\n",
    " " * 40 + "x" + "\n" * 7 + " " * 3,
    "お誕生日おめでとう",
    "数据库连接失败，请稍后重试。",
    "Привет, мир! Ünïcödé ñ façade — “quotes” «guillemets» ‘single’",
    "👋🏽 family: 👨\u200d👩\u200d👧 flags: 🇯🇵🇫🇷 🫠🫶",
    "naïve café – Ω≈ç√∫ 𠜎 e\u0301 a\u0308\u0304 ﷽ 각",
    "def f(x):\n\treturn x ** 2  # comment\n\n\n",
    'path/to/file.py https://example.com/a?b=c&d=e#frag {"json": [1, 2, {}]}',
    "special <|endoftext|> and <|endofprompt|> and <|fim_prefix|> stay text",
    "<|endoftext|>",
    "ALLCAPS CamelCaseWords snake_case_words kebab-case-words HTTPServerError",
    "!!!???...,,,;;;::: ---___=== ~~~ ``` ***",
    "\u00a0non\u2003breaking\u3000spaces\u200bzero width\ufeff",
    "a🏽b",
]

# Characters drawn for random texts: every class the split patterns tell apart.
ALPHABET = list(
    "abcxyzABCXYZ0123456789 '\"/\\\t\n\r.,;:!?-_()[]{}<|>@#$%^&*+=~`"
    "éüñçßÉÜÑĳǅſİ"  # Latin-1 and friends, title case, long s, dotted I
    "ΩωДдЖж"  # Greek, Cyrillic
    "中文字日本語한국어"  # CJK, Hangul
    "\u0301\u0308\u0903"  # combining marks
    "\u00a0\u2003\u3000\u200b\u2028"  # other spaces
    "٣٤५६"  # non-ASCII digits
    "👋🏽🇯🇵😀"  # emoji, modifiers, flags
)


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.random()
            if kind < 0.3:
                parts.append("".join(rng.choices(ALPHABET, k=rng.randint(1, 12))))
            elif kind < 0.5:
                parts.append(
                    rng.choice([" ", "  ", "\n", "\t", " \n ", "\r\n"]) * rng.randint(1, 5)
                )
            elif kind < 0.7:
                parts.append(rng.choice(["'s", "'LL", "'ve", "'re", "'d", "'t", "'M", "n't"]))
            else:
                parts.append(rng.choice(CASES[1:]))
        texts.append("".join(parts))
    return texts


@pytest.fixture(scope="module", params=["table", "dict"])
def bridges(request: pytest.FixtureRequest, shared_cache: Path) -> dict[str, Bridge]:
    """Bridges over the cached rank table (binary search) and over a plain dict."""
    bridges = {}
    for name in bpe_files.OFFICIAL_SHA256:
        bpe_files.load_rank_table(name, cache=shared_cache)  # written if it wasn't
        table = bpe_files.load_rank_table(name, cache=shared_cache)
        bridges[name] = Bridge(name, table if request.param == "table" else table.to_dict())
    return bridges


def assert_same_as_tiktoken(bridge: Bridge, reference: tiktoken.Encoding, text: str) -> None:
    ids, lengths = bridge.tokens(text)
    expected = reference.encode_ordinary(text)
    assert ids == expected, f"{text!r}"
    assert lengths == [len(b) for b in reference.decode_tokens_bytes(expected)], f"{text!r}"


@pytest.mark.parametrize("text", CASES)
def test_bridge_matches_tiktoken_on_chosen_text(
    bridges: dict[str, Bridge], reference: dict[str, tiktoken.Encoding], name: str, text: str
) -> None:
    assert_same_as_tiktoken(bridges[name], reference[name], text)
    assert_same_as_tiktoken(bridges[name], reference[name], text)  # second time: memoised


def test_bridge_matches_tiktoken_on_random_text(
    bridges: dict[str, Bridge], reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    for text in random_texts(seed=len(name), count=1500):
        assert_same_as_tiktoken(bridges[name], reference[name], text)


def test_bridge_matches_tiktoken_on_long_prose(
    bridges: dict[str, Bridge], reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    text = (Path(__file__).parents[2] / "mockserver" / "tokens" / "tokenizer.py").read_text()
    assert_same_as_tiktoken(bridges[name], reference[name], text)


def test_lone_surrogates_are_replaced_as_tiktoken_does(
    bridges: dict[str, Bridge], reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    text = "bad \ud800 surrogate and pair \ud83d\ude00 end"
    assert usable_text(text) != text
    assert bridges[name].encode(text) == reference[name].encode_ordinary(text)
    assert usable_text("fine ✓") == "fine ✓"


def test_known_ids() -> None:
    bridge = Bridge("o200k_base", bpe_files.load_ranks("o200k_base"))
    assert bridge.encode("tiktoken is great!") == [83, 8251, 2488, 382, 2212, 0]


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"no pure-Python pre-tokenizer for 'p50k_base'"):
        Bridge("p50k_base", {})
