"""Google Gemini: `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`.

The same routes exist under `/v1/` (google-genai 3.x calls `/v1/` by default). Shapes follow
python-genai's parsers and live streams quoted in public reports:

- a response is `{"candidates": [{"content": {"parts": [...], "role": "model"},
  "finishReason": "STOP", "index": 0}], "usageMetadata": {...}, "modelVersion", "responseId"}`;
  parts are thoughts (`{"text", "thought": true}`, only with `includeThoughts`), text, then
  `functionCall`s. `candidatesTokenCount` excludes thoughts; `thoughtsTokenCount` is separate.
- `?alt=sse` streams `data: <GenerateContentResponse>` events with CRLF line ends and no
  terminator; without it the stream is one JSON array. One chunk per text piece (the live API
  sends sentence-sized chunks; token pieces keep a paced stream smooth), function calls whole in
  the last chunk. Every chunk carries `usageMetadata` with running counts; only the last has
  `finishReason` and the final counts.
- a failure in the middle of an SSE stream is a `data: {"error": {...}}` event (python-genai
  raises on an event whose JSON starts with `{"error":`).

This module holds the dialect and the routes' words (model and action, API version, key); the
request is read by `request`, the body made by `response`, the chunks by `stream`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from msgspec import structs

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Reply
from mockserver.protocols.dialect import Dialect, Inbound, per_reply
from mockserver.protocols.gemini import errors, hosted_tools
from mockserver.protocols.gemini.cached_contents import (
    CACHED_TOKENS,
    NOT_FOUND,
    CachedContents,
    read_into,
)
from mockserver.protocols.gemini.extras import gemini_prompt_tokens
from mockserver.protocols.gemini.proto import names, pick
from mockserver.protocols.gemini.request import read_generate_request
from mockserver.protocols.gemini.response import (
    body_before_id,
    response_id,
)
from mockserver.protocols.gemini.stream import (
    array_frames,
    stream_chunks,
)

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.prompt_cache import CacheRequest
    from mockserver.faults.presets import ErrorContext
    from mockserver.gateway.ratelimit import Admission, Refusal
    from mockserver.server_state import Dialects
    from mockserver.tokens.tokenizer import Tokenizer

GENERATE = "generateContent"
STREAM = "streamGenerateContent"
SSE_SUFFIX = "?alt=sse"  # appended to Exchange.endpoint for `alt=sse` streams
SSE_MEDIA = b"text/event-stream"
ARRAY_MEDIA = b"application/json; charset=UTF-8"
HEADERS = {
    "vary": "Origin, X-Origin, Referer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "0",
}
_VERSION = re.compile(r"^/(v\d+(?:alpha|beta)?)/")
_COUNT_FIELDS = names("contents", "generateContentRequest")


def split_model_action(raw: str) -> tuple[str, str]:
    """`models/gemini-2.5-flash:generateContent` -> ("gemini-2.5-flash", "generateContent")."""
    model, _, action = raw.removeprefix("models/").partition(":")
    return model, action


def api_version(path: str) -> str:
    """The API version of a path: `/v1/models/x:generateContent` -> "v1"; default "v1beta"."""
    found = _VERSION.match(path)
    return found.group(1) if found else "v1beta"


def model_and_action(inbound: Inbound) -> tuple[str, str]:
    """From `path_params["model"]` ("gemini-2.5-flash:generateContent", with or without
    "models/"), an optional `path_params["action"]`, else the path's last segment."""
    raw = inbound.path_params.get("model") or inbound.path.rpartition("/")[2]
    model, action = split_model_action(raw)
    return model, inbound.path_params.get("action", action)


