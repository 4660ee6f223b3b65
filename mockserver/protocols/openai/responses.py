"""OpenAI Responses API: `POST /v1/responses`, and the routes around its stored responses.

    POST   /v1/responses                ResponsesDialect via the generation pipeline
    GET    /v1/responses/{id}           ResponsesDialect.retrieve(id)
    DELETE /v1/responses/{id}           ResponsesDialect.delete(id)
    POST   /v1/responses/input_tokens   parse, then render_input_tokens(prompt_tokens)

Shapes follow the official OpenAPI spec (`Response`, `ResponseStreamEvent`) and what the
openai-python SDK parses. Input items flatten to neutral messages: `instructions` first as a
system message, then the conversation of `previous_response_id` (from the dialect's store), then
`input`. Output is one optional reasoning item, one message item (text or refusal) unless the
reply is only tool calls, then one `function_call` item per call. This module reads the
request (input items in `responses_input`); the body is made by `responses_render`, and streams
are cut from the finished body by `responses_stream`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message, ResponseFormat
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Reply
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Dialect, Inbound, per_reply, sse_frame
from mockserver.protocols.openai import prompt_caching, web_search
from mockserver.protocols.openai import validation as v
from mockserver.protocols.openai.chat import openai_headers
from mockserver.protocols.openai.errors import unsupported_parameter
from mockserver.protocols.openai.response_store import ResponseStore, StoredResponse
from mockserver.protocols.openai.responses_input import (
    input_tools,
    parse_input,
    parse_tool_choice,
    parse_tools,
)
from mockserver.protocols.openai.responses_render import (
    body_parts,
    make_response_id,
    object_id,
    output_items,
    response_envelope,
    response_status,
    usage_body,
)
from mockserver.protocols.openai.responses_stream import in_progress, stream_frames, terminal_frame

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.prompt_cache import CacheRequest
    from mockserver.server_state import Dialects
    from mockserver.tokens.tokenizer import Tokenizer

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
SUMMARIES = ("auto", "concise", "detailed")
SERVICE_TIERS = ("auto", "default", "flex", "scale", "priority")
# Chat Completions parameters the Responses API rejects (a common porting mistake).
CHAT_ONLY_PARAMS = ("messages", "response_format", "max_tokens", "max_completion_tokens")
# `ResponseCreateParams` of openai-python 3.x, plus `stream`; and what Codex adds
# (`client_metadata`; `generate: false` on its WebSocket prewarm).
FIELDS = v.names(
    "access_programs background background_options context_management conversation image "
    "include input instructions max_output_tokens max_tool_calls metadata model moderation "
    "parallel_tool_calls previous_response_id prompt prompt_cache_key prompt_cache_options "
    "prompt_cache_retention reasoning safety_identifier service_tier store stream "
    "stream_options temperature text tool_choice tools top_logprobs top_p truncation user "
    "client_metadata generate"
)
# `Response.error.code` takes only these words (spec `ResponseErrorCode`).
FAILED_CODES = ("server_error", "rate_limit_exceeded", "invalid_prompt")


class ResponsesDialect(Dialect):
    """`parse`/`render` for `/v1/responses`; owns the store that `previous_response_id` reads.

    The handler calls `remember(reply, exchange)` once per rendered reply (stream or not).
    """

    name: ClassVar[str] = "openai.responses"

    def __init__(self, store: ResponseStore | None = None) -> None:
        self.store = store if store is not None else ResponseStore()

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        v.require_bearer(inbound.headers)
        body = v.expect_object(body)
        for param in CHAT_ONLY_PARAMS:
            if param in body:
                raise unknown_parameter(param)
        for param in body:
            if param not in FIELDS:
                leniency.unknown(f"unknown field '{param}'", unknown_parameter(param))
        model = v.typed(body, "model", "string")
        if not model:
            raise v.missing("model")
        raw_input = body.get("input")
        if raw_input is None and body.get("prompt") is None:
            raise v.missing("input")
        max_tokens = v.typed(body, "max_output_tokens", "integer")
        v.in_range(max_tokens, "max_output_tokens", minimum=16, integer=True)
        v.in_range(v.typed(body, "temperature", "number"), "temperature", minimum=0, maximum=2)
        v.in_range(v.typed(body, "top_p", "number"), "top_p", minimum=0, maximum=1)
        top_logprobs = v.typed(body, "top_logprobs", "integer")
        v.in_range(top_logprobs, "top_logprobs", minimum=0, maximum=20, integer=True)
        reasoning = v.typed(body, "reasoning", "object") or {}
        effort = v.typed(reasoning, "effort", "string", param="reasoning.effort")
        v.one_of(effort, EFFORTS, "reasoning.effort")
        v.one_of(reasoning.get("summary"), SUMMARIES, "reasoning.summary")
        v.one_of(v.typed(body, "service_tier", "string"), SERVICE_TIERS, "service_tier")
        v.one_of(v.typed(body, "truncation", "string"), ("auto", "disabled"), "truncation")
        for flag in ("store", "stream", "parallel_tool_calls", "background"):
            v.typed(body, flag, "boolean")
        for key, kind in (("metadata", "object"), ("include", "array"), ("user", "string")):
            v.typed(body, key, kind)
        v.typed(body, "stream_options", "object")
        tools = parse_tools(v.typed(body, "tools", "array") or []) + input_tools(raw_input)
        raw_tools = body.get("tools")
        hosted = isinstance(raw_tools, list) and any(
            isinstance(t, dict) and t.get("type") not in ("function", "custom") for t in raw_tools
        )
        tool_choice = parse_tool_choice(body.get("tool_choice"), tools, hosted=hosted)
        response_format = parse_text_format(v.typed(body, "text", "object"))
        # The conversation last: the live API checks the parameters before looking anything up.
        instructions = v.typed(body, "instructions", "string")
        messages = [Message(role="system", text=instructions)] if instructions else []
        previous_id = v.typed(body, "previous_response_id", "string")
        if previous_id is not None:
            messages.extend(self._previous(previous_id).conversation())
        return Exchange(
            dialect=self.name,
            endpoint=inbound.path,
            model=model,
            messages=parse_input(raw_input, messages),
            body=body,
            headers=inbound.headers,
            tools=tools,
            server_tools=web_search.responses_searches(body.get("tools")),
            tool_choice=tool_choice,
            response_format=response_format,
            stream=bool(body.get("stream")),
            max_tokens=max_tokens,
            reasoning_effort=effort,
        )

    def cache_request(self, exchange: Exchange, tokenizer: Tokenizer) -> CacheRequest | None:
        return prompt_caching.cache_request(
            exchange, tokenizer, v.bearer_key(exchange.headers) or ""
        )

    def check_request(self, info: ModelInfo, exchange: Exchange) -> None:
        """OpenAI's reasoning models take no `temperature` or `top_p` but 1; its other models
        take no `reasoning.effort` (documented errors, worded as the API does)."""
        if vendor_of(exchange.model) != "openai":
            return
        body = exchange.body
        if info.reasoning:
            for param in ("temperature", "top_p"):
                value = body.get(param)
                if value is not None and value != 1:
                    raise unsupported_parameter(param)
        else:
            reasoning = body.get("reasoning")
            if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
                raise unsupported_parameter("reasoning.effort")

    def _previous(self, response_id: str) -> StoredResponse:
        stored = self.store.get(response_id)
        if stored is None:
            raise v.bad(
                f"Previous response with id '{response_id}' not found.",
                "previous_response_id",
                "previous_response_not_found",
            )
        return stored

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        choice = reply.choices[0] if reply.choices else None
        status = response_status(choice)
        output = output_items(reply, exchange, choice, status)
        body = response_envelope(reply, exchange, status)
        body["output"] = output
        body["usage"] = usage_body(reply)
        return body

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        # `render` in bytes, from parts made once per reply: only the ids and times differ
        # between occurrences of a memoized reply.
        parts = per_reply(exchange, "responses.body", reply, lambda: body_parts(reply, exchange))
        if parts is None:  # encrypted reasoning: an item's content depends on the reply key
            return orjson.dumps(self.render(reply, exchange))
        created = reply.created
        body = [
            b'{"id":"%s","object":"response","created_at":%d%s%s%s'
            % (
                make_response_id(reply).encode(),
                created,
                parts.before_completed,
                b"%d" % (created + 1) if parts.completed else b"null",
                parts.before_output,
            )
        ]
        for index, (prefix, label, rest) in enumerate(parts.items):
            item_id = object_id(prefix, reply, label).encode()
            body.append(b'%s{"id":"%s",%s' % (b"," if index else b"", item_id, rest))
        body.append(parts.tail)
        return b"".join(body)

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        options = exchange.body.get("stream_options")
        obfuscate = not (isinstance(options, dict) and options.get("include_obfuscation") is False)
        choice = reply.choices[0] if reply.choices else None
        return stream_frames(
            self.render(reply, exchange), choice, obfuscation_key=reply.key if obfuscate else None
        )

    def memoizable(self, exchange: Exchange) -> bool:
        # The history of `previous_response_id` comes from the store, which can change.
        return exchange.body.get("previous_response_id") is None

    def use_state(self, dialects: Dialects) -> None:
        self.store = dialects.response_store  # shared by every worker

    def remember(self, reply: Reply, exchange: Exchange) -> None:
        """Keep the response for `previous_response_id`, unless the request said `store: false`.

        The pipeline calls this once per reply, stream or not, before rendering.
        """
        if exchange.body.get("store") is not False:
            self.store.put(make_response_id(reply), exchange, reply)

    def retrieve(self, response_id: str) -> dict[str, Any]:
        """`GET /v1/responses/{id}`: the stored response body, or a 404 `APIError`."""
        stored = self.store.get(response_id)
        if stored is None:
            raise not_found(response_id)
        return self.render(stored.reply, stored.exchange)

    def delete(self, response_id: str) -> dict[str, Any]:
        """`DELETE /v1/responses/{id}`: forget a stored response, or a 404 `APIError`."""
        if not self.store.delete(response_id):
            raise not_found(response_id)
        return {"id": response_id, "object": "response", "deleted": True}

    def render_error(self, error: APIError) -> dict[str, Any]:
        return {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
            }
        }

    def stream_error_frame(self, error: APIError, sequence_number: int = 0) -> bytes:
        """The spec's `error` event; pass the number of events already sent."""
        payload = {
            "type": "error",
            "sequence_number": sequence_number,
            "code": error.code,
            "message": error.message,
            "param": error.param,
        }
        return sse_frame(payload, event="error")

    def failed_frames(
        self, reply: Reply, exchange: Exchange, error: APIError, sequence_number: int
    ) -> list[bytes]:
        """A `response.failed` event ending a stream cut after `sequence_number` events."""
        failed = in_progress(self.render(reply, exchange))
        failed["status"] = "failed"
        failed["error"] = {"code": failed_code(error), "message": error.message}
        return [terminal_frame(failed, sequence_number)]

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        return openai_headers(reply.key if reply is not None else None)


