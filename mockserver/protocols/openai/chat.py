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
Requests are read by `chat_request` (tools by `chat_tools`), replies made by `chat_render`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Reply
from mockserver.protocols.dialect import Dialect, Inbound, per_reply
from mockserver.protocols.openai import (
    chat_images,
    chat_tools,
    prompt_caching,
    web_search,
)
from mockserver.protocols.openai import chat_request as req
from mockserver.protocols.openai import validation as v
from mockserver.protocols.openai.chat_render import (
    chunk_rests,
    completion_id,
    completion_rest,
    service_tier,
    stream_includes_usage,
)
from mockserver.protocols.openai.errors import (
    LOGPROBS_NOT_ALLOWED,
    unsupported_parameter,
    unsupported_value,
)

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
            tools = chat_tools.parse_functions(v.typed(body, "functions", "array") or [])
            tool_choice = chat_tools.parse_function_call(body.get("function_call"), tools)
        else:
            tools = chat_tools.parse_tools(raw_tools or [])
            tool_choice = chat_tools.parse_tool_choice(body.get("tool_choice"), tools)
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
        budget = req.gateway_thinking(body)
        include, google_budget = req.google_thinking(body)
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
            **completion_rest(reply, exchange),
        }

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        # Only the id and `created` depend on the reply key.
        rest = per_reply(
            exchange, "chat.rest", reply, lambda: orjson.dumps(completion_rest(reply, exchange))
        )
        head = b'{"id":"%s","object":"chat.completion","created":%d,' % (
            completion_id(reply).encode(),
            reply.created,
        )
        return head + rest[1:]

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        # Every chunk repeats the same envelope; serialise it once and splice the choices in.
        include_usage = stream_includes_usage(exchange)
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
            exchange, "chat.chunks", reply, lambda: chunk_rests(reply, include_usage, exchange)
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


def openai_headers(key: str | None) -> dict[str, str]:
    """Headers the OpenAI API puts on every response; the SDK reads `x-request-id`."""
    request_id = "req_" + ids.hex_digest(key or "no-reply", "request-id", 32)
    return {"x-request-id": request_id, "openai-version": "2020-10-01", "openai-processing-ms": "1"}
