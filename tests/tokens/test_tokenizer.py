from __future__ import annotations

import socket
import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from mockserver.http import pacer
from mockserver.tokens import tokenizer as tokens
from mockserver.tokens.bpe_files import RankTable
from mockserver.tokens.bridge import Bridge

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
    return {name: tokens.load_ranks(name, cache=shared_cache) for name in tokens.OFFICIAL_SHA256}


@pytest.fixture(scope="module")
def built(shared_cache: Path) -> dict[str, tokens.Tokenizer]:
    return {
        name: tokens.build_tokenizer(name, cache=shared_cache) for name in tokens.OFFICIAL_SHA256
    }


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


def test_spec_matches_tiktoken(reference: dict[str, tiktoken.Encoding], name: str) -> None:
    tokenizer = tokens.get_tokenizer(name)
    assert tokenizer.encoding._pat_str == reference[name]._pat_str
    assert tokenizer.encoding._special_tokens == reference[name]._special_tokens
    assert tokenizer.encoding.n_vocab == reference[name].n_vocab


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
    assert tokenizer.encoding._mergeable_ranks == {}  # the Python ranks are dropped
    assert tokenizer._bridge is None


class WatchedTable(RankTable):
    """A rank table a weak reference can watch (RankTable's slots leave no room for one)."""

    __slots__ = ("__weakref__",)


