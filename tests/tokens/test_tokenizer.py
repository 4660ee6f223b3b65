from __future__ import annotations

import socket
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from tiktoken_ext import openai_public

from mockserver.tokens import tokenizer as tokens
from mockserver.tokens.bpe_files import BPEFileError, RankTable, load_rank_table
from mockserver.tokens.bridge import Bridge
from mockserver.tokens.encodings import SPECS

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


@pytest.fixture(scope="module")
def ranks(shared_cache: Path) -> dict[str, dict[bytes, int]]:
    return {name: load_rank_table(name, cache=shared_cache).to_dict() for name in SPECS}


@pytest.fixture(scope="module")
def built() -> dict[str, tokens.Tokenizer]:
    return {name: tokens.Tokenizer(name) for name in SPECS}


@pytest.fixture(params=["bridged", "built"])
def tokenizer(
    request: pytest.FixtureRequest,
    name: str,
    ranks: dict[str, dict[bytes, int]],
    built: dict[str, tokens.Tokenizer],
) -> tokens.Tokenizer:
    """Both ways a Tokenizer answers: the pure-Python bridge (fresh) and the Rust encoder."""
    if request.param == "built":
        return built[name]
    return tokens.Tokenizer(name, bridge=Bridge(name, ranks[name]))


def test_specs_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The pattern, special tokens and pinned hash written out in `encodings` are the ones
    tiktoken's registry defines (its rank loader stubbed: this test downloads nothing)."""
    pinned: list[str | None] = []

    def no_download(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        pinned.append(expected_hash)
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", no_download)
    spec = openai_public.ENCODING_CONSTRUCTORS[name]()
    assert SPECS[name].pat_str == spec["pat_str"]
    assert dict(SPECS[name].special_tokens) == spec["special_tokens"]
    assert pinned == [SPECS[name].sha256]


def test_built_encoding_is_tiktokens(reference: dict[str, tiktoken.Encoding], name: str) -> None:
    encoding = tokens.get_tokenizer(name).encoding
    assert encoding.n_vocab == reference[name].n_vocab
    assert encoding.max_token_value == reference[name].max_token_value
    for token in (b"hello", b" world", b"\n\n"):
        assert encoding.encode_single_token(token) == reference[name].encode_single_token(token)


@pytest.mark.parametrize("text", TEXTS)
def test_encode_and_count_match_tiktoken(
    reference: dict[str, tiktoken.Encoding], name: str, tokenizer: tokens.Tokenizer, text: str
) -> None:
    was_built = tokenizer.built
    expected = reference[name].encode_ordinary(text)
    assert tokenizer.encode(text) == expected
    assert tokenizer.count(text) == len(expected)
    assert tokenizer.count(text) == len(expected)  # second call: from the LRU cache
    assert tokenizer.built == was_built  # short texts: no build
    assert tokenizer.decode(expected) == text
    assert tokenizer.built  # decoding needs the Rust encoder


def test_long_text_builds_the_encoder_first(
    reference: dict[str, tiktoken.Encoding], name: str, ranks: dict[str, dict[bytes, int]]
) -> None:
    tokenizer = tokens.Tokenizer(name, bridge=Bridge(name, ranks[name]))
    short = "word " * (tokens.BRIDGE_MAX_CHARS // 5)
    assert tokenizer.count(short) == len(reference[name].encode_ordinary(short))
    assert not tokenizer.built
    long = short + "and more"
    assert tokenizer.count(long) == len(reference[name].encode_ordinary(long))
    assert tokenizer.built


class WatchedBridge(Bridge):
    __slots__ = ("__weakref__",)


def test_a_built_tokenizer_lets_its_bridge_go(
    name: str, ranks: dict[str, dict[bytes, int]]
) -> None:
    # A weak reference, not id(): a freed object's address may be reused by the next one.
    table = RankTable.from_bytes(RankTable.from_dict(ranks[name]).to_bytes())
    assert table is not None
    bridge = WatchedBridge(name, table)
    gone = weakref.ref(bridge)
    tokenizer = tokens.Tokenizer(name, bridge=bridge)
    del bridge, table
    assert gone() is not None  # the tokenizer holds it until built
    tokenizer.build()
    assert gone() is None


def test_encoding_attribute_builds_once(name: str, ranks: dict[str, dict[bytes, int]]) -> None:
    tokenizer = tokens.Tokenizer(name, bridge=Bridge(name, ranks[name]))
    assert repr(tokenizer) == f"Tokenizer({name!r}, bridged)"
    encoding = tokenizer.encoding
    assert tokenizer.build() is encoding is tokenizer.encoding
    assert repr(tokenizer) == f"Tokenizer({name!r}, built)"


def test_max_token_value_needs_no_build(
    reference: dict[str, tiktoken.Encoding], tokenizer: tokens.Tokenizer
) -> None:
    was_built = tokenizer.built
    assert tokenizer.max_token_value == reference[tokenizer.name].max_token_value
    assert tokenizer.built == was_built


def test_failed_build_keeps_the_bridge(
    monkeypatch: pytest.MonkeyPatch, name: str, ranks: dict[str, dict[bytes, int]]
) -> None:
    tokenizer = tokens.Tokenizer(name, bridge=Bridge(name, ranks[name]))

    def broken(name: str) -> tiktoken.Encoding:
        raise RuntimeError("no Rust today")

    monkeypatch.setattr(tokens, "rust_encoding", broken)
    with pytest.raises(RuntimeError, match="no Rust today"):
        tokenizer.build()
    assert not tokenizer.built
    assert tokenizer.count("still counted") == 2


def test_special_token_text_is_plain_text() -> None:
    tokenizer = tokens.get_tokenizer("o200k_base")
    ids = tokenizer.encode("<|endoftext|>")
    assert 199999 not in ids
    assert len(ids) > 1


def test_count_uses_cache_for_short_texts_only(name: str) -> None:
    tokenizer = tokens.Tokenizer(name)
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
    reference: dict[str, tiktoken.Encoding], name: str, tokenizer: tokens.Tokenizer, text: str
) -> None:
    pieces = tokenizer.pieces(text)
    assert "".join(pieces) == text
    assert all(pieces)
    boundaries = _token_boundaries(reference[name], text)
    end = 0
    for piece in pieces:
        end += len(piece.encode("utf-8"))
        assert end in boundaries, f"{piece!r} does not end on a token boundary"
    assert len(pieces) <= len(reference[name].encode_ordinary(text))


def test_pieces_join_tokens_that_split_a_character(tokenizer: tokens.Tokenizer) -> None:
    assert tokenizer.count("🏽") > 1
    assert tokenizer.pieces("a🏽b") == ["a", "🏽", "b"]


def test_pieces_keep_lone_surrogates(tokenizer: tokens.Tokenizer) -> None:
    text = "bad \ud800 surrogate and pair \ud83d\ude00"
    assert "".join(tokenizer.pieces(text)) == text
    assert tokenizer.count(text) > 0


@pytest.mark.parametrize("text", TEXTS)
def test_truncate_keeps_whole_characters_of_the_first_tokens(
    reference: dict[str, tiktoken.Encoding], name: str, tokenizer: tokens.Tokenizer, text: str
) -> None:
    token_bytes = reference[name].decode_tokens_bytes(reference[name].encode_ordinary(text))
    for limit in range(len(token_bytes) + 2):
        # Dropping a trailing partial character is what "ignore" does to a valid prefix.
        expected = b"".join(token_bytes[:limit]).decode("utf-8", errors="ignore")
        assert tokenizer.truncate(text, limit) == expected


def test_truncate_exact_counts(tokenizer: tokens.Tokenizer) -> None:
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
    offline: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: dict[str, tiktoken.Encoding],
    name: str,
) -> None:
    with pytest.raises(OSError, match="network blocked"):
        socket.create_connection(("127.0.0.1", 9))  # the block works
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(tmp_path / "cache"))
    cold = tokens.Tokenizer(name)  # from the gz
    warm = tokens.Tokenizer(name)  # from the cache
    for tokenizer in (cold, warm):
        text = "offline ✓ 漢字"
        assert tokenizer.encode(text) == reference[name].encode_ordinary(text)


