"""Anthropic Messages: `POST /v1/messages` and `POST /v1/messages/count_tokens`.

Requests are validated the way the live API validates them, with its wording: pydantic-style
locations ("messages.0.content.1.image.source.base64.media_type: Input should be ..."), unknown
fields rejected ("foo: Extra inputs are not permitted"), tool_use/tool_result pairing checked.
Responses are rendered by `anthropic_stream`. Also here: errors in Anthropic's shape, the
documented token-count approximation, and the Claude-shaped model list.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import orjson

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.model_families import vendor_of
from mockserver.core.reply import Reply
from mockserver.protocols.anthropic import caching, web_search
from mockserver.protocols.anthropic import errors as anthropic_errors
from mockserver.protocols.anthropic import parse as parsing
from mockserver.protocols.anthropic.stream import message_body, message_id, stream_frames
from mockserver.protocols.anthropic.validation import bad
from mockserver.protocols.dialect import Dialect, Inbound, per_reply, sse_frame
from mockserver.tokens import media_tokens

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.prompt_cache import CacheRequest
    from mockserver.faults.presets import ErrorContext
    from mockserver.gateway.ratelimit import Admission, Refusal
    from mockserver.tokens.tokenizer import Tokenizer

# Error `type` by HTTP status (docs.anthropic.com "Errors"). A neutral 503 is sent as Anthropic's
# 529 overloaded_error: the API has no 503, and 529 is what the SDK retries as "overloaded".
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
KNOWN_TYPES = frozenset(ERROR_TYPES.values())
OVERLOADED_STATUS = 529
RETRYABLE = frozenset({408, 409, 429})

# Token-count approximation (no public Claude tokenizer). The framing constants reproduce the
# docs' count_tokens example: system "You are a scientist" + user "Hello, Claude" -> 14 tokens
# (4 + 3 text tokens on o200k_base, + 1 system + 3 message + 3 reply priming).
SYSTEM_FRAMING = 1
MESSAGE_FRAMING = 3
REPLY_PRIMING = 3
# The hidden tool-use system prompt, per the docs' pricing table for the Claude 4 family.
TOOL_PROMPT_AUTO = 346  # tool_choice auto / none
TOOL_PROMPT_FORCED = 313  # tool_choice any / tool
# Images cost (width * height) / 750 tokens after Anthropic's resizing (media_tokens); one
# whose size is unknown (a URL or file source) counts as a 1024 x 1024 picture.
# A PDF page is billed as its text plus its image (1,500-3,000 tokens); one page is assumed.
PDF_TOKENS = 2000
TEXT_DOCUMENT_BYTES_PER_TOKEN = 4


class ModelFacts(Protocol):
    """What the model list needs from a catalog entry (`mockserver.catalog.ModelInfo` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def created(self) -> int: ...
    @property
    def context_window(self) -> int: ...
    @property
    def max_output_tokens(self) -> int: ...


class AnthropicDialect(Dialect):
    name: ClassVar[str] = "anthropic.messages"

    def preset_error(self, preset: str, context: ErrorContext, wait: float) -> APIError:
        return anthropic_errors.preset_error(preset, context)

    def rate_limit_headers(self, admission: Admission, clock: int) -> dict[str, str]:
        return anthropic_errors.rate_limit_headers(admission, clock)

    def rate_limit_error(self, refusal: Refusal, model: str, key: str | None) -> APIError:
        return anthropic_errors.rate_limit_error(refusal, key)

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        """A messages request; a count_tokens request when the path ends with /count_tokens."""
        if inbound.path.rstrip("/").endswith("/count_tokens"):
            return self.parse_count_tokens(body, inbound)
        return self._parse(body, inbound, counting=False)

    def parse_count_tokens(self, body: Any, inbound: Inbound) -> Exchange:
        """The count_tokens body: a messages body without `max_tokens`."""
        return self._parse(body, inbound, counting=True)

    def _parse(self, body: Any, inbound: Inbound, *, counting: bool) -> Exchange:
        require_headers(inbound)
        betas = parsing.beta_flags(inbound.headers.get("anthropic-beta"))
        request = parsing.parse_request(body, counting=counting, betas=betas)
        caching.check_breakpoints(request.body)
        return Exchange(
            dialect=self.name,
            endpoint=inbound.path,
            model=request.model,
            messages=request.messages,
            body=request.body,
            headers=inbound.headers,
            tools=request.tools,
            server_tools=web_search.server_tools(request.body.get("tools")),
            tool_choice=request.tool_choice,
            response_format=request.response_format,
            stream=request.stream and not counting,
            max_tokens=request.max_tokens,
            stop=request.stop,
            reasoning_effort=request.reasoning_effort,
            reasoning_budget=request.reasoning_budget,
        )

    def cache_request(self, exchange: Exchange, tokenizer: Tokenizer) -> CacheRequest | None:
        return caching.cache_request(exchange, tokenizer, api_key(exchange.headers) or "")

    def check_request(self, info: ModelInfo, exchange: Exchange) -> None:
        """A Claude that can't think refuses `thinking`, as the API does."""
        thinking = exchange.body.get("thinking")
        asked = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
        if asked and not info.reasoning and vendor_of(exchange.model) == "anthropic":
            raise APIError(
                400, f"'{exchange.model}' does not support thinking.", type="invalid_request_error"
            )

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        return message_body(reply, exchange)

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        choice = reply.choices[0]
        if choice.reasoning or choice.search:  # signed thinking, search ids: from the reply key
            return orjson.dumps(message_body(reply, exchange))
        # Otherwise only the message id (second, after the model) depends on it.
        rest = per_reply(exchange, "anthropic.rest", reply, lambda: _after_id(reply, exchange))
        head = b'{"model":%s,"id":"%s",' % (
            orjson.dumps(exchange.model),
            message_id(reply).encode(),
        )
        return head + rest[1:]

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        return stream_frames(reply, exchange)

    def render_error(self, error: APIError) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {"type": error_type(error), "message": error.message},
            "request_id": error_request_id(error),
        }

    def error_status(self, error: APIError) -> int:
        return OVERLOADED_STATUS if error.status == 503 else error.status

    def stream_error_frame(self, error: APIError, sequence_number: int = 0) -> bytes:
        """`event: error` with the error object and no request_id, as the live stream sends it."""
        payload = {"type": "error", "error": {"type": error_type(error), "message": error.message}}
        return sse_frame(payload, event="error")

    def invalid_json(self) -> APIError:
        return APIError(400, "The request body is not valid JSON.", type="invalid_request_error")

    def model_not_found(self, model: str) -> APIError:
        return APIError(404, f"model: {model}", type="not_found_error")

    def context_exceeded(self, limit: int, prompt: int, completion: int | None) -> APIError:
        if completion is None or prompt > limit:
            message = f"prompt is too long: {prompt} tokens > {limit} maximum"
        else:
            message = (
                f"input length and `max_tokens` exceed context limit: {prompt} + {completion} > "
                f"{limit}, decrease input length or `max_tokens` and try again"
            )
        return APIError(400, message, type="invalid_request_error")

    def prompt_tokens(self, exchange: Exchange, tokenizer: Tokenizer) -> int:
        """An OpenAI or Gemini model relayed by the gateway reports its own API's input count
        as `input_tokens` (new-api converts the upstream usage): its prompt is counted as that
        API counts it (text and images; documents keep Anthropic's counting)."""
        vendor = vendor_of(exchange.model)
        if vendor in ("openai", "google") and all(
            a.kind == "image" for m in exchange.messages for a in m.attachments
        ):
            if vendor == "openai":
                return super().prompt_tokens(exchange, tokenizer)
            from mockserver.protocols.gemini.extras import gemini_prompt_tokens

            return gemini_prompt_tokens(exchange, tokenizer)
        return prompt_tokens(exchange, tokenizer)

    def error_headers(self, error: APIError) -> dict[str, str]:
        return error_headers(error)

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        """`request-id` from the reply (or, with none, e.g. for count_tokens, from the request)
        and the organisation derived from the key. Errors take `error_headers(error)`."""
        headers: dict[str, str] = {}
        if reply is not None:
            headers["request-id"] = request_id(reply.key)
        elif exchange is not None:
            canonical = orjson.dumps(exchange.body, option=orjson.OPT_SORT_KEYS)
            headers["request-id"] = request_id(ids.digest(exchange.endpoint, canonical))
        if exchange is not None:
            organization = exchange.derived.get("anthropic.organization")
            if organization is None:
                key = api_key(exchange.headers)
                organization = exchange.derived["anthropic.organization"] = (
                    organization_id(key) if key else ""
                )
            if organization:
                headers["anthropic-organization-id"] = organization
        return headers