def unknown_parameter(param: str) -> APIError:
    return v.bad(f"Unknown parameter: '{param}'.", param, "unknown_parameter")


def render_input_tokens(input_tokens: int) -> dict[str, Any]:
    """`POST /v1/responses/input_tokens`: the prompt's token count."""
    return {"object": "response.input_tokens", "input_tokens": input_tokens}


def not_found(response_id: str) -> APIError:
    return APIError(
        404, f"Response with id '{response_id}' not found.", type="invalid_request_error"
    )


def failed_code(error: APIError) -> str:
    if error.code in FAILED_CODES:
        return str(error.code)
    return "rate_limit_exceeded" if error.status == 429 else "server_error"


def parse_text_format(text: Mapping[str, Any] | None) -> ResponseFormat:
    """`text.format` -> ResponseFormat (`{type: json_schema, name, schema, strict}` and others)."""
    if text is None:
        return ResponseFormat()
    v.one_of(
        v.typed(text, "verbosity", "string", param="text.verbosity"),
        ("low", "medium", "high"),
        "text.verbosity",
    )
    fmt = v.typed(text, "format", "object", param="text.format")
    if fmt is None:
        return ResponseFormat()
    kind = fmt.get("type")
    if kind is None:
        raise v.missing("text.format.type")
    v.one_of(kind, ("text", "json_schema", "json_object"), "text.format.type")
    if kind != "json_schema":
        return ResponseFormat(kind)
    name = v.typed(fmt, "name", "string", param="text.format.name")
    if name is None:
        raise v.missing("text.format.name")
    schema = v.typed(fmt, "schema", "object", param="text.format.schema")
    if schema is None:
        raise v.missing("text.format.schema")
    return ResponseFormat("json_schema", dict(schema), name, bool(fmt.get("strict")))


__all__ = ["ResponseStore", "ResponsesDialect", "make_response_id", "render_input_tokens"]