def api_key(inbound: Inbound) -> str | None:
    """The caller's key: `x-goog-api-key`, else `?key=`, else an OAuth bearer token."""
    key = inbound.headers.get("x-goog-api-key") or inbound.query.get("key")
    if key:
        return key
    scheme, _, token = inbound.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def thinking_budget_range(model: str) -> tuple[int, int] | None:
    """Google's documented `thinkingBudget` range of a 2.5 model (0 and -1 aside)."""
    if "2.5-pro" in model:
        return 128, 32768
    if "2.5-flash-lite" in model:
        return 512, 24576
    if "2.5-flash" in model:
        return 1, 24576
    return None


def require_api_key(inbound: Inbound) -> str:
    key = api_key(inbound)
    if key is None:
        raise errors.unregistered_caller()
    return key


def is_sse(exchange: Exchange) -> bool:
    return exchange.endpoint.endswith(SSE_SUFFIX)


class GeminiDialect(Dialect):
    name: ClassVar[str] = "gemini"
    # Gemini 2.5 and later think unless `thinkingBudget` is 0 (thoughtsTokenCount is reported
    # even when no thinkingConfig is sent).
    implicit_reasoning: ClassVar[bool] = True
    context_includes_completion: ClassVar[bool] = False

    def preset_error(self, preset: str, context: ErrorContext, wait: float) -> APIError:
        return errors.preset_error(preset)

    def generic_error(self, status: int, context: ErrorContext) -> APIError:
        return APIError(status, "")  # rendered with Google's default message for the status

    def rate_limit_headers(self, admission: Admission, clock: int) -> dict[str, str]:
        return {}  # Google sends none

    def rate_limit_error(self, refusal: Refusal, model: str, key: str | None) -> APIError:
        return APIError(429, errors.EXHAUSTED)

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        require_api_key(inbound)
        model, action = model_and_action(inbound)
        stream = action == STREAM
        endpoint = inbound.path + (
            SSE_SUFFIX if stream and inbound.query.get("alt") == "sse" else ""
        )
        exchange = self._exchange(body, inbound, model, endpoint, stream, "GenerateContentRequest")
        self._read_cache(exchange, inbound)
        return exchange

    def parse_count_tokens(self, body: Any, inbound: Inbound) -> Exchange:
        """`:countTokens` with `{"contents": [...]}` or `{"generateContentRequest": {...}}`."""
        require_api_key(inbound)
        model, _ = model_and_action(inbound)
        _require_object(body)
        unknown = [(None, errors.unknown_name(k, None)) for k in body if k not in _COUNT_FIELDS]
        if unknown:
            raise errors.payload_errors(unknown)
        inner = pick(body, "generateContentRequest")
        if isinstance(inner, dict):
            where = "CountTokensRequest.generate_content_request"
            exchange = self._exchange(inner, inbound, model, inbound.path, False, where)
            self._read_cache(exchange, inbound)
            return exchange
        contents = {"contents": body["contents"]} if "contents" in body else {}
        return self._exchange(contents, inbound, model, inbound.path, False, "CountTokensRequest")

    def _exchange(
        self, body: Any, inbound: Inbound, model: str, endpoint: str, stream: bool, request: str
    ) -> Exchange:
        _require_object(body)
        parsed = read_generate_request(body, api_version(inbound.path), request)
        return Exchange(
            dialect=self.name,
            endpoint=endpoint,
            model=model,
            messages=parsed.messages,
            body=body,
            headers=inbound.headers,
            tools=parsed.tools,
            server_tools=hosted_tools.server_tools(body),
            tool_choice=parsed.tool_choice,
            response_format=parsed.response_format,
            stream=stream,
            n=parsed.n,
            max_tokens=parsed.max_tokens,
            stop=parsed.stop,
            reasoning_effort=parsed.reasoning_effort,
            reasoning_budget=parsed.reasoning_budget,
            seed=parsed.seed,
        )

    caches: CachedContents | None = None  # explicit caches, shared by every worker

    def use_state(self, dialects: Dialects) -> None:
        self.caches = dialects.gemini_caches

    def _read_cache(self, exchange: Exchange, inbound: Inbound) -> None:
        if "cachedContent" not in exchange.body:
            return
        if self.caches is None:  # a dialect used on its own knows no cache
            raise errors.GeminiError(403, NOT_FOUND)
        read_into(exchange, self.caches, ids.digest(api_key(inbound) or ""))

    def memoizable(self, exchange: Exchange) -> bool:
        return "cachedContent" not in exchange.body  # a cache comes and goes

    def remember(self, reply: Reply, exchange: Exchange) -> None:
        """A request naming a cache reads all of it (`cachedContentTokenCount`)."""
        cached = exchange.derived.get(CACHED_TOKENS)
        if cached:
            reply.usage = structs.replace(reply.usage, cached_tokens=cached)

    def cache_request(self, exchange: Exchange, tokenizer: Tokenizer) -> CacheRequest | None:
        if CACHED_TOKENS in exchange.derived:
            return None  # explicitly cached: nothing implicit on top
        from mockserver.protocols.gemini import caching  # counted when a reply is

        headers = exchange.headers  # a `?key=` key isn't kept: such callers share one cache
        key = headers.get("x-goog-api-key") or headers.get("authorization", "")
        return caching.cache_request(exchange, tokenizer, key)

    def check_request(self, info: ModelInfo, exchange: Exchange) -> None:
        """Gemini 2.5 Pro only works thinking: a budget of 0 is Google's 400; a budget out of
        a 2.5 model's documented range too."""
        budget = exchange.reasoning_budget
        if budget == 0 and "2.5-pro" in exchange.model:
            raise errors.GeminiError(
                400, "Budget 0 is invalid. This model only works in thinking mode."
            )
        limits = thinking_budget_range(exchange.model)
        if budget and limits is not None and not limits[0] <= budget <= limits[1]:
            raise errors.GeminiError(400, f"The thinking budget ({budget}) is invalid.")

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        return {**body_before_id(reply, exchange), "responseId": response_id(reply)}

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        # Only the response id, which comes last, depends on the reply key.
        rest = per_reply(
            exchange, "gemini.rest", reply, lambda: orjson.dumps(body_before_id(reply, exchange))
        )
        return b'%s,"responseId":"%s"}' % (rest[:-1], response_id(reply).encode())

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        chunks = stream_chunks(reply, exchange)
        if is_sse(exchange):
            return [b"data: " + orjson.dumps(chunk) + b"\r\n\r\n" for chunk in chunks]
        return array_frames(chunks)

    def stream_media_type(self, exchange: Exchange) -> bytes:
        return SSE_MEDIA if is_sse(exchange) else ARRAY_MEDIA

    def render_error(self, error: APIError) -> dict[str, Any]:
        return errors.error_body(error)

    def error_status(self, error: APIError) -> int:
        return errors.wire_status(error)

    def stream_error_frame(self, error: APIError, sequence_number: int = 0) -> bytes:
        return b"data: " + orjson.dumps(errors.error_body(error)) + b"\r\n\r\n"

    def invalid_json(self) -> APIError:
        return errors.invalid_json()

    def unknown_model(self, exchange: Exchange) -> APIError:
        """Google names the API version and method that were called."""
        path = exchange.endpoint.removesuffix(SSE_SUFFIX)
        action = path.rpartition(":")[2] or "generateContent"
        return self.model_not_found(exchange.model, action, api_version(path))

    def model_not_found(
        self, model: str, action: str = GENERATE, version: str = "v1beta"
    ) -> APIError:
        return errors.model_not_found(model, action, version)

    def context_exceeded(self, limit: int, prompt: int, completion: int | None) -> APIError:
        return errors.input_too_long(prompt, limit)  # Gemini limits the input only

    def prompt_tokens(self, exchange: Exchange, tokenizer: Tokenizer) -> int:
        return gemini_prompt_tokens(exchange, tokenizer)

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        return dict(HEADERS)


def _require_object(body: Any) -> None:
    if not isinstance(body, dict):
        problem = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
        raise errors.payload_errors([(None, problem)])
