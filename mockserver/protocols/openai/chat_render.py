"""A Chat Completions reply as the API sends it: the `chat.completion` body (message, tool calls
or the legacy `function_call`, logprobs, usage) and the `chat.completion.chunk` deltas of a
stream, interleaved across choices. Audio and pictures are added by `chat_audio` and
`chat_images`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import orjson

from mockserver.core import ids
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.openai import (
    chat_images,
    chat_outputs,
    web_search,
)
from mockserver.protocols.openai.chat_request import google_thinking
from mockserver.tokens import media_tokens


class Style(NamedTuple):
    """How a reply is worded for the request: `reasoning_content` shown (a model that isn't
    OpenAI's), `functions` (the legacy function-calling shape)."""

    reasoning: bool
    functions: bool

    @classmethod
    def of(cls, exchange: Exchange) -> Style:
        body = exchange.body
        legacy = body.get("tools") is None and body.get("functions") is not None
        include, _ = google_thinking(body)  # `include_thoughts: false` hides them
        return cls(vendor_of(exchange.model) != "openai" and include is not False, legacy)


def service_tier(requested: Any) -> str:
    """The tier that served the request: "auto" (and none) is answered with "default"."""
    return requested if requested in ("flex", "scale", "priority") else "default"


def chunk_rests(reply: Reply, include_usage: bool, exchange: Exchange) -> list[bytes]:
    """Each chunk's bytes after the envelope: its choice delta (and the usage chunk)."""
    tail = b',"usage":null}\n\n' if include_usage else b"}\n\n"
    style = Style.of(exchange)
    deltas = [_choice_deltas(i, c, style) for i, c in enumerate(reply.choices)]
    top = chat_outputs.top_logprobs(exchange)
    if top is not None:
        for index, (choice, choice_deltas) in enumerate(zip(reply.choices, deltas, strict=True)):
            _stream_logprobs(choice_deltas, chat_outputs.token_entries(choice, index, top))
    usage = usage_body(reply, exchange)
    if "modalities" in exchange.body:  # an audio model asked to speak
        from mockserver.protocols.openai import chat_audio

        if chat_audio.wants_audio(exchange):
            chat_audio.speak_deltas(deltas, usage, reply, exchange)
    pictures = chat_images.image_kind(exchange.model)
    if pictures is not None:
        chat_images.add_to_deltas(deltas, exchange, pictures, [c.file for c in reply.choices])
    rests = [orjson.dumps(choice_delta) + b"]" + tail for choice_delta in interleave(deltas)]
    if include_usage:
        rests.append(b'],"usage":' + orjson.dumps(usage) + b"}\n\n")
    return rests


def completion_rest(reply: Reply, exchange: Exchange) -> dict[str, Any]:
    """A chat completion's fields after `created`."""
    style = Style.of(exchange)
    top = chat_outputs.top_logprobs(exchange)
    rest = {
        "model": exchange.model,
        "choices": [
            {
                "index": index,
                "message": _message(choice, style),
                "logprobs": None
                if top is None
                else chat_outputs.choice_logprobs(choice, index, top),
                "finish_reason": _finish_reason(choice, style),
            }
            for index, choice in enumerate(reply.choices)
        ],
        "usage": usage_body(reply, exchange),
        "service_tier": service_tier(exchange.body.get("service_tier")),
        "system_fingerprint": reply.fingerprint,
    }
    if "modalities" in exchange.body:  # an audio model asked to speak
        from mockserver.protocols.openai import chat_audio

        if chat_audio.wants_audio(exchange):
            chat_audio.add_audio(rest, reply, exchange)
    pictures = chat_images.image_kind(exchange.model)
    if pictures is not None:
        chat_images.add_to_message(rest, exchange, pictures, [c.file for c in reply.choices])
    return rest


def completion_id(reply: Reply) -> str:
    return ids.derive_id(reply.key, "chatcmpl", 29, sep="-")


def usage_body(reply: Reply, exchange: Exchange | None = None) -> dict[str, Any]:
    usage = reply.usage
    accepted = rejected = 0
    if exchange is not None and "prediction" in exchange.body:
        first = reply.choices[0] if reply.choices else None
        accepted, rejected = chat_outputs.prediction_counts(exchange, first)
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {
            "cached_tokens": usage.cached_tokens,
            "audio_tokens": media_tokens.prompt_audio_tokens(exchange, "openai") if exchange else 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": accepted,
            "rejected_prediction_tokens": rejected,
        },
    }


