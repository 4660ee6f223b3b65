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
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from msgspec import structs

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.dialect import Dialect, Inbound, per_reply
from mockserver.protocols.gemini import errors, grounding, hosted_tools
from mockserver.protocols.gemini import images as gemini_images
from mockserver.protocols.gemini import logprobs as gemini_logprobs
from mockserver.protocols.gemini.cached_contents import (
    CACHED_TOKENS,
    NOT_FOUND,
    CachedContents,
    read_into,
)
from mockserver.protocols.gemini.extras import gemini_prompt_tokens, prompt_details
from mockserver.protocols.gemini.proto import names, pick
from mockserver.protocols.gemini.request import read_generate_request

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
ARRAY_SEPARATOR = b"\r\n,\r\n"
FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
BLOCKED_RATINGS = [
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
]
HEADERS = {
    "vary": "Origin, X-Origin, Referer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "0",
}
_VERSION = re.compile(r"^/(v\d+(?:alpha|beta)?)/")
_LOWER = "abcdefghijklmnopqrstuvwxyz"
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


def include_thoughts(exchange: Exchange) -> bool:
    """Whether the request asked for thought summaries (`thinkingConfig.includeThoughts`)."""
    config = pick(exchange.body, "generationConfig")
    thinking = pick(config, "thinkingConfig") if isinstance(config, Mapping) else None
    return isinstance(thinking, Mapping) and pick(thinking, "includeThoughts") is True


def _before_id(reply: Reply, exchange: Exchange) -> dict[str, Any]:
    """A response's fields before `responseId`."""
    thoughts = include_thoughts(exchange)
    usage = reply.usage
    candidates = [_candidate(i, _parts(c, thoughts), c) for i, c in enumerate(reply.choices)]
    top = gemini_logprobs.requested(exchange.body)
    if top is not None:
        for index, (candidate, choice) in enumerate(zip(candidates, reply.choices, strict=True)):
            gemini_logprobs.add_logprobs(candidate, choice, index, top)
    if gemini_images.wants_image(exchange):
        gemini_images.add_images(candidates, exchange, [c.file for c in reply.choices])
    return {
        "candidates": candidates,
        "usageMetadata": _usage(
            usage.prompt_tokens,
            usage.completion_tokens - usage.reasoning_tokens,
            usage.reasoning_tokens,
            prompt_details(exchange, usage.prompt_tokens),
            usage.cached_tokens,
        ),
        "modelVersion": exchange.model,
    }


def response_id(reply: Reply) -> str:
    return ids.base62(reply.key, "gemini-response", 23)


