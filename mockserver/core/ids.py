"""Deterministic identifiers shaped like the vendors' own.

Every id is a pure function of a reply key (itself derived from the scenario seed, the request's
content and its occurrence number) and a label, so two runs print the same ids and two different
ids in one response never collide:

    derive_id("3f2a...", "chatcmpl", 29) -> "chatcmpl-" + 29 base62 characters
"""

from __future__ import annotations

import functools
import hashlib

_BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE62_TABLE = bytes(_BASE62[b % 62] for b in range(256))


def digest(*parts: object) -> str:
    """A stable hex digest of the parts' reprs (bytes are hashed as they are)."""
    if bytes in map(type, parts):
        data = b"\x1f".join(p if isinstance(p, bytes) else repr(p).encode() for p in parts)
    else:  # the same bytes, joined before encoding (cheaper: every request mints a key)
        data = "\x1f".join(map(repr, parts)).encode()
    return hashlib.blake2b(data + b"\x1f", digest_size=20).hexdigest()


class DigestPrefix:
    """`digest(*parts, last)` for many `last`s after the same parts, with the parts hashed
    once: every request mints its reply key from the scenario seed, its retry group and its
    occurrence number, and only the number changes between occurrences."""

    __slots__ = ("_state",)

    def __init__(self, *parts: str | int) -> None:
        self._state = hashlib.blake2b(digest_size=20)
        self._state.update("".join(repr(part) + "\x1f" for part in parts).encode())

    def digest(self, last: str | int) -> str:
        state = self._state.copy()
        state.update(repr(last).encode() + b"\x1f")
        return state.hexdigest()


# Empty hash states: copying one is cheaper than parsing `digest_size` for a new one, and ids
# are minted on every response.
_EMPTY_64 = hashlib.blake2b(digest_size=64)
_EMPTY_32 = hashlib.blake2b(digest_size=32)


def base62(key: str, label: str, length: int) -> str:
    """`length` base62 characters derived from key and label.

    Each digest byte picks one character through a 256-entry table (a C-level `translate`).
    The slight bias of `byte % 62` doesn't matter for ids that only need to be stable and
    distinct. Not cached: a reply key is new on every response, and the renderers that use an
    id twice keep it themselves.
    """
    out = b""
    counter = 0
    while len(out) < length:  # one 64-byte block per counter
        state = _EMPTY_64.copy()
        state.update(f"{key}:{label}:{counter}".encode())
        out += state.digest()
        counter += 1
    return out[:length].translate(_BASE62_TABLE).decode("ascii")


def hex_digest(key: str, label: str, length: int) -> str:
    """`length` (≤ 64) hex characters derived from key and label."""
    state = _EMPTY_32.copy()
    state.update(f"{key}:{label}".encode())
    return state.hexdigest()[:length]


# For ids derived again and again from the same few keys (fingerprints per model, ids per API
# key or error).
hexchars = functools.lru_cache(maxsize=512)(hex_digest)


def derive_id(key: str, prefix: str, length: int, *, sep: str = "_", label: str = "") -> str:
    """`prefix` + `sep` + `length` base62 characters, e.g. ("…", "call", 24) -> "call_…"."""
    return f"{prefix}{sep}{base62(key, label or prefix, length)}"


def seed_for(key: str, label: str) -> int:
    """A 64-bit seed from key and label; different labels give independent streams."""
    digest = hashlib.blake2b(f"{label}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
