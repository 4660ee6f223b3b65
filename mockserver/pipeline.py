"""The flow of one generation request, the same for every dialect (DESIGN.md, "The flow"):

route → dialect.parse → gateway checks (model, context, rate limits) → match → reply or fault →
usage → render → transport → journal. Dialect-specific work happens only through the `Dialect`
methods; how the answer is sent (pacing, cuts, broken connections) is `mockserver.delivery`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request

from mockserver import faults, latency, ratelimit
from mockserver.delivery import Delivery, body_app, error_app, stream_app
from mockserver.dialects.base import Dialect, Inbound
from mockserver.errors import APIError
from mockserver.exchange import Exchange
from mockserver.faults.vendor import vendor_of
from mockserver.journal import Entry
from mockserver.reply import Reply
from mockserver.scenario import ReplySpec, near_misses
from mockserver.tokens import get_tokenizer
from mockserver.transport import RawResponse

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from mockserver.engine import Decision
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


def answer(
    state: MockState,
    dialect: Dialect,
    exchange: Exchange,
    entry: Entry,
    delivery: Delivery | None = None,
) -> Reply:
    """Gateway checks, matching, composing and usage for one parsed request. A status fault
    or a refused rate limit is raised as an `APIError`; what else concerns sending (headers,
    pacing, a stream cut) goes into `delivery`."""
    if delivery is None:
        delivery = Delivery(exchange.headers)
    entry.model = exchange.model
    entry.stream = exchange.stream
    forced = (
        faults.fault_from_headers(exchange.headers) if faults.HEADER in exchange.headers else None
    )
    model = state.catalog.get(exchange.model)
    if model is None:
        raise dialect.unknown_model(exchange)
    dialect.check_model(model)
    tokenizer = get_tokenizer(model.encoding)
    prompt_tokens = dialect.prompt_tokens(exchange, tokenizer)
    requested = exchange.max_tokens if dialect.context_includes_completion else None
    if prompt_tokens + (requested or 0) > model.context_window:
        raise dialect.context_exceeded(model.context_window, prompt_tokens, requested)
    if state.engine.rate_limiter is not None:
        limit(state, dialect, exchange, entry, delivery, prompt_tokens)
    try:
        decision = state.engine.decide(exchange, forced)
    except APIError as error:
        if error.code == "mock_no_matching_rule":  # strict mode: journal why nothing matched
            entry.strict_miss = True
            entry.near_misses = [m.to_dict() for m in near_misses(state.engine.rules, exchange)]
        raise
    entry.rule = decision.rule
    entry.retry_group = decision.retry_group
    entry.near_misses = [m.to_dict() for m in decision.near_misses]
    delivery.key = decision.key
    realistic = latency.realistic(model.id) if state.settings.latency == "realistic" else None
    if realistic or model.latency or decision.latency:
        delivery.latency = latency.merge(realistic, model.latency, decision.latency)
    if decision.fault is not None:
        context = faults.ErrorContext(
            dialect, exchange.model, delivery.api_key, model.context_window, prompt_tokens
        )
        apply_fault(decision, exchange, entry, delivery, context)
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


def apply_fault(
    decision: Decision,
    exchange: Exchange,
    entry: Entry,
    delivery: Delivery,
    context: faults.ErrorContext,
) -> None:
    """Journal the decided fault and do what it does before a reply is composed: raise the
    error of a status fault, filter the reply, or hand a cut, a broken connection and its
    latency to `delivery`."""
    fault = decision.fault
    assert fault is not None
    entry.fault = faults.summarize(fault, decision.fault_source)
    if fault.latency is not None:
        delivery.latency = latency.merge(delivery.latency, fault.latency)
    in_stream_error = fault.error_event_after is not None
    if faults.is_status(fault) or (in_stream_error and not exchange.stream):
        raise faults.status_error(faults.in_stream_error_spec(fault), context)
    if fault.preset == "content_filter":
        decision.reply = content_filtered(decision.reply)
    if fault.connection is not None or faults.has_stream_fault(fault):
        delivery.fault = fault
    if in_stream_error:
        delivery.stream_error = faults.status_error(faults.in_stream_error_spec(fault), context)


def limit(
    state: MockState,
    dialect: Dialect,
    exchange: Exchange,
    entry: Entry,
    delivery: Delivery,
    prompt_tokens: int,
) -> None:
    """Take the request from its rate-limit buckets; the vendor's 429 when one can't cover it.
    The request's tokens are its prompt plus `max_tokens` when it sets one (OpenAI's estimate).
    """
    limiter = state.engine.rate_limiter
    assert limiter is not None
    tokens = prompt_tokens + (exchange.max_tokens or 0)
    admission = limiter.admit(delivery.api_key, exchange.model, tokens)
    if admission is None:
        return
    vendor = vendor_of(dialect.name)
    delivery.headers.update(ratelimit.headers(admission, vendor, limiter.clock))
    refusal = admission.refusal
    if refusal is not None:
        entry.fault = {"source": "rate_limit", "bucket": refusal.kind, "limit": refusal.limit}
        raise ratelimit.refusal_error(refusal, vendor, exchange.model, delivery.api_key)


def content_filtered(reply: ReplySpec | None) -> ReplySpec:
    """The `content_filter` preset: the reply (empty by default) ends with finish reason
    content_filter, which each dialect words its own way (refusal, SAFETY...)."""
    if reply is None:
        return ReplySpec.model_validate({"content": "", "finish_reason": "content_filter"})
    if reply.choices is not None:
        choices = [c.model_copy(update={"finish_reason": "content_filter"}) for c in reply.choices]
        return reply.model_copy(update={"choices": choices})
    return reply.model_copy(update={"finish_reason": "content_filter"})


async def generate(request: Request, dialect: Dialect, state: MockState) -> ASGIApp:
    """Answer a generation request (chat, messages, responses, generateContent...)."""
    entry = state.journal.open(request.method, request.url.path, request.headers)
    entry.dialect = dialect.name
    delivery = Delivery(request.headers, request.query_params)
    try:
        body = await read_json(request, state, dialect)
        entry.body = body
        exchange = dialect.parse(body, inbound_of(request))
        reply = answer(state, dialect, exchange, entry, delivery)
    except APIError as error:
        return error_app(error_response(dialect, error, entry, delivery.headers), entry, delivery)
    headers = dialect.reply_headers(reply, exchange)
    headers.update(delivery.headers)
    if delivery.fault is None or delivery.fault.connection is None:
        entry.status = 200  # a broken connection answers no status at all
    if exchange.stream:
        return stream_app(dialect, reply, exchange, headers, entry, delivery)
    body_bytes = orjson.dumps(dialect.render(reply, exchange))
    return body_app(body_bytes, headers, reply.usage.completion_tokens, entry, delivery)
