"""OpenAI Chat Completions: `POST /v1/chat/completions` (also the gateway's Gemini-compatible path).

Shapes follow the official OpenAPI spec and the live streams recorded in
`shared/conformance/recorded/openai-chat-stream/`: role in the first delta, one delta per token
piece, tool-call fragments (first with index/id/type/name and empty arguments, then argument
pieces), one empty-delta chunk per choice carrying its finish reason, then the usage chunk with
`choices: []` when `stream_options.include_usage` is set, then `data: [DONE]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import (
    Attachment,
    Exchange,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
    ToolChoice,
)
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.dialect import Dialect, Inbound, per_reply
from mockserver.protocols.openai import validation as v

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = ("text", "image_url", "input_audio", "refusal", "audio", "file")
DONE = b"data: [DONE]\n\n"


class ChatDialect(Dialect):
    name: ClassVar[str] = "openai.chat"
    # OpenAI's reasoning models always reason, whether or not `reasoning_effort` is sent.
    implicit_reasoning: ClassVar[bool] = True

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        v.require_bearer(inbound.headers)
        body = v.expect_object(body)
        model = v.typed(body, "model", "string")
        if not model:
            raise v.bad("you must provide a model parameter", None, None)
        raw_messages = v.typed(body, "messages", "array", nullable=False)
        if raw_messages is None:
            raise v.missing("messages")
        if not raw_messages:
            raise v.bad(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
                "messages",
                "empty_array",
            )
        messages = parse_messages(raw_messages)
        tools = parse_tools(v.typed(body, "tools", "array") or [])
        n = v.typed(body, "n", "integer")
        v.in_range(n, "n", minimum=1, maximum=128, integer=True)
        v.in_range(v.typed(body, "temperature", "number"), "temperature", minimum=0, maximum=2)
        v.in_range(v.typed(body, "top_p", "number"), "top_p", minimum=0, maximum=1)
        for penalty in ("frequency_penalty", "presence_penalty"):
            v.in_range(v.typed(body, penalty, "number"), penalty, minimum=-2, maximum=2)
        max_tokens = v.typed(body, "max_completion_tokens", "integer")
        if max_tokens is None:
            max_tokens = v.typed(body, "max_tokens", "integer")
            v.in_range(max_tokens, "max_tokens", minimum=1, integer=True)
        else:
            v.in_range(max_tokens, "max_completion_tokens", minimum=1, integer=True)
        stream = bool(v.typed(body, "stream", "boolean"))
        if v.typed(body, "stream_options", "object") is not None and not stream:
            raise v.bad(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
                None,
            )
        effort = v.typed(body, "reasoning_effort", "string")
        v.one_of(effort, ("none", "minimal", "low", "medium", "high", "xhigh"), "reasoning_effort")
        v.typed(body, "seed", "integer")
        v.typed(body, "user", "string")
        v.typed(body, "metadata", "object")
        v.typed(body, "logprobs", "boolean")
        top_logprobs = v.typed(body, "top_logprobs", "integer")
        v.in_range(top_logprobs, "top_logprobs", minimum=0, maximum=20, integer=True)
        return Exchange(
            dialect=self.name,
            endpoint=inbound.path,
            model=model,
            messages=messages,
            body=body,
            headers=inbound.headers,
            tools=tools,
            tool_choice=parse_tool_choice(body.get("tool_choice"), tools),
            response_format=parse_response_format(v.typed(body, "response_format", "object")),
            stream=stream,
            n=n or 1,
            max_tokens=max_tokens,
            stop=v.string_list(body.get("stop"), "stop", limit=4),
            reasoning_effort=effort,
            seed=body.get("seed"),
        )

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        return {
            "id": completion_id(reply),
            "object": "chat.completion",
            "created": reply.created,
            **_completion_rest(reply, exchange),
        }

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        # Only the id and `created` depend on the reply key.
        rest = per_reply(
            exchange, "chat.rest", reply, lambda: orjson.dumps(_completion_rest(reply, exchange))
        )
        head = b'{"id":"%s","object":"chat.completion","created":%d,' % (
            completion_id(reply).encode(),
            reply.created,
        )
        return head + rest[1:]

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        # Every chunk repeats the same envelope; serialise it once and splice the choices in.
        include_usage = _include_usage(exchange)
        head = orjson.dumps(
            {
                "id": completion_id(reply),
                "object": "chat.completion.chunk",
                "created": reply.created,
                "model": exchange.model,
                "service_tier": "default",
                "system_fingerprint": reply.fingerprint,
            }
        )[:-1]
        prefix = b"data: " + head + b',"choices":['
        # Only the envelope depends on the reply key.
        rests = per_reply(
            exchange, "chat.chunks", reply, lambda: _chunk_rests(reply, include_usage, exchange)
        )
        frames = [prefix + rest for rest in rests]
        frames.append(DONE)
        return frames

    def render_error(self, error: APIError) -> dict[str, Any]:
        return {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
            }
        }

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        return openai_headers(reply.key if reply is not None else None)


def _chunk_rests(reply: Reply, include_usage: bool, exchange: Exchange) -> list[bytes]:
    """Each chunk's bytes after the envelope: its choice delta (and the usage chunk)."""
    tail = b',"usage":null}\n\n' if include_usage else b"}\n\n"
    deltas = [_choice_deltas(i, c) for i, c in enumerate(reply.choices)]
    usage = usage_body(reply)
    if "modalities" in exchange.body:  # an audio model asked to speak
        from mockserver.protocols.openai import chat_audio

        if chat_audio.wants_audio(exchange):
            chat_audio.speak_deltas(deltas, usage, reply, exchange)
    rests = [orjson.dumps(choice_delta) + b"]" + tail for choice_delta in interleave(deltas)]
    if include_usage:
        rests.append(b'],"usage":' + orjson.dumps(usage) + b"}\n\n")
    return rests


