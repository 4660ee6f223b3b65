"""Deterministic ids: shaped like the vendors', stable, and distinct per key and label."""

from __future__ import annotations

import re

from mockserver import ids


def test_derived_ids_have_the_vendor_shape() -> None:
    assert re.fullmatch(r"chatcmpl-[0-9A-Za-z]{29}", ids.derive_id("k", "chatcmpl", 29, sep="-"))
    assert re.fullmatch(r"call_[0-9A-Za-z]{24}", ids.derive_id("k", "call", 24))
    assert re.fullmatch(r"[0-9A-Za-z]{120}", ids.base62("k", "encrypted", 120))
    assert re.fullmatch(r"[0-9a-f]{32}", ids.hexchars("k", "request-id", 32))


def test_the_same_inputs_give_the_same_id_and_any_change_another() -> None:
    assert ids.derive_id("k", "call", 24) == ids.derive_id("k", "call", 24)
    assert ids.derive_id("k", "call", 24) != ids.derive_id("l", "call", 24)
    assert ids.derive_id("k", "call", 24, label="call0") != ids.derive_id(
        "k", "call", 24, label="call1"
    )
    # A longer id extends the shorter one: lengths don't reshuffle the characters.
    assert ids.base62("k", "x", 100).startswith(ids.base62("k", "x", 30))


def test_ids_use_the_whole_alphabet() -> None:
    seen = set("".join(ids.base62(str(i), "x", 64) for i in range(200)))
    assert seen == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def test_digest_tells_parts_apart() -> None:
    assert ids.digest(1, "a") == ids.digest(1, "a")
    assert ids.digest(1, "a") != ids.digest("1", "a")  # reprs differ
    assert ids.digest("ab", "c") != ids.digest("a", "bc")  # parts are delimited
    assert ids.digest(b"raw") != ids.digest("raw")
    assert re.fullmatch(r"[0-9a-f]{40}", ids.digest("x"))


def test_digest_hashes_reprs_and_raw_bytes_joined_by_unit_separators() -> None:
    import hashlib

    def expected(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=20).hexdigest()

    assert ids.digest(7, "grüße", None) == expected("7\x1f'grüße'\x1fNone\x1f".encode())
    assert ids.digest(7, b"raw\xff", "x") == expected(b"7\x1fraw\xff\x1f'x'\x1f")
