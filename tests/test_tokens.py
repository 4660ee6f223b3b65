from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken

from mockserver import tokens
from mockserver.exchange import (
    Attachment,
    Exchange,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
)

ENCODINGS = ("o200k_base", "cl100k_base")
BPE_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

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


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tiktoken.Encoding]:
    """tiktoken's own encodings, loaded through its own cache layout (sha1(url) file names)
    from the decompressed bundled files: independent of mockserver's loader."""
    directory = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in BPE_URLS.items():
        raw = gzip.decompress(tokens.bundled_bpe_path(name).read_bytes())
        (directory / hashlib.sha1(url.encode()).hexdigest()).write_bytes(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(directory))
        return {name: tiktoken.get_encoding(name) for name in ENCODINGS}


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mockserver-cache")


@pytest.fixture(autouse=True)
def _private_cache(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_CACHE_DIR", str(shared_cache))


@pytest.fixture(params=ENCODINGS)
def name(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


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


# --- chat framing ---------------------------------------------------------------------------


def cookbook_count(
    encoding: tiktoken.Encoding,
    messages: list[dict[str, str]],
    functions: list[dict[str, Any]] | None = None,
) -> int:
    """OpenAI cookbook "How_to_count_tokens_with_tiktoken" arithmetic, restated for the test."""

    def n(text: str) -> int:
        return len(encoding.encode(text))

    total = 3  # reply priming
    for message in messages:
        total += 3 + sum(n(value) for value in message.values()) + ("name" in message)
    if not functions:
        return total
    function_start = 7 if encoding.name == "o200k_base" else 10
    total += 12
    for function in functions:
        total += function_start + n(f"{function['name']}:{function['description'].rstrip('.')}")
        properties = function["parameters"]["properties"]
        if properties:
            total += 3
        for key, spec in properties.items():
            total += 3
            if "enum" in spec:
                total += -3 + sum(3 + n(item) for item in spec["enum"])
            total += n(f"{key}:{spec['type']}:{spec['description'].rstrip('.')}")
    return total


def chat(messages: list[dict[str, str]], functions: list[dict[str, Any]] | None = None) -> Exchange:
    return Exchange(
        dialect="openai",
        endpoint="chat.completions",
        model="gpt-4o",
        messages=[
            Message(role=m["role"], text=m.get("content", ""), name=m.get("name"))  # type: ignore[arg-type]
            for m in messages
        ],
        body={},
        tools=[Tool(f["name"], f["description"], f["parameters"]) for f in functions or []],
    )


COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]
WEATHER_MESSAGES = [
    {
        "role": "system",
        "content": "You are a helpful assistant that can answer to questions about the weather.",
    },
    {"role": "user", "content": "What's the weather like in San Francisco?"},
]
WEATHER_FUNCTION: dict[str, Any] = {
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {
                "type": "string",
                "description": "The city and state, e.g. San Francisco, CA",
            },
            "unit": {
                "type": "string",
                "description": "The unit of temperature to return",
                "enum": ["celsius", "fahrenheit"],
            },
        },
        "required": ["location"],
    },
}
SEARCH_FUNCTION: dict[str, Any] = {
    "name": "search_docs",
    "description": "Search the documentation.",
    "parameters": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for."},
            "limit": {"type": "integer", "description": "At most this many hits"},
            "sort": {"type": "string", "description": "Order", "enum": ["relevance", "date"]},
        },
    },
}
NO_ARGS_FUNCTION: dict[str, Any] = {
    "name": "now",
    "description": "Current time",
    "parameters": {"type": "object", "properties": {}},
}


@pytest.mark.parametrize(
    ("model_encoding", "expected"), [("o200k_base", 124), ("cl100k_base", 129)]
)
def test_cookbook_published_message_counts(model_encoding: str, expected: int) -> None:
    # The notebook verified these against the API: 124 for gpt-4o / gpt-4o-mini, 129 for
    # gpt-3.5-turbo / gpt-4.
    tokenizer = tokens.get_tokenizer(model_encoding)
    assert tokens.chat_prompt_tokens(chat(COOKBOOK_MESSAGES), tokenizer) == expected


