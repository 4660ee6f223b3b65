"""The flow of one generation request, the same for every dialect (DESIGN.md, "The flow"):

route → dialect.parse → gateway checks → match → reply or fault → usage → render → transport →
journal. Dialect-specific work happens only through the `Dialect` methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request

from mockserver import faults
from mockserver.dialects.base import Dialect, Inbound
from mockserver.errors import APIError
from mockserver.exchange import Exchange
from mockserver.journal import Entry
from mockserver.reply import Reply
from mockserver.tokens import get_tokenizer
from mockserver.transport import EventStream, RawResponse

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from mockserver.state import MockState


async def read_json(request: Request, state: MockState, dialect: Dialect) -> Any:
    """The request body as JSON; a vendor-shaped 400 for invalid JSON, 413 past the size limit."""
    limit = state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise body_too_large(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large(size, limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise dialect.invalid_json() from None


def body_too_large(size: int, limit: int) -> APIError:
    return APIError(
        413,
        f"Request body too large: {size} bytes exceeds the limit of {limit} bytes.",
        type="invalid_request_error",
        code="request_too_large",
    )


def inbound_of(request: Request) -> Inbound:
    return Inbound(
        path=request.url.path,
        method=request.method,
        headers=dict(request.headers),  # starlette lower-cases names
        query=dict(request.query_params),
        path_params=dict(request.path_params),
    )


def error_response(
    dialect: Dialect,
    error: APIError,
    entry: Entry | None = None,
    extra: dict[str, str] | None = None,
) -> RawResponse:
    headers = dialect.error_headers(error)
    headers.update(error.headers)
    if extra:
        headers.update(extra)
    status = dialect.error_status(error)
    if entry is not None:
        entry.status = status
    return RawResponse(orjson.dumps(dialect.render_error(error)), status, headers)


def answer(state: MockState, dialect: Dialect, exchange: Exchange, entry: Entry) -> Reply:
    """Gateway checks, matching, composing and usage for one parsed request."""
    entry.model = exchange.model
    entry.stream = exchange.stream
    model = state.catalog.get(exchange.model)
    if model is None:
        raise dialect.model_not_found(exchange.model)
    dialect.check_model(model)
    tokenizer = get_tokenizer(model.encoding)
    prompt_tokens = dialect.prompt_tokens(exchange, tokenizer)
    requested = exchange.max_tokens if dialect.context_includes_completion else None
    if prompt_tokens + (requested or 0) > model.context_window:
        raise dialect.context_exceeded(model.context_window, prompt_tokens, requested)
    decision = state.engine.decide(exchange)
    entry.rule = decision.rule
    entry.retry_group = decision.retry_group
    entry.near_misses = [m.to_dict() for m in decision.near_misses]
    if decision.fault is not None:
        entry.fault = faults.summarize(decision.fault)
        raise faults.status_error(decision.fault)
    reply = state.engine.compose(
        decision,
        exchange,
        model,
        tokenizer,
        prompt_tokens,
        implicit_reasoning=dialect.implicit_reasoning,
    )
    usage = reply.usage
    entry.usage = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    dialect.remember(reply, exchange)
    return reply


async def generate(request: Request, dialect: Dialect, state: MockState) -> ASGIApp:
    """Answer a generation request (chat, messages, responses, generateContent...)."""
    entry = state.journal.open(request.method, request.url.path, request.headers)
    entry.dialect = dialect.name
    try:
        body = await read_json(request, state, dialect)
        entry.body = body
        exchange = dialect.parse(body, inbound_of(request))
        reply = answer(state, dialect, exchange, entry)
    except APIError as error:
        return error_response(dialect, error, entry)
    headers = dialect.reply_headers(reply, exchange)
    entry.status = 200
    if exchange.stream:
        frames = dialect.render_stream(reply, exchange)
        entry.events_sent = len(frames)
        return EventStream(frames, headers=headers, media_type=dialect.stream_media_type(exchange))
    return RawResponse(orjson.dumps(dialect.render(reply, exchange)), 200, headers)
