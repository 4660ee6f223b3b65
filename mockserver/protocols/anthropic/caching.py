"""Anthropic prompt caching: `cache_control` breakpoints on tools, system and message blocks.

The prompt is read in the API's cache order — tools, then system, then messages — and each
block marked `cache_control` ends a cacheable prefix (at most 4 of them, the API's limit). A
prefix shorter than the model's minimum is not cached, as the API silently doesn't:

    1024 tokens  Claude Sonnet / Opus (3.7, 4, 4.1)
    2048 tokens  Claude Haiku 3 / 3.5
    4096 tokens  Claude Opus 4.5, Haiku 4.5

Prefix lengths are counted as `prompt_tokens` counts the whole prompt (the same approximation),
so a prefix never exceeds the prompt. `ttl: "1h"` marks a one-hour write, else five minutes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.engine.prompt_cache import FIVE_MINUTES, ONE_HOUR, Breakpoint, CacheRequest

if TYPE_CHECKING:
    from mockserver.tokens.tokenizer import Tokenizer

MAX_BREAKPOINTS = 4
SYSTEM_FRAMING = 1
MESSAGE_FRAMING = 3


def minimum_tokens(model: str) -> int:
    if "opus-4-5" in model or "haiku-4-5" in model:
        return 4096
    if "haiku" in model:
        return 2048
    return 1024


def check_breakpoints(body: Any) -> None:
    """The API's 400 for more than four blocks marked `cache_control`."""
    found = sum(1 for block, _ in _blocks(body) if _marked(block))
    if found > MAX_BREAKPOINTS:
        raise APIError(
            400,
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {found}.",
            type="invalid_request_error",
        )


def cache_request(exchange: Exchange, tokenizer: Tokenizer, api_key: str) -> CacheRequest | None:
    """The request's cacheable prefixes, in order; None when it marks none long enough."""
    digest = hashlib.blake2b(exchange.model.encode(), digest_size=16)
    tokens = 0
    minimum = minimum_tokens(exchange.model)
    points: list[Breakpoint] = []
    for block, framing in _blocks(exchange.body):
        unmarked = {k: v for k, v in block.items() if k != "cache_control"}
        digest.update(orjson.dumps(unmarked, option=orjson.OPT_SORT_KEYS))
        text = block.get("text")
        content = text if isinstance(text, str) else orjson.dumps(unmarked).decode()
        tokens += framing + tokenizer.count(content)
        control = block.get("cache_control")
        if _marked(block) and tokens >= minimum:
            ttl = ONE_HOUR if isinstance(control, dict) and control.get("ttl") == "1h" else None
            points.append(Breakpoint(digest.hexdigest(), tokens, ttl or FIVE_MINUTES))
    if not points:
        return None
    # Caches are per organisation: one per API key here (its digest, never the key itself).
    scope = f"anthropic:{ids.digest(api_key)}"
    return CacheRequest(scope, tuple(points))


def _marked(block: dict[str, Any]) -> bool:
    return isinstance(block.get("cache_control"), dict)


def _blocks(body: Any) -> Iterator[tuple[dict[str, Any], int]]:
    """Every block that can carry `cache_control`, in cache order, with the framing tokens it
    opens (a message's first block opens the message)."""
    if not isinstance(body, dict):
        return
    tools = body.get("tools")
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict):
            yield tool, 0
    system = body.get("system")
    if isinstance(system, list):
        for index, block in enumerate(system):
            if isinstance(block, dict):
                yield block, SYSTEM_FRAMING if index == 0 else 0
    elif isinstance(system, str):
        yield {"type": "text", "text": system}, SYSTEM_FRAMING
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            yield {"type": "text", "text": content, "role": message.get("role")}, MESSAGE_FRAMING
            continue
        for index, block in enumerate(content if isinstance(content, list) else []):
            if isinstance(block, dict):
                yield block, MESSAGE_FRAMING if index == 0 else 0
