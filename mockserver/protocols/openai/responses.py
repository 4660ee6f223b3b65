"""OpenAI Responses API: `POST /v1/responses`, and the routes around its stored responses.

    POST   /v1/responses                ResponsesDialect via the generation pipeline
    GET    /v1/responses/{id}           ResponsesDialect.retrieve(id)
    DELETE /v1/responses/{id}           ResponsesDialect.delete(id)
    POST   /v1/responses/input_tokens   parse, then render_input_tokens(prompt_tokens)

Shapes follow the official OpenAPI spec (`Response`, `ResponseStreamEvent`) and what the
openai-python SDK parses. Input items flatten to neutral messages: `instructions` first as a
system message, then the conversation of `previous_response_id` (from the dialect's store), then
`input`. Output is one optional reasoning item, one message item (text or refusal) unless the
reply is only tool calls, then one `function_call` item per call. Streams are cut from the
finished body by `responses_stream`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message, ResponseFormat
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Choice, Reply
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Dialect, Inbound, per_reply, sse_frame
from mockserver.protocols.openai import chat_outputs, prompt_caching, web_search
from mockserver.protocols.openai import validation as v
from mockserver.protocols.openai.chat import openai_headers, service_tier, unsupported_parameter
from mockserver.protocols.openai.response_store import ResponseStore, StoredResponse
from mockserver.protocols.openai.responses_input import (
    input_tools,
    parse_input,
    parse_tool_choice,
    parse_tools,
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
        parts = per_reply(exchange, "responses.body", reply, lambda: _body_parts(reply, exchange))
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
            item_id = _object_id(prefix, reply, label).encode()
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


def make_response_id(reply: Reply) -> str:
    return _object_id("resp", reply, "response")


def _object_id(prefix: str, reply: Reply, label: str) -> str:
    """Shaped like the live ids: `resp_67ccd3a9da748190baa7f15...` (48 hex characters).

    8 hex of the creation time, 4 random, `8190`, 16 random, then 16 shared by a response and
    every item in it (as in the live API, where an item's id ends like its response's).
    """
    global _minted
    key, created, start, tail, minted = _minted
    if key != reply.key or created != reply.created:
        # One digest gives the shared tail and the middles of the two ids every reply has.
        key, created = reply.key, reply.created
        digest = ids.hex_digest(key, "response-ids", 56)
        start, tail = f"{created & 0xFFFFFFFF:08x}", digest[:16]
        minted = {
            "response": f"resp_{start}{digest[16:20]}8190{digest[20:36]}{tail}",
            "message": f"msg_{start}{digest[36:40]}8190{digest[40:56]}{tail}",
        }
        _minted = (key, created, start, tail, minted)
    found = minted.get(label)
    if found is None:  # a label has one prefix: the whole id is kept
        middle = ids.hex_digest(key, label, 20)
        found = minted[label] = f"{prefix}_{start}{middle[:4]}8190{middle[4:]}{tail}"
    return found


# The ids of the latest reply: the pipeline stores a response, then renders it, and every item
# id shares the response's tail, so each part is derived once. Replaced whole, never mutated
# but for adding the id of a label, so threads at worst derive one twice.
_minted: tuple[str, int, str, str, dict[str, str]] = ("", 0, "", "", {})


def response_status(choice: Choice | None) -> str:
    if choice is not None and choice.finish_reason in ("length", "content_filter"):
        return "incomplete"
    return "completed"


def response_envelope(reply: Reply, exchange: Exchange, status: str) -> dict[str, Any]:
    """Every top-level field of the `Response` object except `output` and `usage`."""
    return {**_head(reply, exchange, status), **_echoed(exchange)}


def _head(reply: Reply, exchange: Exchange, status: str) -> dict[str, Any]:
    """The fields before the echoed settings: the reply's id, times and status."""
    choice = reply.choices[0] if reply.choices else None
    incomplete = None
    if status == "incomplete" and choice is not None:
        reason = (
            "content_filter" if choice.finish_reason == "content_filter" else "max_output_tokens"
        )
        incomplete = {"reason": reason}
    return {
        "id": make_response_id(reply),
        "object": "response",
        "created_at": reply.created,
        "status": status,
        "background": bool(exchange.body.get("background", False)),
        "completed_at": reply.created + 1 if status == "completed" else None,
        "error": None,
        "incomplete_details": incomplete,
    }


def _echoed(exchange: Exchange) -> dict[str, Any]:
    """The request's settings as every response to it echoes them."""
    echoed = exchange.derived.get("responses.echo")
    if echoed is None:
        echoed = exchange.derived["responses.echo"] = _echoed_settings(exchange)
    result: dict[str, Any] = echoed
    return result


def _echoed_settings(exchange: Exchange) -> dict[str, Any]:
    """The request's settings as the response echoes them: the same for every occurrence."""
    body = exchange.body
    reasoning = body.get("reasoning") or {}
    echoed: dict[str, Any] = {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": exchange.model,
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": reasoning.get("effort"), "summary": _summary_mode(body)},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": service_tier(body.get("service_tier")),
        "store": body.get("store") is not False,
        "temperature": _number(body.get("temperature"), 1.0),
        "text": _text_config(body.get("text")),
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": [_tool_echo(tool) for tool in body.get("tools") or []],
        "top_logprobs": body.get("top_logprobs") or 0,
        "top_p": _number(body.get("top_p"), 1.0),
        "truncation": body.get("truncation") or "disabled",
        "metadata": body.get("metadata") or {},
    }
    # The spec types `user` as a plain string: echo it only when one was sent.
    if isinstance(body.get("user"), str):
        echoed["user"] = body["user"]
    return echoed


