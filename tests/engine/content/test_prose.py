"""Fake prose made of words whose tokens are known: checked against tiktoken itself."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
import tiktoken

from mockserver.engine.content import prose
from mockserver.engine.content.prose import default_reply_length, fake_pieces, fake_text, word_list
from mockserver.tokens.tokenizer import Tokenizer, get_tokenizer
from tests.hash_seeds import outputs_under_hash_seeds


def reference_pieces(encoding: tiktoken.Encoding, text: str) -> list[str]:
    return [encoding.decode([token]) for token in encoding.encode_ordinary(text)]


def test_the_pieces_are_the_tokens_tiktoken_makes_of_the_text(
    name: str, reference: dict[str, tiktoken.Encoding]
) -> None:
    tokenizer = get_tokenizer(name)
    for i in range(1500):
        tokens = 1 + i % 120
        pieces = fake_pieces(f"key-{i}", tokens, tokenizer)
        assert len(pieces) == tokens
        assert reference_pieces(reference[name], "".join(pieces)) == pieces, i


def test_prose_reads_like_sentences(name: str) -> None:
    tokenizer = get_tokenizer(name)
    texts = [fake_text(f"k{i}", 60, tokenizer) for i in range(200)]
    assert all(text.endswith(".") and text[0].isupper() for text in texts)
    assert any("\n\n" in text for text in texts)  # paragraphs, now and then
    assert len(set(texts)) == len(texts)
    assert all(". " in text or ".\n\n" in text for text in texts)  # several sentences


def test_the_same_key_gives_the_same_text() -> None:
    tokenizer = get_tokenizer("o200k_base")
    assert fake_text("k", 40, tokenizer) == fake_text("k", 40, tokenizer)
    assert fake_text("k", 40, tokenizer) != fake_text("l", 40, tokenizer)


@pytest.mark.parametrize("tokens", [0, 1, 2, 3])
def test_tiny_counts(tokens: int) -> None:
    tokenizer = get_tokenizer("o200k_base")
    pieces = fake_pieces("k", tokens, tokenizer)
    assert len(pieces) == tokens
    if tokens >= 2:
        assert pieces[-1] == "."


def test_needed_pieces_are_those_of_the_whole_text(name: str) -> None:
    # A reply cut by max_tokens only makes what it keeps, and keeps what the whole text starts with.
    tokenizer = get_tokenizer(name)
    for i in range(400):
        tokens = 20 + i % 41
        whole = fake_pieces(f"k{i}", tokens, tokenizer)
        for needed in (1, 7, 21, tokens - 6, tokens, tokens + 3):
            part = fake_pieces(f"k{i}", tokens, tokenizer, needed=needed)
            assert part[:needed] == whole[:needed]
            assert len(part) >= min(needed, tokens)


def test_made_short_when_only_a_few_pieces_are_needed() -> None:
    tokenizer = get_tokenizer("o200k_base")
    assert len(fake_pieces("k", 500, tokenizer, needed=10)) < 100


def test_the_words_are_read_without_importing_faker() -> None:
    code = (
        "import sys; from mockserver.engine.content.prose import word_list; words = word_list(); "
        "print(len(words), 'faker' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, imported = out.stdout.split()
    assert int(count) > 900
    assert imported == "False"


def test_the_word_list_is_fakers_lower_case_words() -> None:
    from faker.providers.lorem.en_US import Provider

    expected = [w for w in Provider.word_list if w.isalpha() and w.islower() and w.isascii()]
    assert word_list() == expected


def test_a_tokenizer_without_one_token_sentence_ends_is_refused() -> None:
    class Bytewise:
        def pieces(self, text: str) -> list[str]:
            return list(text) if text != "." else [".", ""]

        def pieces_of(self, texts: Iterable[str]) -> list[list[str]]:
            return [self.pieces(text) for text in texts]

    with pytest.raises(ValueError, match="one token"):
        prose.Vocabulary(Bytewise(), ["word"])


def test_vocabularies_are_kept_per_tokenizer() -> None:
    tokenizer = get_tokenizer("o200k_base")
    assert prose.vocabulary(tokenizer) is prose.vocabulary(tokenizer)
    assert isinstance(tokenizer, Tokenizer)


def test_default_reply_length_is_plausible_deterministic_and_capped() -> None:
    lengths = [default_reply_length(f"k{i}", None) for i in range(500)]
    assert all(20 <= n <= 60 for n in lengths)
    assert len(set(lengths)) > 30
    assert [default_reply_length(f"k{i}", None) for i in range(500)] == lengths
    assert all(default_reply_length(f"k{i}", 25) <= 25 for i in range(100))
    assert default_reply_length("k", 0) == 0
    assert default_reply_length("k", 1000) == default_reply_length("k", None)


def test_the_global_random_state_is_left_alone() -> None:
    random.seed(1234)
    before = random.getstate()
    fake_text("k", 50, get_tokenizer("o200k_base"))
    assert random.getstate() == before


def test_parallel_threads_give_the_sequential_texts() -> None:
    tokenizer = get_tokenizer("o200k_base")
    jobs = [(f"thread-{i}", 1 + (i * 37) % 300) for i in range(200)]
    sequential = [fake_text(key, tokens, tokenizer) for key, tokens in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda job: fake_text(job[0], job[1], tokenizer), jobs)) == sequential


def test_texts_do_not_depend_on_hash_randomisation() -> None:
    script = (
        "from mockserver.engine.content.prose import fake_text\n"
        "from mockserver.tokens.tokenizer import get_tokenizer\n"
        "print(fake_text('k', 30, get_tokenizer('o200k_base')))"
    )
    outputs = outputs_under_hash_seeds(script)
    assert len(outputs) == 1


def test_a_vocabulary_is_cut_once_then_read_from_the_cache_folder(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(tmp_path))
    tokenizer = get_tokenizer(name)
    words = word_list()
    first = prose.Vocabulary(tokenizer, words)
    (stored,) = tmp_path.glob(f"prose-{name}-*.json")

    def no_cutting(self: Tokenizer, texts: Iterable[str]) -> list[list[str]]:
        raise AssertionError("the vocabulary was cut again")

    with monkeypatch.context() as patched:
        patched.setattr(Tokenizer, "pieces_of", no_cutting)
        again = prose.Vocabulary(tokenizer, words)
    assert again.inner == first.inner and again.paragraph_first == first.paragraph_first
    # Pieces that don't spell the words (a file edited by hand) are not used.
    wrong = orjson.loads(stored.read_bytes())
    wrong[2][0] = ["x"]
    stored.write_bytes(orjson.dumps(wrong))
    assert prose.Vocabulary(tokenizer, words).inner == first.inner
