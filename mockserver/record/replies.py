"""A recorded answer in the neutral form: reassembled from a vendor's JSON body or from its
event stream, one function per wire format.

    reply_of("anthropic", body=None, events=[...])  ->  RecordedReply(choices=[...], usage={...})

Only what a scenario's `reply:` can say is kept: text, tool calls, reasoning, refusal, the
finish reason (neutral words) and the token counts the vendor reported (neutral names:
`completion_tokens` includes `reasoning_tokens`, as OpenAI counts them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from msgspec import Struct, field

from mockserver.record import inline_images
from mockserver.record.stream_events import stream_error

Json = dict[str, Any]


class RecordedCall(Struct):
    name: str
    arguments: Any  # the decoded JSON arguments (a mapping, as a rule writes them)
    id: str | None = None


class RecordedChoice(Struct):
    content: str | None = None
    tool_calls: list[RecordedCall] = field(default_factory=list)
    reasoning: str | None = None
    refusal: str | None = None
    finish_reason: str | None = None
    pictures: list[bytes] = field(default_factory=list)  # an image model's, as answered
    file: str | None = None  # where the first picture was kept, relative to the recording


class RecordedReply(Struct):
    choices: list[RecordedChoice]
    usage: dict[str, int] = field(default_factory=dict)
    response_id: str | None = None  # a Responses response's id, for `previous_response_id`


def reply_of(dialect: str, body: bytes | None, events: Sequence[str] | None) -> RecordedReply:
    """The reply in `body` (a JSON response) or `events` (the `data:` payloads of a stream;
    a stream that failed half-way gives the reply up to its error event)."""
    if events is not None:
        decoded = [orjson.loads(event) for event in events]
        failed = stream_error(decoded)
        reply = STREAMS[dialect](decoded[: failed[0]] if failed else decoded)
    else:
        assert body is not None
        reply = BODIES[dialect](orjson.loads(body))
    return reply


def _arguments(text: str | None) -> Any:
    if not text:
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"_raw": text}  # a model may emit broken JSON; keep it visible to the editor


def _joined(parts: list[str]) -> str | None:
    return "".join(parts) if parts else None


# --- OpenAI Chat Completions ------------------------------------------------------------------

_CHAT_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls"}
_CHAT_FINISH |= {"function_call": "tool_calls", "content_filter": "content_filter"}


def _chat_usage(usage: Json | None) -> dict[str, int]:
    if not usage:
        return {}
    counts = {
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
    }
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if reasoning:
        counts["reasoning_tokens"] = reasoning
    return counts


def chat_body(body: Json) -> RecordedReply:
    choices = []
    for choice in body.get("choices", []):
        message = choice.get("message") or {}
        calls = [
            RecordedCall(
                call["function"]["name"],
                _arguments(call["function"].get("arguments")),
                call.get("id"),
            )
            for call in message.get("tool_calls") or []
        ]
        choices.append(
            RecordedChoice(
                content=message.get("content"),
                tool_calls=calls,
                reasoning=message.get("reasoning_content"),
                refusal=message.get("refusal"),
                finish_reason=_CHAT_FINISH.get(choice.get("finish_reason") or ""),
            )
        )
    return RecordedReply(choices, _chat_usage(body.get("usage")))


def chat_stream(chunks: list[Json]) -> RecordedReply:
    texts: dict[int, dict[str, list[str]]] = {}
    calls: dict[int, dict[int, Json]] = {}
    finish: dict[int, str | None] = {}
    usage: Json | None = None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            index = choice.get("index", 0)
            parts = texts.setdefault(index, {"content": [], "reasoning_content": [], "refusal": []})
            delta = choice.get("delta") or {}
            for key, pieces in parts.items():
                if delta.get(key):
                    pieces.append(delta[key])
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(index, {}).setdefault(
                    call.get("index", 0), {"id": None, "name": "", "arguments": ""}
                )
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                finish[index] = _CHAT_FINISH.get(choice["finish_reason"])
    choices = [
        RecordedChoice(
            content=_joined(parts["content"]),
            tool_calls=[
                RecordedCall(c["name"], _arguments(c["arguments"]), c["id"])
                for _, c in sorted(calls.get(index, {}).items())
            ],
            reasoning=_joined(parts["reasoning_content"]),
            refusal=_joined(parts["refusal"]),
            finish_reason=finish.get(index),
        )
        for index, parts in sorted(texts.items())
    ]
    return RecordedReply(choices, _chat_usage(usage))


# --- OpenAI Responses -------------------------------------------------------------------------


def responses_body(body: Json) -> RecordedReply:
    text: list[str] = []
    refusal: list[str] = []
    reasoning: list[str] = []
    calls = []
    for item in body.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    text.append(part.get("text", ""))
                elif part.get("type") == "refusal":
                    refusal.append(part.get("refusal", ""))
        elif kind == "function_call":
            calls.append(
                RecordedCall(item["name"], _arguments(item.get("arguments")), item.get("call_id"))
            )
        elif kind == "reasoning":
            reasoning += [s.get("text", "") for s in item.get("summary") or []]
    reason = (body.get("incomplete_details") or {}).get("reason")
    finish = {"max_output_tokens": "length", "content_filter": "content_filter"}.get(reason or "")
    if finish is None:
        finish = "tool_calls" if calls else "stop"
    usage = body.get("usage") or {}
    counts: dict[str, int] = {}
    if usage:
        counts = {
            "prompt_tokens": usage.get("input_tokens", 0),
            "completion_tokens": usage.get("output_tokens", 0),
        }
        details = usage.get("output_tokens_details") or {}
        if details.get("reasoning_tokens"):
            counts["reasoning_tokens"] = details["reasoning_tokens"]
    choice = RecordedChoice(
        content=_joined(text),
        tool_calls=calls,
        reasoning="\n\n".join(reasoning) if reasoning else None,
        refusal=_joined(refusal),
        finish_reason=finish,
    )
    return RecordedReply([choice], counts, body.get("id"))


_RESPONSES_END = ("response.completed", "response.incomplete", "response.failed")


def responses_stream(events: list[Json]) -> RecordedReply:
    """The final event carries the whole response; a stream cut before it has its text
    deltas."""
    for event in reversed(events):
        if event.get("type") in _RESPONSES_END:
            return responses_body(event.get("response") or {})
    deltas = [e.get("delta", "") for e in events if e.get("type") == "response.output_text.delta"]
    return RecordedReply([RecordedChoice(content=_joined(deltas))])


# --- Anthropic Messages -----------------------------------------------------------------------

_ANTHROPIC_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _anthropic_usage(usage: Json) -> dict[str, int]:
    if not usage:
        return {}
    return {
        "prompt_tokens": usage.get("input_tokens", 0),
        "completion_tokens": usage.get("output_tokens", 0),
    }


def anthropic_body(body: Json) -> RecordedReply:
    return _anthropic_blocks(body.get("content") or [], body.get("stop_reason"), body.get("usage"))


def _anthropic_blocks(blocks: list[Json], stop: str | None, usage: Json | None) -> RecordedReply:
    text: list[str] = []
    thinking: list[str] = []
    calls = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            text.append(block.get("text", ""))
        elif kind == "thinking":
            thinking.append(block.get("thinking", ""))
        elif kind == "tool_use":
            calls.append(RecordedCall(block["name"], block.get("input") or {}, block.get("id")))
    choice = RecordedChoice(
        content=_joined(text),
        tool_calls=calls,
        reasoning=_joined(thinking),
        finish_reason=_ANTHROPIC_FINISH.get(stop or ""),
    )
    return RecordedReply([choice], _anthropic_usage(usage or {}))


def anthropic_stream(events: list[Json]) -> RecordedReply:
    blocks: dict[int, Json] = {}
    partial: dict[int, list[str]] = {}
    usage: Json = {}
    stop = None
    for event in events:
        kind = event.get("type")
        if kind == "message_start":
            usage = dict((event.get("message") or {}).get("usage") or {})
        elif kind == "content_block_start":
            blocks[event["index"]] = dict(event.get("content_block") or {})
        elif kind == "content_block_delta":
            block, delta = blocks.setdefault(event["index"], {}), event.get("delta") or {}
            if delta.get("type") == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif delta.get("type") == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif delta.get("type") == "input_json_delta":
                partial.setdefault(event["index"], []).append(delta.get("partial_json", ""))
        elif kind == "message_delta":
            stop = (event.get("delta") or {}).get("stop_reason") or stop
            usage.update(event.get("usage") or {})
    for index, pieces in partial.items():
        blocks[index]["input"] = _arguments("".join(pieces))
    return _anthropic_blocks([blocks[i] for i in sorted(blocks)], stop, usage)


# --- Gemini generateContent -------------------------------------------------------------------

_GEMINI_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "BLOCKLIST": "content_filter",
}


def _gemini_usage(usage: Json) -> dict[str, int]:
    if not usage:
        return {}
    thoughts = usage.get("thoughtsTokenCount", 0)
    counts = {
        "prompt_tokens": usage.get("promptTokenCount", 0),
        "completion_tokens": usage.get("candidatesTokenCount", 0) + thoughts,
    }
    if thoughts:
        counts["reasoning_tokens"] = thoughts
    return counts


def gemini_stream(chunks: list[Json]) -> RecordedReply:
    """Each chunk is a whole `GenerateContentResponse` carrying the next parts; a body is a
    stream of one."""
    text: dict[int, list[str]] = {}
    thoughts: dict[int, list[str]] = {}
    pictures: dict[int, list[bytes]] = {}
    calls: dict[int, list[RecordedCall]] = {}
    finish: dict[int, str | None] = {}
    usage: Json = {}
    for chunk in chunks:
        usage = chunk.get("usageMetadata") or usage
        for candidate in chunk.get("candidates") or []:
            index = candidate.get("index", 0)
            text.setdefault(index, [])
            for part in (candidate.get("content") or {}).get("parts") or []:
                if "functionCall" in part:
                    call = part["functionCall"]
                    calls.setdefault(index, []).append(
                        RecordedCall(call["name"], call.get("args") or {}, call.get("id"))
                    )
                elif part.get("thought"):
                    thoughts.setdefault(index, []).append(part.get("text", ""))
                elif (picture := inline_images.image_part(part)) is not None:
                    pictures.setdefault(index, []).append(picture)
                elif "text" in part:
                    text[index].append(part["text"])
            if candidate.get("finishReason"):
                reason = candidate["finishReason"]
                finish[index] = _GEMINI_FINISH.get(reason, "stop")
                if reason == "STOP" and calls.get(index):
                    finish[index] = "tool_calls"
    choices = [
        RecordedChoice(
            content=_joined(text[index]),
            tool_calls=calls.get(index, []),
            reasoning=_joined(thoughts.get(index, [])),
            finish_reason=finish.get(index),
            pictures=pictures.get(index, []),
        )
        for index in sorted(text)
    ]
    return RecordedReply(choices, _gemini_usage(usage))


def gemini_body(body: Json | list[Json]) -> RecordedReply:
    # A stream without `alt=sse` is one JSON array of the chunks.
    return gemini_stream(body if isinstance(body, list) else [body])


BODIES: dict[str, Callable[[Any], RecordedReply]] = {
    "chat": chat_body,
    "responses": responses_body,
    "anthropic": anthropic_body,
    "gemini": gemini_body,
}
STREAMS: dict[str, Callable[[list[Json]], RecordedReply]] = {
    "chat": chat_stream,
    "responses": responses_stream,
    "anthropic": anthropic_stream,
    "gemini": gemini_stream,
}


def embeddings_of(body: bytes) -> list[list[float]]:
    """The vectors of an OpenAI embeddings response, in input order (base64 ones decoded)."""
    import array
    import base64

    vectors: list[list[float]] = []
    for item in sorted(orjson.loads(body).get("data") or [], key=lambda d: d.get("index", 0)):
        embedding = item.get("embedding")
        if isinstance(embedding, str):
            floats = array.array("f")
            floats.frombytes(base64.b64decode(embedding))
            vectors.append(floats.tolist())
        else:
            vectors.append(list(embedding))
    return vectors