# --- sharing: load once, build tiktoken's encoder when in demand ----------------------------


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh registry of shared tokenizers."""
    monkeypatch.setattr(tokens, "_loads", {})


@pytest.fixture
def gated_loads(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], threading.Event]:
    """Loads of bridged tokenizers that wait for the returned event and are recorded."""
    calls: list[str] = []
    gate = threading.Event()
    real = tokens.bridged_tokenizer

    def load(name: str) -> tokens.Tokenizer:
        calls.append(name)
        assert gate.wait(timeout=60), "test gate never opened"
        return real(name)

    monkeypatch.setattr(tokens, "bridged_tokenizer", load)
    return calls, gate


def wait_until_built(*tokenizers: tokens.Tokenizer) -> None:
    deadline = time.monotonic() + 60
    while not all(t.built for t in tokenizers):
        assert time.monotonic() < deadline, f"never built: {tokenizers}"
        time.sleep(0.01)


def test_concurrent_get_tokenizer_loads_once(
    gated_loads: tuple[list[str], threading.Event],
) -> None:
    calls, gate = gated_loads
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
    assert not results[0].built  # not in demand yet: no Rust encoder


def test_get_tokenizer_waits_for_warm_up(gated_loads: tuple[list[str], threading.Event]) -> None:
    calls, gate = gated_loads
    tokens.warm_up(["cl100k_base"])  # a thread loads it
    gate.set()
    tokenizer = tokens.get_tokenizer("cl100k_base")
    assert calls == ["cl100k_base"]
    assert tokens.get_tokenizer("cl100k_base") is tokenizer
    tokens.warm_up(["cl100k_base"])  # already loaded: nothing to do
    assert tokens.get_tokenizer("cl100k_base") is tokenizer
    assert calls == ["cl100k_base"]


def test_demand_builds_in_the_background(registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BUILD_AFTER_CALLS", 3)
    o200k, cl100k = tokens.get_tokenizer("o200k_base"), tokens.get_tokenizer("cl100k_base")
    for text in ("tiktoken is great!", "two", "three"):
        assert not o200k.built
        o200k.count(text)
    wait_until_built(o200k)
    assert o200k.encode("tiktoken is great!") == [83, 8251, 2488, 382, 2212, 0]
    assert not cl100k.built  # used less: still the bridge
    cl100k.count("a long text " * 200)  # past BRIDGE_MAX_CHARS: built on the spot
    assert cl100k.built


def test_a_batch_of_pieces_is_one_use(registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    words = [f" word{n}é" for n in range(50)]
    expected = [tokens.bridged_tokenizer("o200k_base").pieces(w) for w in words]
    monkeypatch.setattr(tokens, "BUILD_AFTER_CALLS", 3)
    o200k = tokens.get_tokenizer("o200k_base")
    assert o200k.pieces_of(words) == expected
    o200k.pieces(words[0])
    assert o200k._bridged == 2  # 51 texts, but two uses: not yet in demand
    assert not o200k._building


def test_a_failed_load_surfaces_and_is_retried(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def broken(name: str) -> tokens.Tokenizer:
        attempts.append(name)
        raise BPEFileError(f"{name}: broken on purpose")

    monkeypatch.setattr(tokens, "bridged_tokenizer", broken)
    for _ in range(2):
        with pytest.raises(BPEFileError, match="broken on purpose"):
            tokens.get_tokenizer("o200k_base")
    assert attempts == ["o200k_base", "o200k_base"]  # the failed load is forgotten


def test_warm_up_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'gpt2'"):
        tokens.warm_up(["o200k_base", "gpt2"])
