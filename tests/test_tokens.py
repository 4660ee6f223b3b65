from __future__ import annotations

import gzip
import hashlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from mockserver import tokens

TEXTS = [
    "",
    "tiktoken is great!",
    "antidisestablishmentarianism",
    "2 + 2 = 4",
    "お誕生日おめでとう",
    "数据库连接失败，请稍后重试。",
    "👋🏽 family: 👨\u200d👩\u200d👧 flags: 🇯🇵🇫🇷",
    "naïve café – “quotes” — Ω≈ç√∫ 𠜎",
    "def f(x):\n\treturn x ** 2  # comment\n\n\n",
    "special <|endoftext|> and <|endofprompt|> and <|fim_prefix|> stay text",
    "   leading and trailing spaces   ",
]


# --- encoding -------------------------------------------------------------------------------


def test_spec_matches_tiktoken(reference: dict[str, tiktoken.Encoding], name: str) -> None:
    tokenizer = tokens.get_tokenizer(name)
    assert tokenizer.encoding._pat_str == reference[name]._pat_str
    assert tokenizer.encoding._special_tokens == reference[name]._special_tokens
    assert tokenizer.encoding.n_vocab == reference[name].n_vocab


@pytest.mark.parametrize("text", TEXTS)
def test_encode_and_count_match_tiktoken(
    reference: dict[str, tiktoken.Encoding], name: str, text: str
) -> None:
    tokenizer = tokens.get_tokenizer(name)
    expected = reference[name].encode_ordinary(text)
    assert tokenizer.encode(text) == expected
    assert tokenizer.count(text) == len(expected)
    assert tokenizer.count(text) == len(expected)  # second call: from the LRU cache
    assert tokenizer.decode(expected) == text