def test_a_long_text_build_lets_the_rank_table_go_first(
    monkeypatch: pytest.MonkeyPatch, name: str, ranks: dict[str, dict[bytes, int]]
) -> None:
    # The peak RSS is the build's: the table must be gone when Rust copies the ranks. A weak
    # reference tells (an `id()` could name a new object at a reused address).
    table = WatchedTable.from_bytes(RankTable.from_dict(ranks[name]).to_bytes())
    assert table is not None
    tokenizer = tokens.Tokenizer(name, bridge=Bridge(name, table))
    watch = weakref.ref(table)
    del table
    alive_during_build = []
    real = tokens.rust_encoding

    def watched(name: str, ranks: dict[bytes, int]) -> tiktoken.Encoding:
        alive_during_build.append(watch() is not None)
        return real(name, ranks)

    monkeypatch.setattr(tokens, "rust_encoding", watched)
    assert tokenizer.count("word " * (tokens.BRIDGE_MAX_CHARS // 5) + "more") > 0
    assert alive_during_build == [False]


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

    def broken(name: str, ranks: dict[bytes, int]) -> tiktoken.Encoding:
        raise RuntimeError("no Rust today")

    monkeypatch.setattr(tokens, "rust_encoding", broken)
    with pytest.raises(RuntimeError, match="no Rust today"):
        tokenizer.build()
    assert not tokenizer.built
    assert tokenizer.count("still counted") == 2


def test_tokenizer_needs_one_way_to_encode(built: dict[str, tokens.Tokenizer]) -> None:
    with pytest.raises(ValueError, match="exactly one of encoding and bridge"):
        tokens.Tokenizer("o200k_base")
    with pytest.raises(ValueError, match="exactly one of encoding and bridge"):
        tokens.Tokenizer(
            "o200k_base", built["o200k_base"].encoding, bridge=Bridge("o200k_base", {})
        )


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


# --- sharing: load once, build the Rust encoder in the background ---------------------------


IDLE_BUILDER = "mockserver-tokenizer-idle-builder"  # the thread `build_when_idle` starts


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh registry and builder, with a builder policy that never waits long."""
    monkeypatch.setattr(tokens, "_loads", {})
    monkeypatch.setattr(tokens, "_to_build", [])
    monkeypatch.setattr(tokens, "_builder", None)
    monkeypatch.setattr(tokens, "QUIET_S", 0.001)
    monkeypatch.setattr(tokens, "MAX_DEFER_S", 0.01)
    yield
    builder = tokens._builder
    if builder is not None:  # done with this registry before it is swapped back
        builder.join(timeout=60)
    # And an idle builder too: one that outlived its test would meet the next test's patches
    # between seeing its tokenizer built and leaving its loop.
    for thread in threading.enumerate():
        if thread.name == IDLE_BUILDER:
            thread.join(timeout=60)
            assert not thread.is_alive(), "an idle builder is still waiting"


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
        assert time.monotonic() < deadline, f"the builder never built {tokenizers}"
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


def test_warm_up_loads_and_demand_builds(registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "BUILD_AFTER_CALLS", 3)
    tokens.warm_up()
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
    # 51 texts, but two uses: not yet in demand.
    assert tokens._to_build == [] and tokens._builder is None
    o200k.pieces(words[1])  # the third use
    assert tokens._to_build == ["o200k_base"] or tokens._builder is not None


def test_warm_up_failure_surfaces_and_retries(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def broken(name: str) -> tokens.Tokenizer:
        attempts.append(name)
        raise tokens.BPEFileError(f"{name}: broken on purpose")

    monkeypatch.setattr(tokens, "bridged_tokenizer", broken)
    tokens.warm_up(["o200k_base"])
    with pytest.raises(tokens.BPEFileError, match="broken on purpose"):
        tokens.get_tokenizer("o200k_base")
    with pytest.raises(tokens.BPEFileError, match="broken on purpose"):
        tokens.get_tokenizer("o200k_base")
    assert 2 <= len(attempts) <= 3  # the failed load is forgotten, so it is retried


def test_warm_up_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown encoding 'gpt2'"):
        tokens.warm_up(["o200k_base", "gpt2"])


class FakeClock:
    """`time` for the builder: sleeping advances the clock, and while `busy` the process makes
    one tokenizer call per sleep."""

    def __init__(self, busy_sleeps: int) -> None:
        self.now = 0.0
        self.busy_sleeps = busy_sleeps

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.busy_sleeps > 0:
            self.busy_sleeps -= 1
            tokens._note_call()


@pytest.mark.parametrize(
    ("calls_before", "busy_sleeps", "returns_after_sleeps"),
    [
        (5, 0, 1),  # used before, quiet now: the first quiet window
        (0, 3, 4),  # first calls while waiting: the window after they stop
        (0, 0, 40),  # never used: the deadline
        (5, 1000, 40),  # never quiet: the deadline
    ],
)
def test_builder_waits_for_a_quiet_window(
    monkeypatch: pytest.MonkeyPatch, calls_before: int, busy_sleeps: int, returns_after_sleeps: int
) -> None:
    clock = FakeClock(busy_sleeps)
    monkeypatch.setattr(tokens, "time", clock)
    monkeypatch.setattr(tokens, "_calls", calls_before)
    monkeypatch.setattr(tokens, "QUIET_S", 0.05)
    tokens._wait_until_quiet(deadline=2.0)
    assert clock.now == pytest.approx(returns_after_sleeps * 0.05)


def test_quiet_window_ends_with_the_next_call_unless_the_deadline_passed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(busy_sleeps=0)
    monkeypatch.setattr(tokens, "time", clock)
    monkeypatch.setattr(tokens, "_calls", 5)
    pacing = False
    monkeypatch.setattr(pacer, "pacing_anything", lambda: pacing)
    still_quiet = tokens._wait_until_quiet(deadline=2.0)
    assert still_quiet()
    pacing = True
    assert not still_quiet()
    pacing = False
    tokens._note_call()
    assert not still_quiet()
    clock.busy_sleeps = 1000  # calls never stop: at the deadline, build all the same
    go_ahead = tokens._wait_until_quiet(deadline=clock.now + 2.0)
    tokens._note_call()
    assert go_ahead()


@pytest.mark.parametrize(
    ("first_request", "requests_until", "calls_until", "pacing_until", "returns_after_sleeps"),
    [
        (0, 0, 0, 0, 4),  # served before, idle now: one idle period
        (6, 0, 0, 0, 10),  # no request yet: idle counts from the first
        (0, 8, 0, 0, 12),  # requests keep coming: from the last one
        (0, 0, 3, 0, 7),  # tokenizer calls count as activity too
        (0, 0, 0, 5, 8),  # and so does a paced stream in flight
    ],
)
def test_idle_build_waits_for_an_idle_period_after_the_first_request(
    monkeypatch: pytest.MonkeyPatch,
    first_request: int,
    requests_until: int,
    calls_until: int,
    pacing_until: int,
    returns_after_sleeps: int,
) -> None:
    clock = FakeClock(busy_sleeps=calls_until)
    monkeypatch.setattr(tokens, "time", clock)
    monkeypatch.setattr(tokens, "IDLE_POLL_S", 0.125)  # exact in binary: no drift in the sums
    monkeypatch.setattr(tokens, "IDLE_S", 0.5)

    def sleeps() -> int:
        return int(clock.now / 0.125)

    def requests_so_far() -> int:
        if sleeps() < first_request:
            return 0
        return 1 + min(sleeps(), requests_until)  # one more per sleep until `requests_until`

    monkeypatch.setattr(pacer, "pacing_anything", lambda: sleeps() < pacing_until)
    still_idle = tokens._wait_until_idle(requests_so_far)
    assert clock.now == returns_after_sleeps * 0.125
    assert still_idle()


def test_idle_period_ends_with_any_activity(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(busy_sleeps=0)
    monkeypatch.setattr(tokens, "time", clock)
    requests = 1
    pacing = False
    monkeypatch.setattr(pacer, "pacing_anything", lambda: pacing)
    still_idle = tokens._wait_until_idle(lambda: requests)
    assert still_idle()
    pacing = True
    assert not still_idle()
    pacing = False
    requests += 1
    assert not still_idle()
    still_idle = tokens._wait_until_idle(lambda: requests)
    tokens._note_call()
    assert not still_idle()


def test_build_if_asks_once_the_ranks_are_a_dict_and_the_bridge_answers_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
    reference: dict[str, tiktoken.Encoding],
    name: str,
    ranks: dict[str, dict[bytes, int]],
) -> None:
    tokenizer = tokens.Tokenizer(name, bridge=Bridge(name, ranks[name]))
    constructed: list[str] = []
    real = tokens.rust_encoding

    def recorded(name: str, ranks: dict[bytes, int]) -> tiktoken.Encoding:
        constructed.append(name)
        return real(name, ranks)

    monkeypatch.setattr(tokens, "rust_encoding", recorded)
    asked: list[int] = []

    def request_came() -> bool:
        asked.append(tokenizer.count("tiktoken is great!"))  # the bridge still answers
        return False

    assert not tokenizer.build_if(request_came)
    assert asked == [len(reference[name].encode("tiktoken is great!"))]
    assert constructed == []
    assert not tokenizer.built and tokenizer._bridge is not None
    assert tokenizer.build_if(lambda: True)
    assert tokenizer.built and constructed == [name]
    assert tokenizer.build_if(lambda: False)  # built already: nothing asked, nothing more
    assert constructed == [name]


def test_idle_builder_tries_again_when_a_request_comes_during_the_build(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "IDLE_S", 0.01)
    monkeypatch.setattr(tokens, "IDLE_POLL_S", 0.005)
    requests = 1
    dicts = 0
    real = tokens._as_dict

    def slow_to_become_a_dict(table: Any) -> dict[bytes, int]:
        nonlocal requests, dicts
        dicts += 1
        if dicts == 1:
            requests += 1  # a request arrives while the first attempt makes the dict
        return real(table)

    monkeypatch.setattr(tokens, "_as_dict", slow_to_become_a_dict)
    waits: list[float | None] = []
    real_wait = tokens._wait_until_idle

    def recorded_wait(activity: Any, idle_for: float | None = None) -> Any:
        waits.append(idle_for)
        return real_wait(activity, idle_for)

    monkeypatch.setattr(tokens, "_wait_until_idle", recorded_wait)
    tokens.build_when_idle(["o200k_base"], activity=lambda: requests)
    o200k = tokens.get_tokenizer("o200k_base")
    wait_until_built(o200k)
    assert dicts == 2
    # The second attempt waits for a pause twice as long as the one the request cut short.
    assert waits == [0.01, 0.02]


def test_the_idle_wait_doubles_up_to_its_cap(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "IDLE_S", 0.01)
    monkeypatch.setattr(tokens, "MAX_IDLE_S", 0.04)
    attempts = iter([False, False, False, False, True])
    waits: list[float | None] = []

    def refused_four_times(self: tokens.Tokenizer, go_ahead: Any) -> bool:
        return next(attempts)

    def waited(activity: Any, idle_for: float | None = None) -> Any:
        waits.append(idle_for)
        return lambda: True

    monkeypatch.setattr(tokens.Tokenizer, "build_if", refused_four_times)
    monkeypatch.setattr(tokens.Tokenizer, "built", property(lambda self: len(waits) >= 5))
    monkeypatch.setattr(tokens, "_wait_until_idle", waited)
    tokens.build_when_idle(["o200k_base"], activity=lambda: 1)
    for builder in threading.enumerate():  # unless it is done already
        if builder.name == IDLE_BUILDER:
            builder.join(timeout=10)
            assert not builder.is_alive()
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.04]


def test_idle_build_builds_the_shared_encoder(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "IDLE_S", 0.01)
    monkeypatch.setattr(tokens, "IDLE_POLL_S", 0.005)
    tokens.build_when_idle(["o200k_base"], activity=lambda: 1)
    o200k = tokens.get_tokenizer("o200k_base")
    wait_until_built(o200k)
    assert o200k.encode("tiktoken is great!") == [83, 8251, 2488, 382, 2212, 0]
    with pytest.raises(ValueError, match="unknown encoding 'gpt2'"):
        tokens.build_when_idle(["gpt2"], activity=lambda: 1)


def test_forced_cl100k_build_builds_a_loaded_o200k_first(
    monkeypatch: pytest.MonkeyPatch, ranks: dict[str, dict[bytes, int]]
) -> None:
    order: list[str] = []
    real = tokens.rust_encoding

    def recorded(name: str, ranks: dict[bytes, int]) -> tiktoken.Encoding:
        order.append(name)
        return real(name, ranks)

    loads: dict[str, Future[tokens.Tokenizer]] = {}
    for name in ("o200k_base", "cl100k_base"):
        loads[name] = Future()
        loads[name].set_result(tokens.Tokenizer(name, bridge=Bridge(name, ranks[name])))
    monkeypatch.setattr(tokens, "_loads", loads)
    monkeypatch.setattr(tokens, "rust_encoding", recorded)
    cl100k = loads["cl100k_base"].result()
    cl100k.build()
    assert order == ["o200k_base", "cl100k_base"]
    assert loads["o200k_base"].result().built
    loads["o200k_base"].result().build()  # built already: nothing more
    assert order == ["o200k_base", "cl100k_base"]


def test_a_refused_cl100k_build_builds_no_loaded_o200k_either(
    monkeypatch: pytest.MonkeyPatch, ranks: dict[str, dict[bytes, int]]
) -> None:
    loads: dict[str, Future[tokens.Tokenizer]] = {}
    for name in ("o200k_base", "cl100k_base"):
        loads[name] = Future()
        loads[name].set_result(tokens.Tokenizer(name, bridge=Bridge(name, ranks[name])))
    monkeypatch.setattr(tokens, "_loads", loads)
    asked: list[str] = []

    def no() -> bool:
        asked.append("asked")
        return False

    assert not loads["cl100k_base"].result().build_if(no)
    assert asked == ["asked"]  # o200k's turn came first, and ended it
    assert not any(load.result().built for load in loads.values())
