"""The neutral reply: what the engine produces and every dialect's `render()` consumes."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct, field

from mockserver.core.exchange import ToolCall
from mockserver.core.hosted import CodeRun, UrlFetch
from mockserver.core.search import WebSearch

# Neutral finish reasons; each dialect maps them to its own words
# (Anthropic: end_turn / max_tokens / tool_use / stop_sequence / refusal; Gemini: STOP / MAX_TOKENS
# / SAFETY).
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


class Choice(Struct):
    """One alternative of a reply (`n > 1` gives several).

    `text_pieces` / `reasoning_pieces` are the text cut on token boundaries (each piece decodes to
    whole characters), so a stream carries one piece per event, as the live APIs do.
    `stop_sequence` is the stop string that ended the text, when one did. `is_json` marks text
    that is a structured-output JSON document. `completion_tokens` includes `reasoning_tokens`.
    """

    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: str | None = None
    reasoning_redacted: bool = False  # sent encrypted where the vendor can (redacted_thinking)
    refusal: str | None = None
    finish_reason: FinishReason = "stop"
    stop_sequence: str | None = None
    is_json: bool = False
    text_pieces: list[str] = field(default_factory=list)
    reasoning_pieces: list[str] = field(default_factory=list)
    refusal_pieces: list[str] = field(default_factory=list)
    # One list of pieces per tool call: its `arguments` JSON cut on token boundaries.
    argument_pieces: list[list[str]] = field(default_factory=list)
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    # `text_pieces` came with the text, one token each (fake prose): shaping counts and cuts
    # them instead of encoding the text again.
    pieces_are_tokens: bool = False
    # The hosted web search run before this answer, when the request offered one.
    search: WebSearch | None = None
    # Code the model ran and pages it read with hosted tools (Gemini's), in order.
    code_runs: list[CodeRun] = field(default_factory=list)
    url_fetches: list[UrlFetch] = field(default_factory=list)
    # A picture from disk (a reply's `file:`, absolute) that an image model's answer carries.
    file: str | None = None


class Usage(Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0  # includes reasoning tokens, as OpenAI counts them
    reasoning_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens read from the prompt cache
    # Prompt tokens written to the cache (Anthropic counts them apart), and those of them
    # written with a 1 h TTL.
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Reply(Struct):
    """A complete answer, before any dialect shapes it.

    `key` is a hex digest of (scenario seed, request content, occurrence number): every id a
    dialect prints is derived from it with `mockserver.core.ids`, so the same request sequence gives
    the same ids on every run. `created` is a unix time derived the same way.
    """

    choices: list[Choice]
    key: str
    created: int
    fingerprint: str
    usage: Usage = field(default_factory=Usage)
    rule: str | None = None