def _completion_rest(reply: Reply, exchange: Exchange) -> dict[str, Any]:
    """A chat completion's fields after `created`."""
    rest = {
        "model": exchange.model,
        "choices": [
            {
                "index": index,
                "message": _message(choice),
                "logprobs": None,
                "finish_reason": choice.finish_reason,
            }
            for index, choice in enumerate(reply.choices)
        ],
        "usage": usage_body(reply),
        "service_tier": "default",
        "system_fingerprint": reply.fingerprint,
    }
    if "modalities" in exchange.body:  # an audio model asked to speak
        from mockserver.protocols.openai import chat_audio

        if chat_audio.wants_audio(exchange):
            chat_audio.add_audio(rest, reply, exchange)
    return rest


def openai_headers(key: str | None) -> dict[str, str]:
    """Headers the OpenAI API puts on every response; the SDK reads `x-request-id`."""
    request_id = "req_" + ids.hex_digest(key or "no-reply", "request-id", 32)
    return {"x-request-id": request_id, "openai-version": "2020-10-01", "openai-processing-ms": "1"}


def completion_id(reply: Reply) -> str:
    return ids.derive_id(reply.key, "chatcmpl", 29, sep="-")


def usage_body(reply: Reply) -> dict[str, Any]:
    usage = reply.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def interleave(streams: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Round-robin the choices' deltas, as the live API does for `n > 1`."""
    out: list[dict[str, Any]] = []
    longest = max((len(s) for s in streams), default=0)
    for step in range(longest):
        out.extend(s[step] for s in streams if step < len(s))
    return out


def _include_usage(exchange: Exchange) -> bool:
    options = exchange.body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def _message(choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": choice.text if choice.refusal is None else None,
        "refusal": choice.refusal,
        "annotations": [],
    }
    if choice.tool_calls:
        message["tool_calls"] = [_tool_call(call) for call in choice.tool_calls]
    return message


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _choice_deltas(index: int, choice: Choice) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}

    deltas: list[dict[str, Any]] = []
    if choice.refusal is not None:
        deltas.append(chunk({"role": "assistant", "content": None, "refusal": ""}))
        deltas.extend(chunk({"refusal": piece}) for piece in choice.refusal_pieces)
    elif choice.text is not None or not choice.tool_calls:
        deltas.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        deltas.extend(chunk({"content": piece}) for piece in choice.text_pieces)
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


