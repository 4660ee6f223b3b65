from __future__ import annotations

import random

import pytest
import tiktoken

from mockserver.tokens import threaded_encode
from mockserver.tokens.threaded_encode import count_ordinary, cut, encode_ordinary
from tests.tokens.test_tokenizer import TEXTS

# Characters around which the encodings' patterns behave differently: letters of each case,
# marks, digits, punctuation, apostrophes (contractions), every kind of whitespace, CJK, emoji.
ALPHABET = list("aZé\u0301ß3٣½'’\".,!?/-_ \t\n\r\u00a0\u2003\u3000\x1c\x85中文カ👍🏽\u200d")
WORDS = ["'s", "'LL", " don't", "2024", "...", " \n", "  ", "\r\n", "//", "x"]


def scrambled(seed: int, length: int) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < length:
        out.append(rng.choice(WORDS) if rng.random() < 0.2 else rng.choice(ALPHABET))
    return "".join(out)


@pytest.mark.parametrize("seed", range(40))
def test_every_cut_place_is_a_boundary_of_both_encodings(
    reference: dict[str, tiktoken.Encoding], seed: int
) -> None:
    text = scrambled(seed, 300) if seed else " ".join(TEXTS)
    places = [m.start() for m in threaded_encode._CUT.finditer(text)]
    assert places  # the alphabet makes plenty
    for encoding in reference.values():
        whole = encoding.encode_ordinary(text)
        for place in places:
            left, right = text[:place], text[place:]
            assert encoding.encode_ordinary(left) + encoding.encode_ordinary(right) == whole, (
                encoding.name,
                text[max(place - 5, 0) : place + 5],
            )


def test_cut_keeps_every_character_in_at_most_the_asked_parts() -> None:
    text = scrambled(1, 5000)
    for pieces in (1, 2, 3, 8):
        parts = cut(text, pieces)
        assert "".join(parts) == text
        assert 1 <= len(parts) <= pieces and all(parts)
        assert all(part.startswith(" ") for part in parts[1:])
    assert cut("中文" * 1000, 4) == ["中文" * 1000]  # no place to cut: whole
    assert cut("a" * 100 + " b", 2) == ["a" * 100, " b"]  # the first place after the middle


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_long_text_is_encoded_in_parts_with_the_same_ids(
    reference: dict[str, tiktoken.Encoding], monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    monkeypatch.setattr(threaded_encode, "usable_cores", lambda: cores)
    parts: list[int] = []

    def counted(text: str, pieces: int) -> list[str]:
        parts.append(len(cut(text, pieces)))
        return cut(text, pieces)

    monkeypatch.setattr(threaded_encode, "cut", counted)
    text = scrambled(7, threaded_encode.MIN_CHARS * 2)
    short = text[: threaded_encode.MIN_CHARS - 1]
    for encoding in reference.values():
        for sample in (text, short):
            expected = encoding.encode_ordinary(sample)
            assert encode_ordinary(encoding, sample) == expected
            assert count_ordinary(encoding, sample) == len(expected)
    assert parts == [cores] * 4  # the long text, twice per encoding; the short one stays whole
