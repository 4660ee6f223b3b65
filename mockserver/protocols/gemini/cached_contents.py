"""Gemini's explicit context caches (`/v1beta/cachedContents`): create, get, list, update and
delete, and what a `generateContent` naming one (`cachedContent: "cachedContents/…"`) reads.

A cache keeps a system instruction, contents and tools for a model; a request that names it is
answered as if they came first, and reports their tokens as `cachedContentTokenCount`. Caches
live in a store table (every worker sees them) and expire on the task clock
(`MockServer.advance_clock`), never the wall clock; times are shown from the scenario's
`clock`. Names are `cachedContents/` + 12 characters derived from the key, the model, the
contents and a counter, so the same requests make the same names. A cache belongs to the API
key that made it: another key, like a name that never existed or has expired, gets Google's
403 "not found (or permission denied)".
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct, field

from mockserver.core import ids
from mockserver.core.exchange import Exchange, Message, Tool, ToolChoice
from mockserver.protocols.gemini import errors
from mockserver.protocols.gemini.proto import pick
from mockserver.store.base import Table

CAPACITY = 1000
DEFAULT_TTL = 3600.0  # seconds, when a create gives neither `ttl` nor `expireTime`
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
NAME_PREFIX = "cachedContents/"
CACHED_TOKENS = "gemini.cached_content_tokens"  # the key in `Exchange.derived`
NOT_FOUND = "CachedContent not found (or permission denied)"
# The only fields an update may change (Google's updateMask paths).
UPDATABLE = ("ttl", "expireTime")
CREATE_FIELDS = (
    "model", "displayName", "ttl", "expireTime", "contents", "systemInstruction", "tools",
    "toolConfig", "name",
)  # fmt: skip
_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")


class CachedContent(Struct):
    """One cache. Times are task-clock seconds; `tokens` is its `usageMetadata.totalTokenCount`."""

    name: str
    owner: str  # a digest of the API key that made it
    model: str  # "models/gemini-2.5-flash"
    created: float
    updated: float
    expires: float
    tokens: int
    messages: list[Message] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice = field(default_factory=ToolChoice)
    display_name: str = ""
    seq: int = 0  # creation order, for listing


class CachedContents:
    """The caches on a store table, with the task clock (`now`) and the scenario's start
    (`epoch`, unix seconds) for showing times."""

    def __init__(self, table: Table, now: Callable[[], float], epoch: Callable[[], int]) -> None:
        self.table = table
        self.now = now
        self.epoch = epoch

    def create(self, cache: CachedContent) -> CachedContent:
        seq = self.table.incr("#seq")
        cache.seq = seq
        digest = ids.digest(cache.owner, cache.model, seq, [m.text for m in cache.messages])
        cache.name = NAME_PREFIX + ids.base62(digest, "cachedContent", 12).lower()
        self.table.set(cache.name, cache)
        return cache

    def get(self, name: str, owner: str) -> CachedContent:
        """The live cache `name` of `owner`; Google's 403 for any other."""
        cache = self.table.get(_full_name(name), CachedContent)
        if cache is None or cache.owner != owner or cache.expires <= self.now():
            raise errors.GeminiError(403, NOT_FOUND)
        return cache

    def update(self, name: str, owner: str, expires: float) -> CachedContent:
        cache = self.get(name, owner)
        cache.expires, cache.updated = expires, self.now()
        self.table.set(cache.name, cache)
        return cache

    def delete(self, name: str, owner: str) -> None:
        cache = self.get(name, owner)
        self.table.delete(cache.name)

    def listed(self, owner: str) -> list[CachedContent]:
        """`owner`'s live caches in creation order."""
        now, names = self.now(), self.table.keys()  # a Table is not iterable
        found = [
            cache
            for key in names
            if key.startswith(NAME_PREFIX)
            and (cache := self.table.get(key, CachedContent)) is not None
            and cache.owner == owner
            and cache.expires > now
        ]
        return sorted(found, key=lambda cache: cache.seq)

    def clear(self) -> None:
        self.table.clear()

    def render(self, cache: CachedContent) -> dict[str, Any]:
        """The `CachedContent` resource as Google returns it (without its contents)."""
        body: dict[str, Any] = {"name": cache.name, "model": cache.model}
        if cache.display_name:
            body["displayName"] = cache.display_name
        body.update(
            {
                "createTime": self.timestamp(cache.created),
                "updateTime": self.timestamp(cache.updated),
                "expireTime": self.timestamp(cache.expires),
                "usageMetadata": {"totalTokenCount": cache.tokens},
            }
        )
        return body

    def timestamp(self, clock_seconds: float) -> str:
        """Task-clock seconds as an RFC 3339 time from the scenario's `clock`."""
        moment = datetime.datetime.fromtimestamp(self.epoch() + clock_seconds, tz=datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def clock_seconds(self, timestamp: str, field_name: str) -> float:
        """An RFC 3339 `expireTime` as task-clock seconds; Google's 400 when unreadable."""
        try:
            moment = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            raise errors.payload_errors(
                [(field_name, errors.invalid_value(field_name, "Timestamp", timestamp))]
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return moment.timestamp() - self.epoch()


def _full_name(name: str) -> str:
    return name if name.startswith(NAME_PREFIX) else NAME_PREFIX + name


def ttl_seconds(value: Any) -> float:
    """A `ttl` Duration ("300s", "1.5s") in seconds; Google's 400 otherwise."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise errors.payload_errors([("ttl", errors.invalid_value("ttl", "Duration", value))])
    return float(match.group(1))


def expiry(body: Mapping[str, Any], registry: CachedContents, default: float | None) -> float:
    """The task-clock expiry a create or update body asks for (`ttl` from now, or an
    `expireTime`); `default` seconds from now when it gives neither (None: one is required)."""
    now = registry.now()
    ttl, expire_time = body.get("ttl"), pick(body, "expireTime")
    if ttl is not None and expire_time is not None:
        raise errors.GeminiError(400, "Only one of ttl or expire_time may be set.")
    if ttl is not None:
        return now + ttl_seconds(ttl)
    if expire_time is not None:
        if not isinstance(expire_time, str):
            problem = errors.invalid_value("expireTime", "Timestamp", expire_time)
            raise errors.payload_errors([("expire_time", problem)])
        return registry.clock_seconds(expire_time, "expire_time")
    if default is None:
        raise errors.GeminiError(400, "Either ttl or expire_time must be set.")
    return now + default


def too_small(tokens: int, minimum: int) -> errors.GeminiError:
    return errors.GeminiError(
        400,
        f"Cached content is too small. total_token_count={tokens}, min_total_token_count={minimum}",
    )


def model_mismatch(request_model: str, cache_model: str) -> errors.GeminiError:
    return errors.GeminiError(
        400,
        f"Model used by GenerateContent request (models/{request_model}) and CachedContent "
        f"({cache_model}) has to be the same.",
    )


def settings_with_cache() -> errors.GeminiError:
    return errors.GeminiError(
        400,
        "CachedContent can not be used with GenerateContent request setting system_instruction, "
        "tools or tool_config.\n\nProposed fix: move those values to CachedContent from "
        "GenerateContent request.",
    )


def read_into(exchange: Exchange, registry: CachedContents, owner: str) -> None:
    """A generateContent or countTokens naming a cache: its contents first, its tools, and its
    tokens kept for `usageMetadata.cachedContentTokenCount` (`CACHED_TOKENS` in `derived`)."""
    name = exchange.body.get("cachedContent")
    if not isinstance(name, str):
        return
    cache = registry.get(name, owner)
    if any(key in exchange.body for key in ("systemInstruction", "system_instruction", "tools")):
        raise settings_with_cache()
    if any(key in exchange.body for key in ("toolConfig", "tool_config")):
        raise settings_with_cache()
    if cache.model != f"models/{exchange.model}":
        raise model_mismatch(exchange.model, cache.model)
    exchange.messages = [*cache.messages, *exchange.messages]
    exchange.tools = list(cache.tools)
    exchange.tool_choice = cache.tool_choice
    exchange.derived[CACHED_TOKENS] = cache.tokens
