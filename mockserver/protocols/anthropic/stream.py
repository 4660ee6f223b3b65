"""Anthropic Messages responses: the `message` body and its server-sent event stream.

Shapes follow the live streams in `tests/data/conformance/recorded/anthropic-messages-stream/`:

    message_start        message with empty content, usage with output_tokens 1
    content_block_start  per block, in the order Claude writes them: thinking, text, tool_use
    ping                 once, after the first block's start (only when that block has deltas,
                         as in the recorded refusal stream, which has none)
    content_block_delta  thinking_delta… then one signature_delta | text_delta… |
                         input_json_delta "" then one per argument piece
    content_block_stop
    message_delta        stop_reason, stop_sequence, cumulative usage.output_tokens
    message_stop

Only choice 0 is rendered: `n` is not an Anthropic parameter.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from mockserver.core import ids
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.anthropic import citations, web_search
from mockserver.protocols.dialect import sse_frame

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
# The live API sends the ping with a space after the colon; the SDK skips it by its event name.
PING = sse_frame(b'{"type": "ping"}', event="ping")
MESSAGE_STOP = sse_frame({"type": "message_stop"}, event="message_stop")
# Tool calls the model makes itself, as the live API marks them (`caller` in the recordings).
DIRECT_CALLER = {"type": "direct"}


def message_id(reply: Reply) -> str:
    """`msg_01` + 22 base62 characters, like msg_01T4jd6NyD9xGGtTPDC4ogy5."""
    return "msg_01" + ids.base62(reply.key, "msg", 22)


def tool_use_id(call_id: str) -> str:
    """The `toolu_01…` id for a neutral call id; the same call always gets the same id."""
    if call_id.startswith("toolu_"):
        return call_id
    return "toolu_01" + ids.base62(call_id, "toolu", 22)


def thinking_signature(key: str, thinking: str) -> str:
    """An opaque, deterministic stand-in for the signature Claude puts on a thinking block."""
    digest = hashlib.shake_256(f"{key}\x1fsignature\x1f{thinking}".encode()).digest(144)
    return base64.b64encode(digest).decode()


def redacted_thinking(key: str, thinking: str) -> dict[str, Any]:
    """Thinking flagged by Claude's safety systems, sent encrypted: opaque, deterministic data
    (the signature's bytes stand in for the ciphertext)."""
    return {"type": "redacted_thinking", "data": thinking_signature(key, "redacted:" + thinking)}


def stop_reason(choice: Choice) -> str:
    if choice.finish_reason == "stop":
        if choice.stop_sequence is not None:
            return "stop_sequence"
        if choice.tool_calls:
            return "tool_use"
    return STOP_REASONS[choice.finish_reason]


def output_tokens(reply: Reply) -> int:
    """Tokens of choice 0 (the reply's total when it has only that one)."""
    if len(reply.choices) == 1:
        return reply.usage.completion_tokens
    return reply.choices[0].completion_tokens or reply.usage.completion_tokens


def usage_body(reply: Reply, output: int) -> dict[str, Any]:
    """The live usage shape; cached prompt tokens are reported apart, as Anthropic counts them."""
    usage = reply.usage
    cached, written, written_1h = (
        usage.cached_tokens,
        usage.cache_creation_tokens,
        usage.cache_creation_1h_tokens,
    )
    return {
        "input_tokens": usage.prompt_tokens - cached - written,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "cache_creation": {
            "ephemeral_5m_input_tokens": written - written_1h,
            "ephemeral_1h_input_tokens": written_1h,
        },
        "output_tokens": output,
        "service_tier": "standard",
        **web_search.usage(reply.choices[0] if reply.choices else None),
    }


def _stop_details(reason: str) -> dict[str, Any] | None:
    if reason != "refusal":
        return None
    return {"type": "refusal", "category": None, "explanation": None}


def _visible_text(choice: Choice) -> tuple[str, list[str]]:
    """Claude has no refusal block: a refusal is what the model says, in a text block."""
    if choice.text:
        return choice.text, choice.text_pieces or [choice.text]
    if choice.refusal:
        return choice.refusal, choice.refusal_pieces or [choice.refusal]
    return "", []


def _tool_input(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as an object; `{}` when they are cut short (max_tokens) or not one."""
    try:
        value = orjson.loads(call.arguments) if call.arguments else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _wants_text_block(choice: Choice, text: str) -> bool:
    # An answer with nothing else still carries one (empty) text block, as the refusal stream does.
    return bool(text) or not (choice.reasoning or choice.tool_calls)


def message_body(reply: Reply, exchange: Exchange) -> dict[str, Any]:
    """The non-stream `message`: thinking first, then text, then tool_use blocks."""
    choice = reply.choices[0]
    content: list[dict[str, Any]] = []
    if choice.reasoning and choice.reasoning_redacted:
        content.append(redacted_thinking(reply.key, choice.reasoning))
    elif choice.reasoning:
        signature = thinking_signature(reply.key, choice.reasoning)
        content.append({"type": "thinking", "thinking": choice.reasoning, "signature": signature})
    text, _ = _visible_text(choice)
    if choice.search is not None:
        content.append(web_search.server_tool_use(reply.key, choice.search))
        content.append(web_search.search_result(reply.key, choice.search))
        content.extend(block for block, _ in web_search.text_blocks(choice, text, [text]))
    elif _wants_text_block(choice, text):
        cited = citations.document_citation(exchange.body) if text else None
        block: dict[str, Any] = {"type": "text", "text": text}
        if cited is not None:
            block["citations"] = [cited]
        content.append(block)
    for call in choice.tool_calls:
        content.append(
            {
                "type": "tool_use",
                "id": tool_use_id(call.id),
                "name": call.name,
                "caller": DIRECT_CALLER,
                "input": _tool_input(call),
            }
        )
    reason = stop_reason(choice)
    body: dict[str, Any] = {
        "model": exchange.model,
        "id": message_id(reply),
        "type": "message",
        "role": "assistant",
        "content": content,
        "stop_reason": reason,
        "stop_sequence": choice.stop_sequence if reason == "stop_sequence" else None,
    }
    if (details := _stop_details(reason)) is not None:
        body["stop_details"] = details
    body["usage"] = usage_body(reply, output_tokens(reply))
    return body


def _delta_prefix(index: int, kind: bytes) -> bytes:
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
        + str(index).encode()
        + b',"delta":{"type":"'
        + kind
        + b'",'
    )


def _deltas(index: int, kind: bytes, field: bytes, pieces: list[str]) -> list[bytes]:
    """One `content_block_delta` frame per piece, spliced from bytes (this is the hot path)."""
    prefix = _delta_prefix(index, kind) + b'"' + field + b'":'
    return [prefix + orjson.dumps(piece) + b"}}\n\n" for piece in pieces]


def _block(index: int, start: dict[str, Any], deltas: list[bytes]) -> list[bytes]:
    frames = [
        sse_frame(
            {"type": "content_block_start", "index": index, "content_block": start},
            event="content_block_start",
        )
    ]
    if index == 0 and deltas:
        frames.append(PING)
    frames.extend(deltas)
    frames.append(
        sse_frame({"type": "content_block_stop", "index": index}, event="content_block_stop")
    )
    return frames


def stream_frames(reply: Reply, exchange: Exchange) -> list[bytes]:
    """The whole event stream, `message_start` to `message_stop`, one frame per event."""
    choice = reply.choices[0]
    start_message: dict[str, Any] = {
        "id": message_id(reply),
        "type": "message",
        "role": "assistant",
        "model": exchange.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_body(reply, 1),
    }
    frames = [sse_frame({"type": "message_start", "message": start_message}, event="message_start")]
    index = 0
    if choice.reasoning and choice.reasoning_redacted:
        frames.extend(_block(index, redacted_thinking(reply.key, choice.reasoning), []))
        index += 1
    elif choice.reasoning:
        deltas = _deltas(index, b"thinking_delta", b"thinking", choice.reasoning_pieces)
        if not deltas:
            deltas = _deltas(index, b"thinking_delta", b"thinking", [choice.reasoning])
        signature = thinking_signature(reply.key, choice.reasoning)
        deltas.extend(_deltas(index, b"signature_delta", b"signature", [signature]))
        start = {"type": "thinking", "thinking": "", "signature": ""}
        frames.extend(_block(index, start, deltas))
        index += 1
    text, pieces = _visible_text(choice)
    if choice.search is not None:
        frames.extend(_search_frames(index, reply.key, choice, text, pieces))
        index += 2 + len(web_search.text_blocks(choice, text, pieces))
    elif _wants_text_block(choice, text):
        cited = citations.document_citation(exchange.body) if text else None
        start_text: dict[str, Any] = {"type": "text", "text": ""}
        deltas = []
        if cited is not None:  # the citation before the text it backs, as with web search
            start_text["citations"] = []
            cite = {"type": "citations_delta", "citation": cited}
            frame = {"type": "content_block_delta", "index": index, "delta": cite}
            deltas.append(sse_frame(frame, event="content_block_delta"))
        deltas.extend(_deltas(index, b"text_delta", b"text", pieces))
        frames.extend(_block(index, start_text, deltas))
        index += 1
    for number, call in enumerate(choice.tool_calls):
        arguments = choice.argument_pieces[number] if number < len(choice.argument_pieces) else []
        if not arguments and call.arguments:
            arguments = [call.arguments]
        tool_start: dict[str, Any] = {
            "type": "tool_use",
            "id": tool_use_id(call.id),
            "name": call.name,
            "caller": DIRECT_CALLER,
            "input": {},
        }
        # The live API opens every tool input with an empty partial_json.
        deltas = _deltas(index, b"input_json_delta", b"partial_json", ["", *arguments])
        frames.extend(_block(index, tool_start, deltas))
        index += 1
    reason = stop_reason(choice)
    delta: dict[str, Any] = {
        "stop_reason": reason,
        "stop_sequence": choice.stop_sequence if reason == "stop_sequence" else None,
    }
    if (details := _stop_details(reason)) is not None:
        delta["stop_details"] = details
    frames.append(
        sse_frame(
            {
                "type": "message_delta",
                "delta": delta,
                "usage": {"output_tokens": output_tokens(reply), **web_search.usage(choice)},
            },
            event="message_delta",
        )
    )
    frames.append(MESSAGE_STOP)
    return frames


def _search_frames(
    index: int, key: str, choice: Choice, text: str, pieces: list[str]
) -> list[bytes]:
    """The search's two blocks, then the answer's text blocks (citations before the text)."""
    search = choice.search
    assert search is not None
    use = web_search.server_tool_use(key, search)
    query = orjson.dumps(use["input"]).decode()
    frames = _block(
        index,
        {**use, "input": {}},
        _deltas(index, b"input_json_delta", b"partial_json", ["", query]),
    )
    frames.extend(_block(index + 1, web_search.search_result(key, search), []))
    index += 2
    for block, block_pieces in web_search.text_blocks(choice, text, pieces):
        deltas = [
            sse_frame(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "citations_delta", "citation": citation},
                },
                event="content_block_delta",
            )
            for citation in block.get("citations", [])
        ]
        deltas.extend(_deltas(index, b"text_delta", b"text", block_pieces))
        start: dict[str, Any] = {"type": "text", "text": ""}
        if "citations" in block:
            start["citations"] = []
        frames.extend(_block(index, start, deltas))
        index += 1
    return frames