def test_built_encoding_drops_its_python_ranks(
    reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    # The ranks live on in the Rust CoreBPE only; every Tokenizer method must still work.
    tokenizer = tokens.build_tokenizer(name)
    assert tokenizer.encoding._mergeable_ranks == {}
    ref = reference[name]
    for text in TEXTS:
        assert tokenizer.encode(text) == ref.encode_ordinary(text)
        assert tokenizer.decode(tokenizer.encode(text)) == ref.decode(ref.encode_ordinary(text))
        assert "".join(tokenizer.pieces(text)) == text
        assert tokenizer.truncate(text, 3) == tokens.get_tokenizer(name).truncate(text, 3)
    assert tokenizer.encoding.encode_single_token(b"hello") == ref.encode_single_token(b"hello")
    assert tokenizer.encoding.n_vocab == ref.n_vocab


def test_special_token_text_is_plain_text(reference: dict[str, tiktoken.Encoding]) -> None:
    tokenizer = tokens.get_tokenizer("o200k_base")
    ids = tokenizer.encode("<|endoftext|>")
    assert 199999 not in ids
    assert len(ids) > 1


def test_count_uses_cache_for_short_texts_only(name: str) -> None:
    tokenizer = tokens.build_tokenizer(name)
    tokenizer.count("hello there")
    tokenizer.count("hello there")
    assert tokenizer._count_cached.cache_info().hits == 1
    long_text = " word" * 5000
    assert tokenizer.count(long_text) == tokenizer.count(long_text) == 5000
    assert tokenizer._count_cached.cache_info().currsize == 1


def test_known_counts() -> None:
    # The cookbook's "tiktoken is great!" example; o200k_base splits it into 6 tokens.
    assert tokens.get_tokenizer("o200k_base").count("tiktoken is great!") == 6
    assert tokens.get_tokenizer("cl100k_base").pieces("tiktoken is great!") == [
        "t",
        "ik",
        "token",
        " is",
        " great",
        "!",
    ]


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown encoding 'p50k_base': expected one of"):
        tokens.get_tokenizer("p50k_base")


# --- pieces and truncate --------------------------------------------------------------------


def _token_boundaries(encoding: tiktoken.Encoding, text: str) -> set[int]:
    offsets, total = {0}, 0
    for token_bytes in encoding.decode_tokens_bytes(encoding.encode_ordinary(text)):
        total += len(token_bytes)
        offsets.add(total)
    return offsets


@pytest.mark.parametrize("text", TEXTS)
def test_pieces_round_trip_on_token_boundaries(
    reference: dict[str, tiktoken.Encoding], name: str, text: str
) -> None:
    pieces = tokens.get_tokenizer(name).pieces(text)
    assert "".join(pieces) == text
    assert all(pieces)
    boundaries = _token_boundaries(reference[name], text)
    end = 0
    for piece in pieces:
        end += len(piece.encode("utf-8"))
        assert end in boundaries, f"{piece!r} does not end on a token boundary"
    assert len(pieces) <= len(reference[name].encode_ordinary(text))


def test_pieces_join_tokens_that_split_a_character(name: str) -> None:
    tokenizer = tokens.get_tokenizer(name)
    assert tokenizer.count("🏽") > 1
    assert tokenizer.pieces("a🏽b") == ["a", "🏽", "b"]


def test_pieces_keep_lone_surrogates(name: str) -> None:
    text = "bad \ud800 surrogate and pair \ud83d\ude00"
    assert "".join(tokens.get_tokenizer(name).pieces(text)) == text
    assert tokens.get_tokenizer(name).count(text) > 0


@pytest.mark.parametrize("text", TEXTS)
def test_truncate_keeps_whole_characters_of_the_first_tokens(
    reference: dict[str, tiktoken.Encoding], name: str, text: str
) -> None:
    tokenizer = tokens.get_tokenizer(name)
    token_bytes = reference[name].decode_tokens_bytes(reference[name].encode_ordinary(text))
    for limit in range(len(token_bytes) + 2):
        # Dropping a trailing partial character is what "ignore" does to a valid prefix.
        expected = b"".join(token_bytes[:limit]).decode("utf-8", errors="ignore")
        assert tokenizer.truncate(text, limit) == expected


def test_truncate_exact_counts() -> None:
    tokenizer = tokens.get_tokenizer("o200k_base")
    text = "The quick brown fox jumps over the lazy dog. " * 20
    for limit in (0, 1, 5, 17, 100):
        assert tokenizer.count(tokenizer.truncate(text, limit)) == limit
    assert tokenizer.truncate(text, 10_000) == text
    assert tokenizer.truncate(text, -3) == ""
    assert tokenizer.truncate("👋🏽", 1) == ""  # its first token is half a character


# --- loading: offline, verified, cached -----------------------------------------------------


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No socket can connect and tiktoken's own cache is an empty directory."""
    empty = tmp_path / "tiktoken-empty"
    empty.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty))

    def refuse(self: socket.socket, address: Any) -> None:
        raise OSError(f"network blocked in this test: connect({address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield empty
    assert list(empty.iterdir()) == [], "tiktoken tried to cache a download"


def test_loads_with_no_network(
    offline: Path, tmp_path: Path, reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    with pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("127.0.0.1", 9))  # the block works
    cache = tmp_path / "cache"
    cold = tokens.build_tokenizer(name, cache=cache)  # from the gz
    warm = tokens.build_tokenizer(name, cache=cache)  # from the cache
    for tokenizer in (cold, warm):
        assert tokenizer.encode("offline ✓ 漢字") == reference[name].encode_ordinary(
            "offline ✓ 漢字"
        )


def test_cache_is_written_and_used(
    tmp_path: Path, reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    cache = tmp_path / "cache"
    ranks = tokens.load_ranks(name, cache=cache)
    assert ranks == reference[name]._mergeable_ranks
    [written] = cache.iterdir()
    assert written.name.startswith(f"{name}-{tokens.OFFICIAL_SHA256[name]}-")
    # A warm load never touches the source file.
    missing = tmp_path / "nowhere.tiktoken.gz"
    assert tokens.load_ranks(name, source=missing, cache=cache) == ranks


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage"])
def test_corrupt_cache_falls_back_and_rebuilds(
    tmp_path: Path, reference: dict[str, tiktoken.Encoding], damage: str
) -> None:
    cache = tmp_path / "cache"
    tokens.load_ranks("cl100k_base", cache=cache)
    [cached] = cache.iterdir()
    data = bytearray(cached.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"MSRANKS\x01" + hashlib.sha256(b"x").digest() + b"x")
    cached.write_bytes(bytes(data))
    assert (
        tokens.load_ranks("cl100k_base", cache=cache) == reference["cl100k_base"]._mergeable_ranks
    )
    # Rebuilt: a load that cannot reach the source succeeds from the cache again.
    nowhere = tmp_path / "nowhere.gz"
    assert tokens.load_ranks("cl100k_base", source=nowhere, cache=cache)


def test_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    ranks = tokens.load_ranks("cl100k_base", cache=blocker / "cache")
    assert len(ranks) == 100256


def test_hash_mismatch_names_file_and_both_hashes(tmp_path: Path) -> None:
    raw = gzip.decompress(tokens.bundled_bpe_path("cl100k_base").read_bytes())
    tampered = raw.replace(b" 0\n", b" 1\n", 1)
    source = tmp_path / "cl100k_base.tiktoken.gz"
    source.write_bytes(gzip.compress(tampered))
    actual = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(tokens.BPEFileError) as caught:
        tokens.load_ranks("cl100k_base", source=source, cache=tmp_path / "cache")
    message = str(caught.value)
    assert str(source) in message
    assert actual in message
    assert tokens.OFFICIAL_SHA256["cl100k_base"] in message
    assert not (tmp_path / "cache").exists()


def test_unreadable_source_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "o200k_base.tiktoken.gz"
    source.write_bytes(b"not gzip")
    with pytest.raises(tokens.BPEFileError, match="cannot read the o200k_base BPE file"):
        tokens.load_ranks("o200k_base", source=source, cache=tmp_path / "cache")


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert tokens.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("MOCKSERVER_CACHE_DIR")
    assert tokens.cache_dir() == tmp_path / "xdg" / "mockserver"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert tokens.cache_dir() == tmp_path / "home" / ".cache" / "mockserver"


# --- sharing: load once, warm up in the background ------------------------------------------


@pytest.fixture
def gated_builds(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], threading.Event]:
    """A fresh registry whose builds wait for the returned event and are recorded."""
    calls: list[str] = []
    gate = threading.Event()
    real = tokens.build_tokenizer

    def build(name: str) -> tokens.Tokenizer:
        calls.append(name)
        assert gate.wait(timeout=60), "test gate never opened"
        return real(name)

    monkeypatch.setattr(tokens, "_loads", {})
    monkeypatch.setattr(tokens, "build_tokenizer", build)
    return calls, gate


def test_concurrent_get_tokenizer_loads_once(
    gated_builds: tuple[list[str], threading.Event],
) -> None:
    calls, gate = gated_builds
    results: list[tokens.Tokenizer] = []
    threads = [
        threading.Thread(target=lambda: results.append(tokens.get_tokenizer("cl100k_base")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert calls == ["cl100k_base"]
    assert len(results) == 8
    assert all(result is results[0] for result in results)


def test_get_tokenizer_waits_for_warm_up(gated_builds: tuple[list[str], threading.Event]) -> None:
    calls, gate = gated_builds
    tokens.warm_up(["cl100k_base"])  # claims the load before returning
    gate.set()
    tokenizer = tokens.get_tokenizer("cl100k_base")
    assert calls == ["cl100k_base"]
    assert tokens.get_tokenizer("cl100k_base") is tokenizer
    tokens.warm_up(["cl100k_base"])  # already loaded: nothing to do
    assert calls == ["cl100k_base"]


def test_warm_up_failure_surfaces_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def broken(name: str) -> tokens.Tokenizer:
        attempts.append(name)
        raise tokens.BPEFileError(f"{name}: broken on purpose")

    monkeypatch.setattr(tokens, "_loads", {})
    monkeypatch.setattr(tokens, "build_tokenizer", broken)
    tokens.warm_up(["o200k_base"])
    with pytest.raises(tokens.BPEFileError, match="broken on purpose"):
        tokens.get_tokenizer("o200k_base")
    with pytest.raises(tokens.BPEFileError, match="broken on purpose"):
        tokens.get_tokenizer("o200k_base")
    assert 2 <= len(attempts) <= 3  # the failed load is forgotten, so it is retried


def test_warm_up_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'gpt2'"):
        tokens.warm_up(["o200k_base", "gpt2"])
