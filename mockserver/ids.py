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
    else:  # the same bytes, joined before encoding (~1 µs less: every request mints a key)
        data = "\x1f".join(map(repr, parts)).encode()
    return hashlib.blake2b(data + b"\x1f", digest_size=20).hexdigest()


# A response often needs one id several times (Responses: in the body and in the store; item ids
# share a tail), so the few most recent derivations are kept.
_RECENT = 512


@functools.lru_cache(maxsize=_RECENT)
def base62(key: str, label: str, length: int) -> str:
    """`length` base62 characters derived from key and label.

    Each digest byte picks one character through a 256-entry table (a C-level `translate`):
    ids are minted on every response, so this is on the hot path. The slight bias of
    `byte % 62` doesn't matter for ids that only need to be stable and distinct.
    """
    out = b""
    counter = 0
    while len(out) < length:
        block = hashlib.blake2b(f"{key}:{label}:{counter}".encode(), digest_size=64).digest()
        out += block.translate(_BASE62_TABLE)
        counter += 1
    return out[:length].decode("ascii")


def hex_digest(key: str, label: str, length: int) -> str:
    """`length` (≤ 64) hex characters derived from key and label."""
    return hashlib.blake2b(f"{key}:{label}".encode(), digest_size=32).hexdigest()[:length]


hexchars = functools.lru_cache(maxsize=_RECENT)(hex_digest)


def derive_id(key: str, prefix: str, length: int, *, sep: str = "_", label: str = "") -> str:
    """`prefix` + `sep` + `length` base62 characters, e.g. ("…", "call", 24) -> "call_…"."""
    return f"{prefix}{sep}{base62(key, label or prefix, length)}"


def seed_for(key: str, label: str) -> int:
    """A 64-bit seed from key and label; different labels give independent streams."""
    digest = hashlib.blake2b(f"{label}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
