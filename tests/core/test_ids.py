"""Deterministic ids: shaped like the vendors', stable, and distinct per key and label."""

from __future__ import annotations

import re

from mockserver.core import ids


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


def test_a_digest_prefix_gives_the_digest_of_its_parts_and_the_last() -> None:
    prefix = ids.DigestPrefix(42, "group-ß")
    for last in (0, 1, 12345, "x"):
        assert prefix.digest(last) == ids.digest(42, "group-ß", last)
    assert prefix.digest(1) == prefix.digest(1)  # the prefix's own state is left as it was
    assert ids.DigestPrefix().digest("x") == ids.digest("x")


def test_ids_keep_their_values() -> None:
    # Ids clients have seen stay what they were: these are the values ids.py has always given
    # (blake2b of "key:label:counter", one 64-byte block per counter, and "key:label").
    assert ids.base62("3f2a" * 10, "chatcmpl", 29) == "rOvjutu2TSNmSHyrOvVfNcKz40usB"
    assert ids.hex_digest("3f2a" * 10, "request-id", 32) == "e03fc9143d418b273205c699b027eff3"
    assert ids.base62("k", "encrypted", 120) == (
        "iGiRVY4dNxmQlvrDNAJLCgm6EN53UIrwlliCq9YY05oe6Np6YLIZ4vNKqB0yR4zKVRpU6sRqTOOc89Awz0DzTNij"
        "1MdKw6oBL2hk0gE7VwA5iJYPDXcK27z2"
    )
