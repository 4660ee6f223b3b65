"""What a dialect is: one vendor wire format, translated to and from the neutral types.

A dialect module defines a `Dialect` subclass; `protocols/registry.py` names it and the routes
it answers. Nothing outside `mockserver/protocols/` knows a vendor's field names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import orjson
from msgspec import Struct, field

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Reply

if TYPE_CHECKING:
    from mockserver.core.catalog import ModelInfo
    from mockserver.engine.prompt_cache import CacheRequest
    from mockserver.faults.presets import ErrorContext
    from mockserver.gateway.ratelimit import Admission, Refusal
    from mockserver.server_state import Dialects
    from mockserver.tokens.tokenizer import Tokenizer


class Inbound(Struct):
    """What a dialect may read from the HTTP request besides the JSON body."""

    path: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    query: Mapping[str, str] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)


class Dialect:
    """Base class: subclasses override `parse`, `render`, `render_stream` and the error hooks."""

    name: ClassVar[str] = "base"
    # Whether a thinking-capable model thinks here when the request doesn't ask, whatever the
    # model's own habit (Gemini's own route thinks dynamically; models that always reason, such
    # as OpenAI's o-series, say so in the catalog: `reasons_by_default`).
    implicit_reasoning: ClassVar[bool] = False
    # Whether the context window must hold the prompt plus the requested completion (OpenAI,
    # Anthropic) or only the prompt (Gemini).
    context_includes_completion: ClassVar[bool] = True

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        raise NotImplementedError

    def render(self, reply: Reply, exchange: Exchange) -> dict[str, Any]:
        raise NotImplementedError

    def render_body(self, reply: Reply, exchange: Exchange) -> bytes:
        """`render` as the bytes sent."""
        return orjson.dumps(self.render(reply, exchange))

    def render_stream(self, reply: Reply, exchange: Exchange) -> list[bytes]:
        """The whole stream as SSE frames, one complete event per item, terminator included."""
        raise NotImplementedError

    def render_error(self, error: APIError) -> dict[str, Any]:
        raise NotImplementedError

    def error_status(self, error: APIError) -> int:
        return error.status

    def stream_error_frame(self, error: APIError, sequence_number: int = 0) -> bytes:
        """The in-stream error event this vendor sends when a stream fails half-way;
        `sequence_number` is the number of events already sent (Responses numbers its events)."""
        return sse_frame(self.render_error(error))

    def stream_media_type(self, exchange: Exchange) -> bytes:
        """Content type of a streamed reply (Gemini's stream without `alt=sse` is a JSON array)."""
        return b"text/event-stream; charset=utf-8"

    def invalid_json(self) -> APIError:
        """The error for a body that is not JSON (OpenAI's wording by default)."""
        from mockserver.protocols.openai.validation import INVALID_JSON

        return APIError(400, INVALID_JSON, type="invalid_request_error")

    def memoizable(self, exchange: Exchange) -> bool:
        """Whether the exchange follows from the request alone (`mockserver.engine.memo`), not from
        server-side state that may change (a stored conversation)."""
        return True

    def cache_request(self, exchange: Exchange, tokenizer: Tokenizer) -> CacheRequest | None:
        """The prompt's cacheable prefixes (`mockserver.engine.prompt_cache`); None: no caching."""
        return None

    def remember(self, reply: Reply, exchange: Exchange) -> None:
        """Called once per produced reply; dialects with server-side state (Responses) keep it."""

    def use_state(self, dialects: Dialects) -> None:
        """Take the server-side state this dialect keeps from the server's (shared) store."""

    def check_model(self, info: ModelInfo) -> None:
        """Refuse a known model this endpoint doesn't serve (raise the vendor's APIError)."""

    def check_request(self, info: ModelInfo, exchange: Exchange) -> None:
        """Refuse a parameter the model doesn't take, as the vendor does (`max_tokens` on
        OpenAI's reasoning models, thinking on a Claude that can't)."""

    def unknown_model(self, exchange: Exchange) -> APIError:
        """The error for a parsed request naming a model the catalog doesn't know."""
        return self.model_not_found(exchange.model)

    def model_not_found(self, model: str) -> APIError:
        """The error for a model the catalog doesn't know (OpenAI's wording by default)."""
        return APIError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            type="invalid_request_error",
            code="model_not_found",
        )

    def context_exceeded(self, limit: int, prompt: int, completion: int | None) -> APIError:
        """The error for a prompt (plus requested completion) over the model's context window."""
        if completion is None:
            detail = (
                f"However, your messages resulted in {prompt} tokens. "
                "Please reduce the length of the messages."
            )
        else:
            detail = (
                f"However, you requested {prompt + completion} tokens ({prompt} in the messages, "
                f"{completion} in the completion). Please reduce the length of the messages or "
                "completion."
            )
        return APIError(
            400,
            f"This model's maximum context length is {limit} tokens. {detail}",
            type="invalid_request_error",
            param="messages",
            code="context_length_exceeded",
        )

    def prompt_tokens(self, exchange: Exchange, tokenizer: Tokenizer) -> int:
        """Input tokens of the request; OpenAI's chat framing unless the vendor counts otherwise."""
        from mockserver.tokens.chat_framing import chat_prompt_tokens

        return chat_prompt_tokens(exchange, tokenizer)

    def reply_headers(self, reply: Reply | None, exchange: Exchange | None) -> dict[str, str]:
        """Headers the vendor puts on every response (request ids, versions)."""
        return {}

    def error_headers(self, error: APIError) -> dict[str, str]:
        """Headers on an error response (before the error's own, such as `retry-after`)."""
        return self.reply_headers(None, None)

    # --- The vendor's words for failures a scenario names (faults.presets, gateway.ratelimit).
    # OpenAI's by default; other vendors override.

    def preset_error(self, preset: str, context: ErrorContext, wait: float) -> APIError:
        """The error a named preset (`rate_limit`, `overloaded`, `server_error`, `invalid_key`,
        `insufficient_quota`) answers with; `wait` is the delay a rate-limit message asks for."""
        from mockserver.protocols.openai import errors

        return errors.preset_error(preset, context, wait)

    def generic_error(self, status: int, context: ErrorContext) -> APIError:
        """A status no preset describes: the HTTP reason phrase."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return APIError(status, phrase)

    def rate_limit_headers(self, admission: Admission, clock: int) -> dict[str, str]:
        """The rate-limit headers of a response of a limited key."""
        from mockserver.protocols.openai import errors

        return errors.rate_limit_headers(admission)

    def rate_limit_error(self, refusal: Refusal, model: str, key: str | None) -> APIError:
        """The 429 of a request its rate-limit bucket refused."""
        from mockserver.protocols.openai import errors

        return errors.rate_limit_error(refusal, model, key)


T = TypeVar("T")


def per_reply(exchange: Exchange, name: str, reply: Reply, make: Callable[[], T]) -> T:
    """`make()`, kept with the exchange for as long as the reply's choices and usage are the
    very same objects — which they are for every occurrence of a memoized static reply
    (`mockserver.engine.memo`). Renderers keep there what doesn't depend on the reply key."""
    cached = exchange.derived.get(name)
    if cached is None or cached[0] is not reply.choices or cached[1] is not reply.usage:
        cached = exchange.derived[name] = (reply.choices, reply.usage, make())
    value: T = cached[2]
    return value


def sse_frame(payload: Any, event: str | None = None) -> bytes:
    """One SSE event: optional `event:` line, one `data:` line, blank line."""
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"
