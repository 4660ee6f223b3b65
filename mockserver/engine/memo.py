"""What a request body always gives, kept so that the same request sent again costs little.

Load tests and retry loops send one body over and over. Everything that follows from the request
alone — the parsed exchange, the model, the prompt's token count, the retry group — is kept per
(path, query, headers, body), and so are the composed choices when the matched rule's plain reply
is the same on every occurrence. What must differ between occurrences (the reply key and so
every id, `created`, the journal entry) is still made per request, so a memoized response is
byte-identical to one made from scratch.

A memo belongs to one scenario set and catalog: `MockState.load` starts a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from msgspec import Struct

from mockserver.core.fifo import FifoMap

if TYPE_CHECKING:
    from starlette.types import Scope

    from mockserver.core.catalog import ModelInfo
    from mockserver.core.exchange import Exchange
    from mockserver.core.reply import Choice, Usage
    from mockserver.scenario import LatencySpec, NearMiss
    from mockserver.tokens.tokenizer import Tokenizer

MAX_ENTRIES = 1024
# Bigger bodies are prepared afresh each time: they rarely repeat, and a full memo of them would
# pin a lot of memory. Their token counts are still cached by the tokenizer.
MAX_BODY_BYTES = 16 * 1024
# Headers that an SDK changes between otherwise identical calls and that no dialect reads. A rule
# that matches on one of them puts it back into the key.
VOLATILE_HEADERS = frozenset(
    {b"content-length", b"x-stainless-retry-count", b"x-stainless-read-timeout", b"idempotency-key"}
)
FAULT_HEADER = b"x-mock-fault"

Key = tuple[str, bytes, tuple[tuple[bytes, bytes], ...], bytes]
Kept = TypeVar("Kept", bound=Struct)


class StaticReply(Struct, frozen=True):
    """The composed, shaped choices of a rule whose reply doesn't change between occurrences.
    Shared by every response made from it: renderers only read them."""

    rule: str
    choices: list[Choice]
    usage: Usage
    latency: LatencySpec | None = None  # the pacing every occurrence gets (drawn per key)


class Prepared(Struct):
    """A request as far as its content decides: parsed, priced and grouped."""

    exchange: Exchange
    body: Any  # the parsed JSON, for the journal
    model: ModelInfo
    tokenizer: Tokenizer
    prompt_tokens: int
    retry_group: str
    static: StaticReply | None = None
    near_misses: list[NearMiss] | None = None  # known once matching found no rule


class Answered(Struct, frozen=True):
    """The whole response of a request that always gets the same one (embeddings, rerank)."""

    body: bytes
    headers: dict[str, str]
    request: Any  # the parsed JSON, for the journal
    model: str | None


class Memo:
    """A bounded map from request to what it gives; the oldest entry goes first when full."""

    def __init__(self, matched_headers: Iterable[str] = ()) -> None:
        self._entries: FifoMap[Key, Struct] = FifoMap(MAX_ENTRIES)
        self._ignored = VOLATILE_HEADERS - {name.encode("latin-1") for name in matched_headers}

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, scope: Scope, body: bytes) -> Key | None:
        """The memo key of a request; None for one that must be prepared afresh (a big body,
        or an `x-mock-fault` header, which replaces the rule's outcome)."""
        if len(body) > MAX_BODY_BYTES:
            return None
        ignored = self._ignored
        headers = []
        for pair in scope["headers"]:
            name = pair[0]
            if name in ignored:
                continue
            if name == FAULT_HEADER:
                return None
            headers.append(pair)
        return scope["path"], scope["query_string"], tuple(headers), body

    def prepared(self, key: Key | None) -> Prepared | None:
        found = None if key is None else self._entries.get(key)
        return found if isinstance(found, Prepared) else None

    def answered(self, key: Key | None) -> Answered | None:
        found = None if key is None else self._entries.get(key)
        return found if isinstance(found, Answered) else None

    def kept(self, key: Key | None, kind: type[Kept]) -> Kept | None:
        """What another kind of endpoint kept for this request (`engine.media.MediaPrepared`)."""
        found = None if key is None else self._entries.get(key)
        return found if isinstance(found, kind) else None

    def put(self, key: Key | None, value: Struct) -> None:
        if key is not None:
            self._entries.put(key, value)