@pytest.mark.parametrize(
    ("model_encoding", "expected"), [("o200k_base", 101), ("cl100k_base", 105)]
)
def test_cookbook_published_tool_counts(model_encoding: str, expected: int) -> None:
    tokenizer = tokens.get_tokenizer(model_encoding)
    exchange = chat(WEATHER_MESSAGES, [WEATHER_FUNCTION])
    assert tokens.chat_prompt_tokens(exchange, tokenizer) == expected


CASES: dict[str, tuple[list[dict[str, str]], list[dict[str, Any]] | None]] = {
    "plain": ([{"role": "user", "content": "Hello, how are you?"}], None),
    "names": (COOKBOOK_MESSAGES, None),
    "multiple-system": (
        [
            {"role": "system", "content": "Be brief."},
            {"role": "system", "content": "Answer in French."},
            {"role": "user", "content": "What is the capital of Italy?"},
            {"role": "assistant", "content": "Rome."},
            {"role": "user", "content": "And of Spain?"},
        ],
        None,
    ),
    "unicode": (
        [
            {"role": "system", "content": "翻译成日语。"},
            {"role": "user", "content": "お誕生日おめでとう 🎂🎉 👨\u200d👩\u200d👧 naïve café"},
        ],
        None,
    ),
    "empty-content": (
        [{"role": "system", "content": ""}, {"role": "user", "content": ""}],
        None,
    ),
    "tools-with-enum": (WEATHER_MESSAGES, [WEATHER_FUNCTION, SEARCH_FUNCTION]),
    "tool-without-properties": (WEATHER_MESSAGES, [NO_ARGS_FUNCTION]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_chat_prompt_tokens_follow_the_cookbook(
    reference: dict[str, tiktoken.Encoding], name: str, case: str
) -> None:
    messages, functions = CASES[case]
    expected = cookbook_count(reference[name], messages, functions)
    actual = tokens.chat_prompt_tokens(chat(messages, functions), tokens.get_tokenizer(name))
    assert actual == expected


def test_tool_calls_results_and_attachments(
    reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    encoding = reference[name]
    arguments = json.dumps({"location": "Paris, France"})
    exchange = chat([{"role": "user", "content": "Weather in Paris?"}])
    exchange.messages += [
        Message(
            role="assistant",
            tool_calls=[ToolCall(id="call_1", name="get_current_weather", arguments=arguments)],
        ),
        Message(role="tool", text='{"temp": 21}', tool_call_id="call_1", tool_name="get_weather"),
        Message(
            role="user",
            text="And this?",
            attachments=[
                Attachment(kind="image", detail="low"),
                Attachment(kind="image", detail="high"),
                Attachment(kind="image"),
                Attachment(kind="audio", mime_type="audio/wav"),
                Attachment(kind="file", mime_type="application/pdf"),
            ],
        ),
    ]
    expected = cookbook_count(
        encoding,
        [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "call": "get_current_weather", "args": arguments},
            {"role": "tool", "content": '{"temp": 21}'},
            {"role": "user", "content": "And this?"},
        ],
    )
    expected += 85 + 765 + 765 + tokens.AUDIO_TOKENS + tokens.FILE_TOKENS
    assert tokens.chat_prompt_tokens(exchange, tokens.get_tokenizer(name)) == expected


def test_json_schema_response_format_counts_schema_text(
    reference: dict[str, tiktoken.Encoding],
) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    exchange = chat([{"role": "user", "content": "City?"}])
    tokenizer = tokens.get_tokenizer("o200k_base")
    plain = tokens.chat_prompt_tokens(exchange, tokenizer)
    exchange.response_format = ResponseFormat(type="json_object")
    assert tokens.chat_prompt_tokens(exchange, tokenizer) == plain
    exchange.response_format = ResponseFormat(type="json_schema", schema=schema, name="city")
    extra = len(reference["o200k_base"].encode(json.dumps(schema, separators=(",", ":")))) + 1
    assert tokens.chat_prompt_tokens(exchange, tokenizer) == plain + extra


def test_nested_tool_parameters_are_counted(name: str) -> None:
    flat = Tool("f", "d", {"type": "object", "properties": {"a": {"type": "object"}}})
    nested = Tool(
        "f",
        "d",
        {
            "type": "object",
            "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}},
        },
    )
    tokenizer = tokens.get_tokenizer(name)
    assert tokens.tools_tokens([nested], tokenizer) > tokens.tools_tokens([flat], tokenizer)
    assert tokens.tools_tokens([], tokenizer) == 0