def _after_id(reply: Reply, exchange: Exchange) -> bytes:
    body = message_body(reply, exchange)
    return orjson.dumps({k: v for k, v in body.items() if k not in ("model", "id")})


# --- Headers -------------------------------------------------------------------------------

# The API rejects versions it doesn't know ("2023-06-01, 2023-06-01" is not one), but new ones
# keep coming (anthropic 2.x sends "2026-10-21"): any well-formed date from 2023 on is accepted.
VERSION = re.compile(r"^20[2-9]\d-[01]\d-[0-3]\d$")
OLDEST_VERSION = "2023-01-01"


def api_key(headers: Any) -> str | None:
    """`x-api-key`, else a Bearer token (the gateway accepts both)."""
    key = str(headers.get("x-api-key", "")).strip()
    if key:
        return key
    auth = str(headers.get("authorization", ""))
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    return None


def require_headers(inbound: Inbound) -> None:
    """A key (any non-empty one) and a valid `anthropic-version`, checked in the API's order."""
    if api_key(inbound.headers) is None:
        raise APIError(401, "x-api-key header is required", type="authentication_error")
    version = inbound.headers.get("anthropic-version", "").strip()
    if not version:
        raise bad("anthropic-version: header is required")
    if not VERSION.match(version) or version < OLDEST_VERSION:
        raise bad(f'anthropic-version: "{version}" is not a valid version')