def output_items(
    reply: Reply, exchange: Exchange, choice: Choice | None, status: str
) -> list[dict[str, Any]]:
    return [
        {"id": _object_id(prefix, reply, label), **item}
        for prefix, label, item in _unnamed_items(reply, exchange, choice, status)
    ]


def _unnamed_items(
    reply: Reply, exchange: Exchange, choice: Choice | None, status: str
) -> list[tuple[str, str, dict[str, Any]]]:
    """The output items without their ids, each with the id's prefix and label."""
    if choice is None:
        return []
    items: list[tuple[str, str, dict[str, Any]]] = []
    if choice.reasoning_tokens or choice.reasoning:
        items.append(("rs", "reasoning", _reasoning_item(reply, exchange, choice)))
    if choice.search is not None:
        items.append(("ws", "web_search_call", web_search.search_call(choice, exchange.body)))
    if choice.refusal is not None or choice.text is not None or not choice.tool_calls:
        if choice.refusal is not None:
            part: dict[str, Any] = {"type": "refusal", "refusal": choice.refusal}
        else:
            top = chat_outputs.responses_top_logprobs(exchange)
            part = {
                "type": "output_text",
                "annotations": web_search.citations(choice, nested=False),
                "logprobs": [] if top is None else chat_outputs.token_entries(choice, 0, top),
                "text": choice.text or "",
            }
        message = {"type": "message", "status": "completed", "content": [part], "role": "assistant"}
        items.append(("msg", "message", message))
    custom = {tool.name for tool in exchange.tools if tool.kind == "custom"}
    for index, call in enumerate(choice.tool_calls):
        if call.name in custom:  # a freeform tool: its call carries plain text
            custom_call = {
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call.id,
                "input": call.arguments,
                "name": call.name,
            }
            items.append(("ctc", f"custom_tool_call:{index}", custom_call))
            continue
        function_call = {
            "type": "function_call",
            "status": "completed",
            "arguments": call.arguments,
            "call_id": call.id,
            "name": call.name,
        }
        items.append(("fc", f"function_call:{index}", function_call))
    if status == "incomplete" and items and "status" in items[-1][2]:
        items[-1][2]["status"] = "incomplete"
    return items


class _BodyParts(NamedTuple):
    """A Responses body in the pieces that are the same for every occurrence of a reply,
    between the response id and `created_at`, `completed_at`, and the item ids."""

    before_completed: bytes  # ,"status":…,"completed_at":
    completed: bool  # `completed_at` is `created_at` + 1, else null
    before_output: bytes  # ,"error":…,<the echoed settings>,"output":[
    items: list[tuple[str, str, bytes]]  # id prefix, id label, the item after its id
    tail: bytes  # ],"usage":…}


def _body_parts(reply: Reply, exchange: Exchange) -> _BodyParts | None:
    """The parts of the body of `reply`; None when a reasoning item carries encrypted
    content, which is derived from the reply key."""
    choice = reply.choices[0] if reply.choices else None
    reasons = choice is not None and bool(choice.reasoning_tokens or choice.reasoning)
    if reasons and _encrypts_reasoning(exchange.body):
        return None
    status = response_status(choice)
    head = _head(reply, exchange, status)
    status_fields = orjson.dumps({"status": status, "background": head["background"]})
    rest = orjson.dumps({"error": None, "incomplete_details": head["incomplete_details"]})
    return _BodyParts(
        before_completed=b",%s," % status_fields[1:-1] + b'"completed_at":',
        completed=head["completed_at"] is not None,
        before_output=b',%s,%s,"output":[' % (rest[1:-1], orjson.dumps(_echoed(exchange))[1:-1]),
        items=[
            (prefix, label, orjson.dumps(item)[1:])
            for prefix, label, item in _unnamed_items(reply, exchange, choice, status)
        ],
        tail=b'],"usage":%s}' % orjson.dumps(usage_body(reply)),
    )


def _reasoning_item(reply: Reply, exchange: Exchange, choice: Choice) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "reasoning"}
    # Raw reasoning never leaves the live API; a summary does, when the request asks for one.
    if choice.reasoning and _summary_mode(exchange.body) is not None:
        item["summary"] = [{"type": "summary_text", "text": choice.reasoning}]
    else:
        item["summary"] = []
    if _encrypts_reasoning(exchange.body):
        item["encrypted_content"] = "gAAAAAB" + ids.base62(reply.key, "encrypted-reasoning", 120)
    return item


def _encrypts_reasoning(body: Mapping[str, Any]) -> bool:
    include = body.get("include")
    return isinstance(include, list) and "reasoning.encrypted_content" in include


def usage_body(reply: Reply) -> dict[str, Any]:
    usage = reply.usage
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


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


def _summary_mode(body: Mapping[str, Any]) -> str | None:
    reasoning = body.get("reasoning")
    if not isinstance(reasoning, dict):
        return None
    mode = reasoning.get("summary") or reasoning.get("generate_summary")
    return mode if isinstance(mode, str) else None


def _number(value: Any, default: float) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _text_config(text: Any) -> dict[str, Any]:
    fmt = text.get("format") if isinstance(text, dict) else None
    verbosity = text.get("verbosity") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        fmt = {"type": "text"}
    elif fmt.get("type") == "json_schema":
        fmt = {"strict": False, **fmt}
    return {"format": fmt, "verbosity": verbosity or "medium"}


def _tool_echo(tool: Any) -> Any:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        return tool
    return {
        "type": "function",
        "description": tool.get("description"),
        "name": tool.get("name"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict") if isinstance(tool.get("strict"), bool) else True,
    }


__all__ = ["ResponseStore", "ResponsesDialect", "make_response_id", "render_input_tokens"]
