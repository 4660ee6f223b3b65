"""OpenAI Chat Completions: `POST /v1/chat/completions` (also the gateway's Gemini-compatible path).

Shapes follow the official OpenAPI spec and live streams recorded by openai-python's own tests:
role in the first delta, one delta per token piece, tool-call fragments (first with
index/id/type/name and empty arguments, then argument pieces), one empty-delta chunk per choice
carrying its finish reason, then the usage chunk with `choices: []` when
`stream_options.include_usage` is set, then `data: [DONE]`.

What gateways add for the models they relay: a thinking model that isn't OpenAI's (DeepSeek,
Qwen, Claude, Gemini behind the gateway) shows its reasoning as `reasoning_content` on the
message and in deltas; OpenAI's own keep it hidden, as the live API does. A request in the
legacy `functions` shape is answered as `message.function_call`, finish reason `function_call`.
Requests are read by `chat_request`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.dialect import Dialect, Inbound, per_reply
from mockserver.protocols.openai import chat_images, chat_outputs, prompt_caching, web_search
from mockserver.protocols.openai import chat_request as req
from mockserver.protocols.openai import validation as v
from mockserver.tokens import media_tokens

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.prompt_cache import CacheRequest
    from mockserver.tokens.tokenizer import Tokenizer

DONE = b"data: [DONE]\n\n"
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


class ChatDialect(Dialect):
    name: ClassVar[str] = "openai.chat"

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
        req.unknown_fields(body)
        messages = req.parse_messages(raw_messages)
        raw_tools = v.typed(body, "tools", "array")
        if raw_tools is None and body.get("functions") is not None:  # the legacy shape
            tools = req.parse_functions(v.typed(body, "functions", "array") or [])
            tool_choice = req.parse_function_call(body.get("function_call"), tools)
        else:
            tools = req.parse_tools(raw_tools or [])
            tool_choice = req.parse_tool_choice(body.get("tool_choice"), tools)
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
        v.one_of(effort, EFFORTS, "reasoning_effort")
        budget = gateway_thinking(body)
        include, google_budget = google_thinking(body)
        if budget is None and google_budget is not None:
            budget = google_budget
        elif budget is None and include:  # thoughts asked for: the model thinks
            budget = -1
        if effort is None and budget is not None:
            effort = "medium" if budget else "none"
        v.typed(body, "seed", "integer")
        v.typed(body, "user", "string")
        v.typed(body, "metadata", "object")
        v.typed(body, "logprobs", "boolean")
        top_logprobs = v.typed(body, "top_logprobs", "integer")
        v.in_range(top_logprobs, "top_logprobs", minimum=0, maximum=20, integer=True)
        exchange = Exchange(
            dialect=self.name,
            endpoint=inbound.path,
            model=model,
            messages=messages,
            body=body,
            headers=inbound.headers,
            tools=tools,
            server_tools=web_search.chat_searches(model, body),
            tool_choice=tool_choice,
            response_format=req.parse_response_format(v.typed(body, "response_format", "object")),
            stream=stream,
            n=n or 1,
            max_tokens=max_tokens,
            stop=v.string_list(body.get("stop"), "stop", limit=4),
            reasoning_effort=effort,
            reasoning_budget=budget if budget is not None and budget > 0 else None,
            seed=body.get("seed"),
        )
        if chat_images.image_kind(model) == "link":
            chat_images.note_files(exchange)
        return exchange

    def cache_request(self, exchange: Exchange, tokenizer: Tokenizer) -> CacheRequest | None:
        return prompt_caching.cache_request(
            exchange, tokenizer, v.bearer_key(exchange.headers) or ""
        )

    def prompt_tokens(self, exchange: Exchange, tokenizer: Tokenizer) -> int:
        """A Claude or Gemini model relayed by the gateway reports its own API's input count
        as `prompt_tokens` (new-api converts the upstream usage), so its prompt is counted as
        that API counts it; audio and files keep OpenAI's counting."""
        vendor = vendor_of(exchange.model)
        if vendor == "anthropic" and _images_only(exchange):
            from mockserver.protocols.anthropic.messages import prompt_tokens

            return prompt_tokens(exchange, tokenizer)
        if vendor == "google" and _images_only(exchange):
            from mockserver.protocols.gemini.extras import gemini_prompt_tokens

            return gemini_prompt_tokens(exchange, tokenizer)
        return super().prompt_tokens(exchange, tokenizer)

    def check_request(self, info: ModelInfo, exchange: Exchange) -> None:
        """OpenAI's reasoning models refuse `max_tokens`, a temperature other than 1 and
        logprobs; its other models refuse `reasoning_effort`; only search models take
        `web_search_options` (errors worded as the API sends them)."""
        if vendor_of(exchange.model) != "openai":
            if chat_images.image_kind(exchange.model) == "inline":
                chat_images.check_image_config(exchange.body)
            return
        body = exchange.body
        if info.reasoning:
            if body.get("max_tokens") is not None:
                raise unsupported_parameter("max_tokens", " Use 'max_completion_tokens' instead.")
            temperature = body.get("temperature")
            if temperature is not None and temperature != 1:
                raise unsupported_value("temperature", temperature)
            if body.get("logprobs") is True:
                raise APIError(403, LOGPROBS_NOT_ALLOWED, type="invalid_request_error")
        elif body.get("reasoning_effort") is not None:
            raise unsupported_parameter("reasoning_effort")
        if "web_search_options" in body and not web_search.is_search_model(exchange.model):
            raise v.bad(
                "Unknown parameter: 'web_search_options'.",
                "web_search_options",
                "unknown_parameter",
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
                "service_tier": service_tier(exchange.body.get("service_tier")),
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


def _images_only(exchange: Exchange) -> bool:
    return all(a.kind == "image" for m in exchange.messages for a in m.attachments)


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


def gateway_thinking(body: Any) -> int | None:
    """What a gateway's client asks of a thinking model behind it: Qwen's `enable_thinking`
    (+ `thinking_budget`), or `thinking: {type: enabled|disabled, budget_tokens}` (DeepSeek,
    Claude through the gateway). A budget (0: no thinking; -1: as the model likes), or None."""
    enabled = v.typed(body, "enable_thinking", "boolean")
    thinking = v.typed(body, "thinking", "object")
    budget = v.typed(body, "thinking_budget", "integer")
    if thinking is not None:
        kind = thinking.get("type")
        v.one_of(kind, ("enabled", "disabled", "auto", "adaptive"), "thinking.type")
        enabled = kind != "disabled"
        tokens = thinking.get("budget_tokens")
        budget = tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else budget
    if enabled is None:
        return None
    if not enabled:
        return 0
    return budget if budget is not None and budget > 0 else -1


def google_thinking(body: Any) -> tuple[bool | None, int | None]:
    """Gemini's OpenAI-compatible thinking settings, `google.thinking_config` (sent with the
    SDK's `extra_body`, also nested once more in `extra_body`, as Google's docs show it):
    `include_thoughts` (None when not given) and `thinking_budget`."""
    google = body.get("google")
    if google is None and isinstance(body.get("extra_body"), dict):
        google = body["extra_body"].get("google")
    config = google.get("thinking_config") if isinstance(google, dict) else None
    if not isinstance(config, dict):
        return None, None
    include = config.get("include_thoughts")
    budget = config.get("thinking_budget")
    return (
        include if isinstance(include, bool) else None,
        budget if isinstance(budget, int) and not isinstance(budget, bool) else None,
    )


LOGPROBS_NOT_ALLOWED = "You are not allowed to request logprobs from this model"


def service_tier(requested: Any) -> str:
    """The tier that served the request: "auto" (and none) is answered with "default"."""
    return requested if requested in ("flex", "scale", "priority") else "default"


def unsupported_parameter(param: str, hint: str = "") -> APIError:
    return v.bad(
        f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
        param,
        "unsupported_parameter",
    )


def unsupported_value(param: str, value: Any) -> APIError:
    shown = orjson.dumps(value).decode()
    return v.bad(
        f"Unsupported value: '{param}' does not support {shown} with this model. Only the "
        "default (1) value is supported.",
        param,
        "unsupported_value",
    )


def _chunk_rests(reply: Reply, include_usage: bool, exchange: Exchange) -> list[bytes]:
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


def _completion_rest(reply: Reply, exchange: Exchange) -> dict[str, Any]:
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


def openai_headers(key: str | None) -> dict[str, str]:
    """Headers the OpenAI API puts on every response; the SDK reads `x-request-id`."""
    request_id = "req_" + ids.hex_digest(key or "no-reply", "request-id", 32)
    return {"x-request-id": request_id, "openai-version": "2020-10-01", "openai-processing-ms": "1"}


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


def _include_usage(exchange: Exchange) -> bool:
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