def request_id(key: str) -> str:
    """`req_011C` + 20 base62 characters, like req_011CSarLLj2ZRbTy4cWexMjs."""
    return "req_011C" + ids.base62(key, "request-id", 20)


def organization_id(key: str) -> str:
    """A UUID derived from the API key: one organisation per key, stable across runs."""
    h = ids.hexchars(ids.digest(key), "organization", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def error_type(error: APIError) -> str:
    """Anthropic's error `type`: an Anthropic type set on the error wins, else the status's."""
    if error.type in KNOWN_TYPES and error.type != "invalid_request_error":
        return error.type
    if error.status in ERROR_TYPES:
        return ERROR_TYPES[error.status]
    return "api_error" if error.status >= 500 else "invalid_request_error"


def error_request_id(error: APIError) -> str:
    """Deterministic: derived from what the error says (an explicit `request_id` attribute wins)."""
    explicit = getattr(error, "request_id", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    return request_id(ids.digest(error.status, error_type(error), error.message))


def error_headers(error: APIError) -> dict[str, str]:
    """Headers for an error response: `request-id` (matching the body) and `x-should-retry`."""
    status = OVERLOADED_STATUS if error.status == 503 else error.status
    retry = status in RETRYABLE or status >= 500
    return {"request-id": error_request_id(error), "x-should-retry": "true" if retry else "false"}


# --- Token counting ------------------------------------------------------------------------


def prompt_tokens(exchange: Exchange, tokenizer: Tokenizer) -> int:
    """Input tokens, approximated on the model's tiktoken counter (see the constants above).

    The one count behind `usage.input_tokens`, `message_start` and `/v1/messages/count_tokens`.
    """
    total = REPLY_PRIMING
    for message in exchange.messages:
        framing = SYSTEM_FRAMING if message.role == "system" else MESSAGE_FRAMING
        total += framing + tokenizer.count(message.text)
        for call in message.tool_calls:
            total += tokenizer.count(call.name) + tokenizer.count(call.arguments)
        for attachment in message.attachments:
            if attachment.kind == "image":
                total += media_tokens.image_tokens(attachment, "anthropic")
            elif attachment.mime_type == "text/plain":
                total += -(-attachment.size // TEXT_DOCUMENT_BYTES_PER_TOKEN)
            else:
                total += PDF_TOKENS
    if exchange.tools:
        forced = exchange.tool_choice.mode in ("required", "function")
        total += TOOL_PROMPT_FORCED if forced else TOOL_PROMPT_AUTO
        for tool in exchange.tools:
            definition = {
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.parameters,
            }
            total += tokenizer.count(orjson.dumps(definition).decode())
    schema = exchange.response_format.schema
    if exchange.response_format.type == "json_schema" and schema is not None:
        total += tokenizer.count(orjson.dumps(schema).decode())
    return total


def render_count_tokens(n: int) -> dict[str, Any]:
    """The `/v1/messages/count_tokens` body."""
    return {"input_tokens": n}


# --- Model list (`GET /v1/models` with x-api-key + anthropic-version) ------------------------

_DATE_SUFFIX = re.compile(r"-(\d{8}|latest)$")


def display_name(model_id: str) -> str:
    """The model's human name, e.g. "claude-sonnet-4-5-20250929" -> "Claude Sonnet 4.5",
    "claude-3-5-haiku-20241022" -> "Claude Haiku 3.5" (the API's current wording)."""
    parts = _DATE_SUFFIX.sub("", model_id).split("-")
    numbers = [p for p in parts if p.isdigit()]
    words = [p.capitalize() for p in parts if not p.isdigit()]
    if words[:1] == ["Claude"] and numbers:
        return " ".join([*words, ".".join(numbers)])
    return " ".join(p.capitalize() for p in parts)


def rfc3339(timestamp: int) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_model(info: ModelFacts) -> dict[str, Any]:
    return {
        "type": "model",
        "id": info.id,
        "display_name": display_name(info.id),
        "created_at": rfc3339(info.created),
        "lifecycle": "active",
        "max_input_tokens": info.context_window,
        "max_tokens": info.max_output_tokens,
    }


def render_model_list(
    infos: Iterable[ModelFacts],
    *,
    limit: int = 20,
    after_id: str | None = None,
    before_id: str | None = None,
) -> dict[str, Any]:
    """One page of the list, newest first as the API sorts it (`limit` 1-1000, default 20)."""
    models = sorted(infos, key=lambda info: (-info.created, info.id))
    ordered: Sequence[ModelFacts] = models
    position = [info.id for info in models]
    if after_id in position:
        ordered = models[position.index(after_id) + 1 :]
    elif before_id in position:
        ordered = models[: position.index(before_id)]
        ordered = ordered[-limit:]
    page = [render_model(info) for info in ordered[:limit]]
    return {
        "data": page,
        "has_more": len(ordered) > limit
        or (before_id in position and position.index(before_id) > limit),
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
