"""Whose words an error or a rate-limit header takes, and who is calling.

A dialect's `name` starts with its vendor ("openai.chat", "anthropic.messages", "gemini",
"gateway"); the caller is known by the API key it sends, which is hashed before it is used as a
bucket key and never stored or logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from mockserver.core import ids

Vendor = Literal["openai", "anthropic", "gemini", "gateway"]

# Where the SDKs put the key: OpenAI `Authorization: Bearer`, Anthropic `x-api-key`, Gemini
# `x-goog-api-key` (or `?key=`), Azure-style `api-key`.
KEY_HEADERS = ("x-api-key", "x-goog-api-key", "api-key")


def vendor_of(dialect_name: str) -> Vendor:
    """ "anthropic.messages" -> "anthropic"; anything unknown speaks OpenAI's words."""
    head = dialect_name.split(".", 1)[0]
    if head in ("anthropic", "gemini", "gateway"):
        return head  # type: ignore[return-value]
    return "openai"


def api_key_of(headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> str | None:
    """The caller's key from a Bearer token, a key header or `?key=`; None when none is sent.

    `headers` must have lower-case names (Starlette's and the Exchange's do)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    for name in KEY_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value
    if query:
        value = query.get("key", "").strip()
        if value:
            return value
    return None


def key_id(key: str | None) -> str:
    """A stable, irreversible stand-in for a key (bucket names, ids derived from the caller)."""
    return ids.digest("api-key", key or "")[:20]


def openai_organization(key: str | None) -> str:
    """`org-` + 24 base62 characters, one organisation per key."""
    return "org-" + ids.base62(key_id(key), "organization", 24)


def masked_key(key: str | None) -> str:
    """How OpenAI quotes a rejected key: its first three and last four characters.

    masked_key("sk-test-1234567890") -> "sk-***********7890"
    """
    if not key or len(key) <= 8:
        return "sk-***"
    return key[:3] + "*" * (len(key) - 7) + key[-4:]