def parse_messages(raw_messages: list[Any]) -> list[Message]:
    messages: list[Message] = []
    call_names: dict[str, str] = {}
    for index, raw in enumerate(raw_messages):
        where = f"messages[{index}]"
        if not isinstance(raw, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an object, but got {v.describe(raw)} "
                "instead.",
                where,
                "invalid_type",
            )
        role = raw.get("role")
        if role is None:
            raise v.missing(f"{where}.role")
        v.one_of(role, ROLES, f"{where}.role")
        content = raw.get("content")
        if "content" not in raw and role in ("system", "developer", "user", "tool"):
            raise v.missing(f"{where}.content")
        text, attachments = _content(content, f"{where}.content")
        name = v.typed(raw, "name", "string", param=f"{where}.name")
        if role in ("system", "developer"):
            messages.append(Message(role="system", text=text, name=name))
        elif role == "user":
            messages.append(Message(role="user", text=text, name=name, attachments=attachments))
        elif role == "assistant":
            calls = _history_calls(raw.get("tool_calls"), f"{where}.tool_calls")
            call_names.update((c.id, c.name) for c in calls)
            messages.append(Message(role="assistant", text=text, name=name, tool_calls=calls))
        elif role == "tool":
            call_id = raw.get("tool_call_id")
            if not isinstance(call_id, str):
                raise v.missing(f"{where}.tool_call_id")
            if call_id not in call_names:
                raise v.bad(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"{where}.role",
                    None,
                )
            messages.append(
                Message(role="tool", text=text, tool_call_id=call_id, tool_name=call_names[call_id])
            )
        else:  # legacy "function" role: a function result named by `name`
            messages.append(Message(role="tool", text=text, tool_name=name, name=name))
    return messages


