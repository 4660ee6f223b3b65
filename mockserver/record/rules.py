"""One recorded exchange as a scenario rule, written as a person would write it.

    rule_for(exchange, reply, timing=(0.42, 0.018))  ->
    {"name": "weather-in-paris", "match": {"model": "gpt-4o", "last_user": {"equals": ...},
     "tools": ["get_weather"], "turn": 0}, "reply": {...}, "latency": {"ttft": 0.42, ...}}

The match names the model, the last user message (exactly: edit it to `contains` or `regex` to
widen it), the tools offered, which turn of the conversation this is and, after a tool call,
the tool whose result is answered. Recorded text is literal: a `{{` in it is kept from being
read as a template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from mockserver.core.exchange import Exchange
from mockserver.record.replies import RecordedChoice, RecordedReply

# Headers of an error response worth replaying: they drive the SDKs' retries.
RETRY_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")
RATE_LIMIT_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_TEMPLATE_MARKS = ("{{", "{%", "{#")
_NAME_WORDS = 5


def match_for(exchange: Exchange) -> dict[str, Any]:
    match: dict[str, Any] = {"model": exchange.model}
    if exchange.last_user:
        match["last_user"] = {"equals": literal(exchange.last_user)}
    if exchange.tools:
        match["tools"] = [tool.name for tool in exchange.tools]
    match["turn"] = exchange.turn
    result = exchange.tool_result
    if result is not None and result.tool_name:
        match["tool_result"] = {"name": result.tool_name}
    return match


def literal(text: str) -> str:
    """`text` as a template that renders to itself."""
    if any(mark in text for mark in _TEMPLATE_MARKS):
        return (
            "{% raw %}"
            + text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}")
            + "{% endraw %}"
        )
    return text


def _literal_values(value: Any) -> Any:
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, dict):
        return {key: _literal_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal_values(item) for item in value]
    return value


def choice_spec(choice: RecordedChoice) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if choice.reasoning:
        spec["reasoning"] = literal(choice.reasoning)
    if choice.content or not (choice.tool_calls or choice.refusal):
        spec["content"] = literal(choice.content or "")  # "": not the engine's default text
    if choice.file:
        spec["file"] = choice.file  # an image model's picture, kept beside the recording
    if choice.tool_calls:
        calls = []
        for call in choice.tool_calls:
            entry: dict[str, Any] = {
                "name": call.name,
                "arguments": _literal_values(call.arguments),
            }
            if call.id:
                entry["id"] = call.id
            calls.append(entry)
        spec["tool_calls"] = calls
    if choice.refusal:
        spec["refusal"] = literal(choice.refusal)
    if choice.finish_reason in ("length", "content_filter"):
        spec["finish_reason"] = choice.finish_reason
    return spec


def reply_spec(reply: RecordedReply) -> dict[str, Any]:
    if len(reply.choices) == 1:
        spec = choice_spec(reply.choices[0])
    else:
        spec = {"choices": [choice_spec(choice) for choice in reply.choices]}
    if not reply.choices:
        spec = {"content": ""}
    if reply.usage:
        spec["usage"] = dict(reply.usage)
    return spec


def latency_spec(
    timing: tuple[float, float] | None, total: float | None
) -> dict[str, float | bool]:
    """A stream's `ttft` and `chunk_interval`; a body's `delay` (the whole wait). Marked
    `recorded`: a replay waits so only when latency is on (`--latency recorded`)."""
    if timing is not None:
        ttft, interval = timing
        return {"recorded": True, "ttft": ttft, "chunk_interval": interval}
    if total is not None:
        return {"recorded": True, "delay": round(total, 3)}
    return {}


def fault_spec(status: int, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """An upstream error as a status fault: its status, the words of its error body, and the
    headers that steer retries."""
    fault: dict[str, Any] = {"status": status}
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        for key in ("message", "type", "code", "param"):
            value = error.get(key)
            if isinstance(value, str) and value:
                fault[key] = value
    elif body:
        fault["message"] = body.decode("utf-8", errors="replace")[:2000]
    kept = {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() in RETRY_HEADERS or name.lower().startswith(RATE_LIMIT_PREFIXES)
    }
    if kept:
        fault["headers"] = dict(sorted(kept.items()))
    return fault


def stream_fault_spec(events_before: int, error: Mapping[str, Any]) -> dict[str, Any]:
    """A stream that failed half-way: the error event after as many events as it had."""
    fault: dict[str, Any] = {"error_event_after": events_before}
    code = error.get("code")
    if isinstance(code, int) and 400 <= code <= 599:  # Gemini's status number
        fault["status"] = code
    for key in ("message", "type", "param"):
        value = error.get(key)
        if isinstance(value, str) and value and not (key == "type" and value == "error"):
            fault[key] = value
    if isinstance(code, str) and code:
        fault["code"] = code
    return fault


def name_for(exchange: Exchange | None, taken: set[str]) -> str:
    """A readable, unique rule name from the first words of the last user message."""
    words = re.findall(r"[a-z0-9]+", (exchange.last_user if exchange else "").lower())
    stem = "-".join(words[:_NAME_WORDS]) or (exchange.dialect if exchange else "request")
    if exchange is not None and exchange.turn:
        stem += f"-turn-{exchange.turn}"
    name, number = stem, 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}"
    return name
