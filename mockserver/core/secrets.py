"""Credentials never leave the server: one redaction for every string that goes out.

What goes out about a request — its journal entry, an error body, a near-miss explanation, a
pytest failure report, one day a recording — may quote what the client sent, and clients send
keys: in credential headers (`Authorization: Bearer`, `x-api-key`, `x-goog-api-key`,
`api-key`, `mj-api-secret`, cookies), in `?key=`, and sometimes pasted into a prompt. So:

- `secrets_in(headers, query)` collects the credential values of one request (a gateway key
  `sk-…` arrives in one of these headers, and is collected with them);
- `redact_text` masks those values wherever they appear in a string, and any string shaped
  like a key (`sk-…`, `AIza…`, `Bearer …`) besides, with `mask`: `Bearer sk-***`;
- `redact_value` masks the collected values in every string of a parsed body;
- `remember_secret` adds a value the server itself holds (its admin token, the gateway's
  keys) to what is masked everywhere.

>>> redact_text("got 'Bearer sk-SECRET-0123456789abcdef'", ())
"got 'Bearer sk-***'"
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "api-key", "mj-api-secret", "cookie"}
    | {"proxy-authorization", "set-cookie"}
)
SECRET_QUERY = frozenset({"key", "api_key", "api-key"})
SHORTEST = 6  # a shorter value is not searched for in text: it would mask ordinary words

# Key shapes masked in diagnostic text even when not sent as a credential by this request.
_SHAPES = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{12,}"  # OpenAI, Anthropic (sk-ant-…), new-api gateway keys
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google API keys
    r"|\b[Bb]earer\s+[^\s'\",;]{6,}"
)
_known: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Mask `value` everywhere from now on (a token or key this server holds)."""
    if value and len(value) >= SHORTEST:
        _known.add(value)


def mask(value: str) -> str:
    """A credential with only a hint of its shape: `Bearer sk-***`, `AIz***`."""
    scheme, _, secret = value.partition(" ")
    if secret:
        return f"{scheme} {secret[:3]}***"
    return f"{value[:3]}***" if len(value) >= SHORTEST else "***"


def secrets_in(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], query: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """The credential values one request carries, longest first (so that a key is masked
    before a shorter one inside it)."""
    found: set[str] = set()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        lowered = name.lower()
        if lowered in ("cookie", "set-cookie"):
            found.update(part.partition("=")[2].strip() for part in value.split(";"))
        elif lowered in SECRET_HEADERS:
            found.add(value.strip())
            found.add(value.partition(" ")[2].strip())  # the token after `Bearer`
    for name, value in (query or {}).items():
        if name.lower() in SECRET_QUERY:
            found.add(value)
    return tuple(sorted((s for s in found if len(s) >= SHORTEST), key=len, reverse=True))


def redact_text(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with the request's `secrets`, the remembered ones and anything key-shaped masked."""
    for secret in (*secrets, *_known):
        if secret in text:
            text = text.replace(secret, mask(secret))
    return _SHAPES.sub(lambda found: mask(found.group()), text)


def redact_value(value: Any, secrets: Sequence[str]) -> Any:
    """A copy of `value` (parsed JSON) with `secrets` and the remembered ones masked in every
    string; `value` itself when there is nothing to mask."""
    everything = (*secrets, *_known)
    if not everything:
        return value
    if isinstance(value, str):
        for secret in everything:
            if secret in value:
                value = value.replace(secret, mask(secret))
        return value
    if isinstance(value, dict):
        return {redact_value(k, secrets): redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(item, secrets) for item in value]
    return value
