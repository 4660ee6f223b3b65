from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from mockserver.fakes import (
    TokenizerLike,
    default_reply_length,
    fake_text,
    fake_words,
)
from tests._offline_encoding import offline_encoding

SIZES = (1, 2, 5, 17, 100, 1000)


@pytest.fixture(params=["o200k_base", "cl100k_base"])
def encoding(request: pytest.FixtureRequest) -> TokenizerLike:
    return offline_encoding(request.param)


def count(encoding: TokenizerLike, text: str) -> int:
    return len(encoding.encode(text))


@pytest.mark.parametrize("tokens", SIZES)
def test_fake_text_has_exactly_the_asked_token_count(encoding: TokenizerLike, tokens: int) -> None:
    for key in ("alpha", "beta", "gamma"):
        text = fake_text(key, tokens, encoding)
        assert count(encoding, text) == tokens, (key, text)


def test_fake_text_is_exact_over_many_keys_and_sizes() -> None:
    encoding = offline_encoding("o200k_base")
    sizes = random.Random(7)  # only picks the sizes to try; fake_text never sees it
    for index in range(300):
        tokens = sizes.randint(1, 300)
        text = fake_text(f"key-{index}", tokens, encoding)
        assert count(encoding, text) == tokens, (index, tokens, text)


def test_fake_text_ends_on_a_full_stop_and_reads_like_prose() -> None:
    encoding = offline_encoding("o200k_base")
    for index in range(100):
        text = fake_text(f"prose-{index}", 2 + index % 60, encoding)
        assert text.endswith("."), text
        assert text[0].isupper()
        assert re.fullmatch(r"[A-Za-z .\n'-]+", text), text


def test_fake_text_of_nothing_is_empty() -> None:
    encoding = offline_encoding("o200k_base")
    assert fake_text("k", 0, encoding) == ""
    assert fake_text("k", -3, encoding) == ""


def test_fake_text_is_a_function_of_the_key() -> None:
    encoding = offline_encoding("o200k_base")
    assert fake_text("same", 40, encoding) == fake_text("same", 40, encoding)
    texts = {fake_text(f"key-{i}", 40, encoding) for i in range(30)}
    assert len(texts) == 30


def test_fake_text_leaves_the_global_random_state_alone() -> None:
    random.seed(1234)
    before = random.getstate()
    fake_text("k", 50, offline_encoding("o200k_base"))
    fake_words("k", 5)
    assert random.getstate() == before


def test_parallel_threads_give_the_sequential_outputs() -> None:
    encoding = offline_encoding("o200k_base")
    jobs = [(f"thread-{i}", 1 + (i * 37) % 400) for i in range(200)]
    sequential = [fake_text(key, tokens, encoding) for key, tokens in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda job: fake_text(job[0], job[1], encoding), jobs))
        words = list(pool.map(lambda job: fake_words(job[0], 5), jobs))
    assert parallel == sequential
    assert words == [fake_words(key, 5) for key, _ in jobs]


def test_outputs_do_not_depend_on_hash_randomisation() -> None:
    script = (
        "import json; from mockserver.fakes import *\n"
        "class Words:\n"
        "    def encode(self, text): return [len(w) for w in text.split(' ')]\n"
        "    def decode(self, ids): raise NotImplementedError\n"
        "print(json.dumps([fake_text('k', 30, Words()), fake_words('k', 8)]))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())[1] == fake_words("k", 8)


class CharTokenizer:
    """One token per character: no word-level accounting applies, the fallback must cope."""

    __slots__ = ()  # not weak-referenceable, like mockserver.tokens.Tokenizer

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(map(chr, ids))


class PairTokenizer:
    """Two tokens per character: odd counts cannot be reached."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text for _ in range(2)]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i) for i in ids[::2])


class MuteTokenizer:
    def encode(self, text: str) -> list[int]:
        return []

    def decode(self, ids: list[int]) -> str:
        return ""


@pytest.mark.parametrize("tokens", SIZES)
def test_a_character_tokenizer_still_gets_exact_counts(tokens: int) -> None:
    text = fake_text("chars", tokens, CharTokenizer())
    assert len(text) == tokens


@pytest.mark.parametrize("tokens", [1, 2, 7, 100])
def test_unreachable_counts_end_with_the_nearest_count_below(tokens: int) -> None:
    text = fake_text("pairs", tokens, PairTokenizer())
    assert len(PairTokenizer().encode(text)) == tokens - tokens % 2


def test_a_tokenizer_that_counts_nothing_does_not_hang() -> None:
    assert isinstance(fake_text("mute", 50, MuteTokenizer()), str)


def test_fake_words() -> None:
    words = fake_words("k", 12)
    assert len(words) == 12
    assert all(re.fullmatch(r"[a-z]+", w) for w in words)
    assert words == fake_words("k", 12)
    assert words != fake_words("other", 12)
    assert fake_words("k", 0) == []


def test_default_reply_length_is_plausible_deterministic_and_capped() -> None:
    lengths = [default_reply_length(f"k{i}", None) for i in range(500)]
    assert all(20 <= n <= 60 for n in lengths)
    assert len(set(lengths)) > 30
    assert [default_reply_length(f"k{i}", None) for i in range(500)] == lengths
    assert all(default_reply_length(f"k{i}", 25) <= 25 for i in range(100))
    assert default_reply_length("k", 0) == 0
    assert default_reply_length("k", 1000) == default_reply_length("k", None)