def _stream_logprobs(deltas: list[dict[str, Any]], entries: list[dict[str, Any]]) -> None:
    """Each content chunk carries the logprob of the token it brings."""
    content = [d for d in deltas if d["delta"].get("content")]
    for delta, entry in zip(content, entries, strict=False):
        delta["logprobs"] = {"content": [entry], "refusal": None}


def interleave(streams: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Round-robin the choices' deltas, as the live API does for `n > 1`."""
    out: list[dict[str, Any]] = []
    longest = max((len(s) for s in streams), default=0)
    for step in range(longest):
        out.extend(s[step] for s in streams if step < len(s))
    return out


def stream_includes_usage(exchange: Exchange) -> bool:
    options = exchange.body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def _finish_reason(choice: Choice, style: Style) -> str:
    if style.functions and choice.finish_reason == "tool_calls":
        return "function_call"
    return choice.finish_reason


def _message(choice: Choice, style: Style) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": choice.text if choice.refusal is None else None,
        "refusal": choice.refusal,
        "annotations": web_search.citations(choice, nested=True),
    }
    if style.reasoning and choice.reasoning:
        message["reasoning_content"] = choice.reasoning
    if choice.tool_calls and style.functions:  # the legacy shape takes one call
        first = choice.tool_calls[0]
        message["function_call"] = {"name": first.name, "arguments": first.arguments}
    elif choice.tool_calls:
        message["tool_calls"] = [_tool_call(call) for call in choice.tool_calls]
    return message


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _choice_deltas(index: int, choice: Choice, style: Style) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}

    deltas: list[dict[str, Any]] = []
    if style.reasoning and choice.reasoning:
        deltas.append(chunk({"role": "assistant", "content": "", "reasoning_content": ""}))
        deltas.extend(chunk({"reasoning_content": piece}) for piece in choice.reasoning_pieces)
    if choice.refusal is not None:
        deltas.append(chunk({"role": "assistant", "content": None, "refusal": ""}))
        deltas.extend(chunk({"refusal": piece}) for piece in choice.refusal_pieces)
    elif choice.text is not None or not choice.tool_calls:
        deltas.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        deltas.extend(chunk({"content": piece}) for piece in choice.text_pieces)
        if choice.search is not None:  # as search models stream them: once the text is out
            deltas.append(chunk({"annotations": web_search.citations(choice, nested=True)}))
    if style.functions and choice.tool_calls:
        deltas.extend(_function_call_deltas(choice, chunk, first=not deltas))
        deltas.append(chunk({}, _finish_reason(choice, style)))
        return deltas
    for call_index, call in enumerate(choice.tool_calls):
        first = {
            "index": call_index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        if not deltas:
            deltas.append(
                chunk(
                    {"role": "assistant", "content": None, "tool_calls": [first], "refusal": None}
                )
            )
        else:
            deltas.append(chunk({"tool_calls": [first]}))
        pieces = (
            choice.argument_pieces[call_index] if call_index < len(choice.argument_pieces) else []
        )
        deltas.extend(
            chunk({"tool_calls": [{"index": call_index, "function": {"arguments": piece}}]})
            for piece in pieces
        )
    deltas.append(chunk({}, choice.finish_reason))
    return deltas


def _function_call_deltas(
    choice: Choice, chunk: Callable[[dict[str, Any]], dict[str, Any]], *, first: bool
) -> list[dict[str, Any]]:
    """The legacy `function_call` in a stream: its name (with the role when it opens the
    message), then its arguments piece by piece."""
    call = choice.tool_calls[0]
    opening: dict[str, Any] = {"function_call": {"name": call.name, "arguments": ""}}
    if first:
        opening = {"role": "assistant", "content": None, **opening, "refusal": None}
    pieces = choice.argument_pieces[0] if choice.argument_pieces else [call.arguments]
    return [chunk(opening)] + [chunk({"function_call": {"arguments": piece}}) for piece in pieces]