def _content(content: Any, where: str) -> tuple[str, list[Attachment]]:
    """Text and attachments of a message's content: a string, null, or an array of parts."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise v.bad(
            f"Invalid type for '{where}': expected one of a string or array of objects, but got "
            f"{v.describe(content)} instead.",
            where,
            "invalid_type",
        )
    texts: list[str] = []
    attachments: list[Attachment] = []
    for index, part in enumerate(content):
        part_where = f"{where}[{index}]"
        if not isinstance(part, dict):
            raise v.bad(
                f"Invalid type for '{part_where}': expected an object, but got "
                f"{v.describe(part)} instead.",
                part_where,
                "invalid_type",
            )
        kind = part.get("type")
        if kind is None:
            raise v.missing(f"{part_where}.type")
        v.one_of(kind, PART_TYPES, f"{part_where}.type")
        if kind == "text":
            texts.append(_required_str(part, "text", part_where))
        elif kind == "refusal":
            texts.append(_required_str(part, "refusal", part_where))
        elif kind == "image_url":
            image = part.get("image_url")
            if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                raise v.missing(f"{part_where}.image_url.url")
            attachments.append(Attachment("image", _data_mime(image["url"]), image.get("detail")))
        elif kind in ("input_audio", "audio"):
            audio = part.get("input_audio") or part.get("audio") or {}
            fmt = audio.get("format") if isinstance(audio, dict) else None
            data = audio.get("data", "") if isinstance(audio, dict) else ""
            attachments.append(Attachment("audio", f"audio/{fmt}" if fmt else None, size=len(data)))
        else:
            file = part.get("file") or {}
            data = file.get("file_data", "") if isinstance(file, dict) else ""
            attachments.append(Attachment("file", _data_mime(str(data)), size=len(str(data))))
    return "\n".join(texts), attachments


def _required_str(part: Mapping[str, Any], key: str, where: str) -> str:
    value = part.get(key)
    if not isinstance(value, str):
        raise v.missing(f"{where}.{key}")
    return value


def _data_mime(url: str) -> str | None:
    """`data:image/png;base64,...` -> `image/png`."""
    if url.startswith("data:") and ";" in url:
        return url[5 : url.index(";")]
    return None


def _history_calls(raw: Any, where: str) -> list[ToolCall]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise v.bad(
            f"Invalid type for '{where}': expected an array, but got {v.describe(raw)} instead.",
            where,
            "invalid_type",
        )
    calls = []
    for index, call in enumerate(raw):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise v.missing(f"{where}[{index}].function.name")
        call_id = call.get("id")
        if not isinstance(call_id, str):
            raise v.missing(f"{where}[{index}].id")
        arguments = function.get("arguments", "")
        calls.append(
            ToolCall(call_id, function["name"], arguments if isinstance(arguments, str) else "")
        )
    return calls


def parse_tools(raw: list[Any]) -> list[Tool]:
    tools = []
    for index, tool in enumerate(raw):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise v.bad(
                f"Invalid type for '{where}': expected an object, but got {v.describe(tool)} "
                "instead.",
                where,
                "invalid_type",
            )
        kind = tool.get("type", "function")
        if kind == "custom":
            custom = tool.get("custom") or {}
            tools.append(Tool(str(custom.get("name", "")), str(custom.get("description", ""))))
            continue
        v.one_of(kind, ("function", "custom"), f"{where}.type")
        function = tool.get("function")
        if not isinstance(function, dict):
            raise v.missing(f"{where}.function")
        name = function.get("name")
        if not isinstance(name, str):
            raise v.missing(f"{where}.function.name")
        parameters = function.get("parameters")
        tools.append(
            Tool(
                name,
                str(function.get("description") or ""),
                parameters if isinstance(parameters, dict) else {},
            )
        )
    return tools


def parse_tool_choice(raw: Any, tools: list[Tool]) -> ToolChoice:
    if raw is None:
        return ToolChoice("auto" if tools else "none")
    if isinstance(raw, str):
        v.one_of(raw, ("none", "auto", "required"), "tool_choice")
        if raw != "none" and not tools:
            raise v.bad(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                "specified.",
                "tool_choice",
                None,
            )
        return ToolChoice(raw)  # type: ignore[arg-type]
    if isinstance(raw, dict):
        function = raw.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str):
            raise v.missing("tool_choice.function.name")
        if not any(t.name == name for t in tools):
            raise v.bad(
                f"Invalid value for 'tool_choice': tool '{name}' not found in 'tools'.",
                "tool_choice",
                None,
            )
        return ToolChoice("function", name)
    raise v.bad(
        f"Invalid type for 'tool_choice': expected one of a string or object, but got "
        f"{v.describe(raw)} instead.",
        "tool_choice",
        "invalid_type",
    )


def parse_response_format(raw: Mapping[str, Any] | None) -> ResponseFormat:
    if raw is None:
        return ResponseFormat()
    kind = raw.get("type")
    if kind is None:
        raise v.missing("response_format.type")
    v.one_of(kind, ("text", "json_object", "json_schema"), "response_format.type")
    if kind != "json_schema":
        return ResponseFormat(kind)
    spec = raw.get("json_schema")
    if not isinstance(spec, dict):
        raise v.missing("response_format.json_schema")
    if not isinstance(spec.get("name"), str):
        raise v.missing("response_format.json_schema.name")
    schema = spec.get("schema")
    return ResponseFormat(
        "json_schema",
        schema if isinstance(schema, dict) else {},
        spec["name"],
        bool(spec.get("strict")),
    )
