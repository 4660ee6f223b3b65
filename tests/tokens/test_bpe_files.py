from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path

import pytest
import tiktoken

from mockserver.core.cache_files import write_atomically
from mockserver.tokens import bpe_files
from mockserver.tokens.bpe_files import RankTable


@pytest.fixture(scope="module")
def o200k(shared_cache: Path) -> dict[bytes, int]:
    return bpe_files.load_ranks("o200k_base", cache=shared_cache)


def test_table_lookups_match_the_dict(o200k: dict[bytes, int], shared_cache: Path) -> None:
    bpe_files.load_rank_table("o200k_base", cache=shared_cache)  # cached if it wasn't
    table = bpe_files.load_rank_table("o200k_base", cache=shared_cache)  # read from the cache
    assert table._dict is None  # lookups really binary-search the table
    assert len(table) == len(o200k)
    rng = random.Random(3)
    for key in [*rng.sample(sorted(o200k), 2000), min(o200k), max(o200k)]:
        assert table.get(key) == table[key] == o200k[key]
    absent = [key + b"\x00\xff" for key in (b"", min(o200k), max(o200k), b"hello")]
    for missing in absent:
        assert missing not in o200k
        assert table.get(missing) is None
        assert table.get(missing, -1) == -1
        with pytest.raises(KeyError):
            table[missing]
    assert table.to_dict() == o200k
    assert list(table) == sorted(o200k)


def test_table_round_trips_through_bytes() -> None:
    ranks = {b"a": 0, b"b": 1, b"ab": 2, b"\xe2\x80": 3, b"abc": 4}
    table = RankTable.from_dict(ranks)
    again = RankTable.from_bytes(table.to_bytes())
    assert again is not None
    assert again.to_dict() == ranks
    assert again.get(b"ab") == 2
    assert again.get(b"abcd") is None
    # Read in place after a header, as from the cache file.
    after_header = RankTable.from_bytes(b"HEADER" + table.to_bytes(), 6)
    assert after_header is not None
    assert dict(after_header.items()) == ranks
    assert after_header.to_bytes() == table.to_bytes()
    assert RankTable.from_bytes(table.to_bytes()[:-1]) is None  # blob cut short
    assert RankTable.from_bytes(table.to_bytes() + b"x") is None  # trailing bytes
    assert RankTable.from_bytes(b"\x01") is None


def test_cache_is_written_and_used(
    tmp_path: Path, reference: dict[str, tiktoken.Encoding], name: str
) -> None:
    cache = tmp_path / "cache"
    ranks = bpe_files.load_ranks(name, cache=cache)
    assert ranks == reference[name]._mergeable_ranks
    [written] = cache.iterdir()
    assert written.name.startswith(f"{name}-{bpe_files.OFFICIAL_SHA256[name]}-")
    # A warm load never touches the source file.
    missing = tmp_path / "nowhere.tiktoken.gz"
    assert bpe_files.load_ranks(name, source=missing, cache=cache) == ranks


def test_a_mapped_table_outlives_its_file_being_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    built = bpe_files.load_rank_table("cl100k_base", cache=cache)
    mapped = bpe_files.load_rank_table("cl100k_base", cache=cache)  # from the cache file
    [cached] = cache.iterdir()
    write_atomically(cached, b"not a table any more")  # how the cache is ever rewritten
    assert len(mapped) == len(built)
    for token in (b"hello", b" world", b"\xe2\x80", b"!"):
        assert mapped.get(token) == built.get(token) is not None
    assert mapped.to_bytes() == built.to_bytes()


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage"])
def test_corrupt_cache_falls_back_and_rebuilds(
    tmp_path: Path, reference: dict[str, tiktoken.Encoding], damage: str
) -> None:
    cache = tmp_path / "cache"
    bpe_files.load_ranks("cl100k_base", cache=cache)
    [cached] = cache.iterdir()
    data = bytearray(cached.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "empty":
        data = bytearray()
    else:
        # The right magic and digest, but not a table.
        data = bytearray(bpe_files._CACHE_MAGIC + hashlib.sha256(b"x").digest() + b"x")
    cached.write_bytes(bytes(data))
    assert (
        bpe_files.load_ranks("cl100k_base", cache=cache)
        == reference["cl100k_base"]._mergeable_ranks
    )
    # Rebuilt: a load that cannot reach the source succeeds from the cache again.
    nowhere = tmp_path / "nowhere.gz"
    assert bpe_files.load_ranks("cl100k_base", source=nowhere, cache=cache)


def test_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    ranks = bpe_files.load_ranks("cl100k_base", cache=blocker / "cache")
    assert len(ranks) == 100256


def test_hash_mismatch_names_file_and_both_hashes(tmp_path: Path) -> None:
    raw = gzip.decompress(bpe_files.bundled_bpe_path("cl100k_base").read_bytes())
    tampered = raw.replace(b" 0\n", b" 1\n", 1)
    source = tmp_path / "cl100k_base.tiktoken.gz"
    source.write_bytes(gzip.compress(tampered))
    actual = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(bpe_files.BPEFileError) as caught:
        bpe_files.load_ranks("cl100k_base", source=source, cache=tmp_path / "cache")
    message = str(caught.value)
    assert str(source) in message
    assert actual in message
    assert bpe_files.OFFICIAL_SHA256["cl100k_base"] in message
    assert not (tmp_path / "cache").exists()


def test_unreadable_source_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "o200k_base.tiktoken.gz"
    source.write_bytes(b"not gzip")
    with pytest.raises(bpe_files.BPEFileError, match="cannot read the o200k_base BPE file"):
        bpe_files.load_ranks("o200k_base", source=source, cache=tmp_path / "cache")
