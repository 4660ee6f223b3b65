"""Gemini's implicit caching (2.5 models and later): a prompt that starts like a recent one
reports the shared part as `usageMetadata.cachedContentTokenCount`, with nothing to mark.

The prompt is read as system instruction, then each content; a prefix ends at each one's end
and is cached when at least the model's minimum long (1024 tokens; 4096 for the Pro models).
It lives five minutes of the task clock (`mockserver.engine.prompt_cache`). Explicit caches
(`cachedContents`) are `cached_contents.py`'s; a request naming one reads no implicit cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core import ids
from mockserver.engine.prompt_cache import FIVE_MINUTES, CacheRequest, prefix_breakpoints

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.tokens.tokenizer import Tokenizer


def minimum_tokens(model: str) -> int:
    return 4096 if "pro" in model else 1024


def cache_request(exchange: Exchange, tokenizer: Tokenizer, api_key: str) -> CacheRequest | None:
    minimum = minimum_tokens(exchange.model)

    def cacheable(tokens: int) -> int:
        return tokens if tokens >= minimum else 0

    segments = [tokenizer.encode(f"{m.role}:{m.text}") for m in exchange.messages]
    points = prefix_breakpoints(exchange.model, segments, cacheable, FIVE_MINUTES)
    if not points:
        return None
    return CacheRequest(f"gemini:{ids.digest(api_key)}", points, write=False)
