"""OpenAI's automatic prompt caching: a prompt of 1024 tokens or more is cached, and a later
prompt that starts the same way reads the shared part, counted in steps of 128 tokens:
`prompt_tokens_details.cached_tokens` (Chat Completions), `input_tokens_details.cached_tokens`
(Responses). Nothing to mark, and no separate write count.

The prompt is read as tools, then messages; a prefix ends at each message's end (rounded down
to 1024 + k·128 tokens), which is where two prompts that share a system prompt or a
conversation so far agree. `prompt_cache_key` keeps caches apart (requests with different
keys never share); `prompt_cache_retention: "24h"` keeps a prefix a day instead of 5 minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from mockserver.core import ids
from mockserver.engine.prompt_cache import FIVE_MINUTES, CacheRequest, prefix_breakpoints

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.tokens.tokenizer import Tokenizer

MIN_TOKENS = 1024
STEP = 128
ONE_DAY = 86400.0


def step_down(tokens: int) -> int:
    """The longest cacheable length within `tokens`: 0 below 1024, else 1024 + k·128."""
    if tokens < MIN_TOKENS:
        return 0
    return MIN_TOKENS + (tokens - MIN_TOKENS) // STEP * STEP


def cache_request(exchange: Exchange, tokenizer: Tokenizer, api_key: str) -> CacheRequest | None:
    segments: list[list[int]] = []
    if exchange.tools:
        tools = [[t.name, t.description, t.parameters] for t in exchange.tools]
        segments.append(tokenizer.encode(orjson.dumps(tools, option=orjson.OPT_SORT_KEYS).decode()))
    segments.extend(
        tokenizer.encode(f"{m.role}:{m.name or ''}:{m.text}") for m in exchange.messages
    )
    body = exchange.body
    ttl = ONE_DAY if body.get("prompt_cache_retention") == "24h" else FIVE_MINUTES
    points = prefix_breakpoints(exchange.model, segments, step_down, ttl)
    if not points:
        return None
    key = body.get("prompt_cache_key")
    scope = f"openai:{ids.digest(api_key)}:{key if isinstance(key, str) else ''}"
    return CacheRequest(scope, points, write=False)