def function_call_id(call_id: str) -> str:
    """Gemini-style call id (8 lower-case letters) derived from the neutral `call_...` id."""
    return "".join(_LOWER[ord(c) % 26] for c in ids.base62(call_id, "gemini-call", 8))


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
        return {**_before_id(reply, exchange), "responseId": response_id(reply)}

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        # Only the response id, which comes last, depends on the reply key.
        rest = per_reply(
            exchange, "gemini.rest", reply, lambda: orjson.dumps(_before_id(reply, exchange))
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


def render_stream_array(reply: Reply, exchange: Exchange) -> bytes:
    """The whole `streamGenerateContent` answer without `alt=sse`: one JSON array."""
    return b"".join(array_frames(stream_chunks(reply, exchange)))


def array_frames(chunks: list[dict[str, Any]]) -> list[bytes]:
    """A JSON array cut into frames: "[" + first, "\\r\\n,\\r\\n" + each next, then "]"."""
    if not chunks:
        return [b"[]"]
    frames = [b"[" + orjson.dumps(chunks[0])]
    frames.extend(ARRAY_SEPARATOR + orjson.dumps(chunk) for chunk in chunks[1:])
    frames.append(b"]")
    return frames


def array_error_frame(error: APIError) -> bytes:
    """The frame that ends a JSON-array stream with an error object."""
    return ARRAY_SEPARATOR + orjson.dumps(errors.error_body(error)) + b"]"


def _require_object(body: Any) -> None:
    if not isinstance(body, dict):
        problem = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
        raise errors.payload_errors([(None, problem)])


def _usage(
    prompt: int, candidates: int, thoughts: int, details: list[dict[str, Any]], cached: int = 0
) -> dict[str, Any]:
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if candidates:
        usage["candidatesTokenCount"] = candidates
    usage["totalTokenCount"] = prompt + candidates + thoughts
    if cached:
        usage["cachedContentTokenCount"] = cached
    if details:
        usage["promptTokensDetails"] = details
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _call_parts(choice: Choice) -> list[dict[str, Any]]:
    """Function calls as parts; a call whose arguments are not a JSON object (cut by the token
    limit) is left out: Gemini emits calls whole or not at all."""
    parts: list[dict[str, Any]] = []
    for call in choice.tool_calls:
        try:
            args = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError:
            continue
        if isinstance(args, dict):
            function_call = {"name": call.name, "args": args, "id": function_call_id(call.id)}
            parts.append({"functionCall": function_call})
    if parts and choice.reasoning_tokens:
        # Thinking models sign their first call; clients must send the signature back.
        parts[0]["thoughtSignature"] = _signature(choice.tool_calls[0].id)
    return parts


def _signature(call_id: str) -> str:
    """An opaque, valid base64 signature (the SDK decodes it) derived from the call id."""
    digest = hashlib.blake2b(f"{call_id}:thought-signature".encode(), digest_size=48).digest()
    return base64.b64encode(digest).decode()


def _parts(choice: Choice, thoughts: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if thoughts and choice.reasoning:
        parts.append({"text": choice.reasoning, "thought": True})
    parts.extend(hosted_tools.code_parts(choice))
    text = (choice.text or "") + (choice.refusal or "")
    if text:
        parts.append({"text": text})
    parts.extend(_call_parts(choice))
    return parts


def _candidate(
    index: int, parts: list[dict[str, Any]], choice: Choice | None = None
) -> dict[str, Any]:
    """A candidate; with `choice` it is the final one and carries `finishReason`. A blocked
    candidate (SAFETY) has no content, an empty one has a content with no parts."""
    finish = FINISH[choice.finish_reason] if choice is not None else None
    candidate: dict[str, Any] = {}
    if parts:
        candidate["content"] = {"parts": parts, "role": "model"}
    elif finish != "SAFETY":
        candidate["content"] = {"role": "model"}
    if finish is not None:
        candidate["finishReason"] = finish
    if choice is not None and choice.search is not None:
        candidate["groundingMetadata"] = grounding.grounding_metadata(choice)
    if choice is not None and choice.url_fetches:
        candidate["urlContextMetadata"] = hosted_tools.url_context_metadata(choice)
    candidate["index"] = index
    if finish == "SAFETY":
        candidate["safetyRatings"] = BLOCKED_RATINGS
    return candidate


def _share(total: int, done: int, count: int) -> int:
    return total if done >= count else total * done // count


def _choice_steps(
    index: int, choice: Choice, thoughts: bool
) -> list[tuple[dict[str, Any], int, int]]:
    """(candidate, visible tokens so far, thought tokens so far) for each chunk of a choice."""
    reasoning = choice.reasoning_tokens
    visible = choice.completion_tokens - reasoning
    thought_pieces = (choice.reasoning_pieces or [choice.reasoning or ""]) if thoughts else []
    thought_pieces = [piece for piece in thought_pieces if piece]
    text_pieces = choice.text_pieces or ([choice.text] if choice.text else [])
    text_pieces = text_pieces + (
        choice.refusal_pieces or ([choice.refusal] if choice.refusal else [])
    )
    calls = _call_parts(choice)
    steps: list[tuple[list[dict[str, Any]], int, int]] = []
    for t, piece in enumerate(thought_pieces):
        steps.append(
            ([{"text": piece, "thought": True}], 0, _share(reasoning, t + 1, len(thought_pieces)))
        )
    code = hosted_tools.code_parts(choice)
    if code:  # the run comes whole, before the answer
        steps.append((code, 0, reasoning))
    visible_steps = len(text_pieces) + (1 if calls else 0)
    for x, piece in enumerate(text_pieces):
        steps.append(([{"text": piece}], _share(visible, x + 1, visible_steps), reasoning))
    if calls or not steps:
        steps.append((calls, visible, reasoning))
    last = len(steps) - 1
    return [
        (_candidate(index, parts, choice if k == last else None), shown, thought)
        for k, (parts, shown, thought) in enumerate(steps)
    ]


def stream_chunks(reply: Reply, exchange: Exchange) -> list[dict[str, Any]]:
    """Every chunk of the stream as a GenerateContentResponse, candidates interleaved."""
    thoughts = include_thoughts(exchange)
    per_choice = [_choice_steps(i, c, thoughts) for i, c in enumerate(reply.choices)]
    usage = reply.usage
    details = prompt_details(exchange, usage.prompt_tokens)
    model, rid = exchange.model, response_id(reply)
    steps = max((len(s) for s in per_choice), default=0)
    chunks: list[dict[str, Any]] = []
    for k in range(steps):
        if k == steps - 1:
            shown, thought = (
                usage.completion_tokens - usage.reasoning_tokens,
                usage.reasoning_tokens,
            )
        else:
            shown = sum(s[min(k, len(s) - 1)][1] for s in per_choice)
            thought = sum(s[min(k, len(s) - 1)][2] for s in per_choice)
        chunks.append(
            {
                "candidates": [s[k][0] for s in per_choice if k < len(s)],
                "usageMetadata": _usage(
                    usage.prompt_tokens, shown, thought, details, usage.cached_tokens
                ),
                "modelVersion": model,
                "responseId": rid,
            }
        )
    if chunks and gemini_images.wants_image(exchange):
        return gemini_images.image_chunks(chunks, exchange, [c.file for c in reply.choices])
    return chunks
