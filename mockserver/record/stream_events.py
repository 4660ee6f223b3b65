"""What a vendor's stream events say besides the reply: which ones carry a piece of it (what
"time to first token" times), and the error event of a stream that failed half-way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

Json = dict[str, Any]
_CHAT_PIECES = ("content", "tool_calls", "refusal", "reasoning_content")


def carries_content(dialect: str) -> Callable[[str], bool]:
    """Whether an event of `dialect`'s stream carries a piece of the answer (the events
    before the first one, such as `message_start`, are not what "time to first token" times)."""

    def test(payload: str) -> bool:
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(event, dict):
            return False
        if dialect == "chat":
            return any(
                any((choice.get("delta") or {}).get(key) for key in _CHAT_PIECES)
                for choice in event.get("choices") or []
            )
        if dialect == "responses":
            return str(event.get("type", "")).endswith(".delta")
        if dialect == "anthropic":
            return event.get("type") == "content_block_delta"
        return any((c.get("content") or {}).get("parts") for c in event.get("candidates") or [])

    return test


def stream_error(events: list[Json]) -> tuple[int, Json] | None:
    """(events before it, its error object) for a stream that failed half-way with an error
    event: `{"error": {...}}` (OpenAI chat, Gemini), `{"type": "error", "error": {...}}`
    (Anthropic), `{"type": "error", "message": ...}` (Responses)."""
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        error = event.get("error")
        if isinstance(error, dict):
            return index, error
        if event.get("type") == "error":
            return index, event
    return None
