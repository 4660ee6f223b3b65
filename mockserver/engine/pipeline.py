"""The flow of one generation request, the same for every dialect (DESIGN.md, "The flow"):

route → dialect.parse → gateway checks (model, context, rate limits) → match → reply or fault →
usage → render → transport → journal. Dialect-specific work happens only through the `Dialect`
methods; how the answer is sent (pacing, cuts, broken connections) is `mockserver.http.delivery`'s.

`prepare` does what follows from the request alone (parse, model, context) and `respond` the
rest; a request sent again starts from its memoized `Prepared`, and when its reply can't change
between occurrences, `replay` only stamps it anew (`mockserver.engine.memo`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from mockserver import faults
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.core.limits import MAX_JSON_DEPTH, json_too_deep
from mockserver.core.reply import Reply, Usage
from mockserver.core.secrets import redact_text
from mockserver.engine import latency
from mockserver.engine.compose import depends_on_key
from mockserver.engine.decide import retry_group
from mockserver.engine.memo import Prepared, StaticReply
from mockserver.http.delivery import Delivery
from mockserver.http.responses import RawResponse
from mockserver.journal.journal import Entry
from mockserver.protocols import leniency
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.scenario import near_misses
from mockserver.tokens.tokenizer import get_tokenizer

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

    from mockserver.engine.decide import Decision
    from mockserver.gateway.admission import Caller
    from mockserver.scenario import ReplySpec
    from mockserver.server_state import MockState


class ClientGone(APIError):
    """The client closed the connection before its body was in: journaled as 499 (nginx's
    "client closed request") and disconnected; the answer goes nowhere."""

    def __init__(self) -> None:
        super().__init__(499, "The client closed the connection before sending its whole body.")


async def read_body(receive: Receive, headers: Iterable[tuple[bytes, bytes]], limit: int) -> bytes:
    """The request body; a 413 past `limit` bytes, declared or sent; `ClientGone` when the
    client leaves first."""
    for name, value in headers:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise body_too_large(int(value), limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise body_too_large(size, limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_gateway_body(
    scope: Scope, receive: Receive, state: MockState, caller: Caller | None
) -> bytes:
    """`read_body`; in gateway mode, a body too large gets the gateway's error."""
    limit = state.settings.max_body_bytes
    try:
        return await read_body(receive, scope["headers"], limit)
    except APIError as error:
        if caller is None or error.status != 413 or state.gateway is None:
            raise
        raise state.gateway.body_too_large(caller, scope["path"], limit) from None


def parse_json(raw: bytes, dialect: Dialect) -> Any:
    """The body as JSON; the dialect's 400 for invalid JSON, and for JSON nested deeper than
    `MAX_JSON_DEPTH` (all that is accepted must be written again: journal, retry groups)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise dialect.invalid_json() from None
    if json_too_deep(raw, body):
        error = dialect.invalid_json()
        error.message = (
            f"{error.message.rstrip('.')}: the body nests more than {MAX_JSON_DEPTH} levels deep."
        )
        raise error
    return body


async def read_json(request: Request, state: MockState, dialect: Dialect) -> Any:
    """The request body as JSON; a vendor-shaped 400 for invalid JSON, 413 past the size limit."""
    raw = await read_body(request.receive, request.scope["headers"], state.settings.max_body_bytes)
    return parse_json(raw, dialect)


def body_too_large(size: int, limit: int) -> APIError:
    return APIError(
        413,
        f"Request body too large: {size} bytes exceeds the limit of {limit} bytes.",
        type="invalid_request_error",
        code="request_too_large",
    )


def inbound_of(request: Request) -> Inbound:
    return inbound_from_scope(request.scope, request.path_params)


def inbound_from_scope(scope: Scope, path_params: Mapping[str, str] | None = None) -> Inbound:
    """What a dialect may read besides the body. uvicorn lower-cases header names."""
    raw_query = scope["query_string"]
    return Inbound(
        path=scope["path"],
        method=scope["method"],
        headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
        query=dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True))
        if raw_query
        else {},
        path_params=dict(path_params or {}),
    )


def error_response(
    dialect: Dialect,
    error: APIError,
    entry: Entry | None = None,
    extra: dict[str, str] | None = None,
) -> RawResponse:
    body = getattr(error, "body", None)  # the gateway's own errors come written out
    # What the client sent may be quoted in the message (a near miss, a template's error).
    error.message = redact_text(error.message, entry.secrets if entry is not None else ())
    headers = dialect.error_headers(error) if body is None else {}
    headers.update(error.headers)
    if extra:
        headers.update(extra)
    status = dialect.error_status(error) if body is None else error.status
    if entry is not None:
        entry.status = status
        entry.disconnected = entry.disconnected or isinstance(error, ClientGone)
    return RawResponse(orjson.dumps(body or dialect.render_error(error)), status, headers)


def parse(
    state: MockState, dialect: Dialect, body: Any, inbound: Inbound, entry: Entry
) -> Exchange:
    """`dialect.parse`, lenient or strict on unknown fields as the scenarios say; what it didn't
    know goes to the journal entry (`mockserver.protocols.leniency`)."""
    with leniency.reading(strict=state.strict_validation) as notes:
        exchange = dialect.parse(body, inbound)
    exchange.notes = entry.notes = notes
    return exchange


def prepare(state: MockState, dialect: Dialect, exchange: Exchange, body: Any) -> Prepared:
    """The gateway's checks that depend on the request alone: a model this endpoint serves,
    parameters that model takes, and a prompt that fits its context window. A strict catalog
    refuses a name it doesn't list, unless a rule's `model` matches the request: rules decide
    first."""
    model = state.catalog.get(exchange.model)
    if model is None:
        model = state.catalog.inferred(exchange.model) if state.engine.names(exchange) else None
        if model is None:
            raise dialect.unknown_model(exchange)
    dialect.check_model(model)
    dialect.check_request(model, exchange)
    tokenizer = get_tokenizer(model.encoding)
    prompt_tokens = dialect.prompt_tokens(exchange, tokenizer)
    requested = exchange.max_tokens if dialect.context_includes_completion else None
    if prompt_tokens + (requested or 0) > model.context_window:
        raise dialect.context_exceeded(model.context_window, prompt_tokens, requested)
    return Prepared(exchange, body, model, tokenizer, prompt_tokens, retry_group(exchange))


def answer(
    state: MockState,
    dialect: Dialect,
    exchange: Exchange,
    entry: Entry,
    delivery: Delivery | None = None,
) -> Reply:
    """`prepare` and `respond` for one parsed request."""
    prepared = prepare(state, dialect, exchange, exchange.body)
    return respond(state, dialect, prepared, entry, delivery)


def respond(
    state: MockState,
    dialect: Dialect,
    prepared: Prepared,
    entry: Entry,
    delivery: Delivery | None = None,
) -> Reply:
    """Rate limits, matching, composing and usage for one prepared request. A status fault
    or a refused rate limit is raised as an `APIError`; what else concerns sending (headers,
    pacing, a stream cut) goes into `delivery`. A reply that will be the same on every
    occurrence is kept in `prepared.static` for `replay`."""
    exchange, model = prepared.exchange, prepared.model
    if delivery is None:
        delivery = Delivery(exchange.headers)
    entry.model = exchange.model
    entry.stream = exchange.stream
    forced = (
        faults.fault_from_headers(exchange.headers) if faults.HEADER in exchange.headers else None
    )
    engine = state.engine
    if engine.rate_limiter is not None:
        limit(state, dialect, exchange, entry, delivery, prepared.prompt_tokens)
    try:
        decision = engine.decide(exchange, forced, prepared.retry_group, prepared.near_misses)
    except APIError as error:
        if error.code == "mock_no_matching_rule":  # strict mode: journal why nothing matched
            entry.strict_miss = True
            entry.near_misses = [m.to_dict() for m in near_misses(engine.rules, exchange)]
        raise
    entry.rule = decision.rule
    entry.retry_group = decision.retry_group
    if decision.rule is None:
        prepared.near_misses = decision.near_misses
    entry.near_misses = [m.to_dict() for m in decision.near_misses]
    delivery.key = decision.key
    mode = latency.mode_of(state.settings.latency, state.scenarios.latency)
    realistic = latency.realistic(model.id) if mode == "realistic" else None
    rule_latency = latency.applied(decision.latency, mode)
    if realistic or model.latency or rule_latency:
        delivery.latency = latency.merge(realistic, model.latency, rule_latency)
    if decision.fault is not None:
        context = faults.ErrorContext(
            dialect, exchange.model, delivery.api_key, model.context_window, prepared.prompt_tokens
        )
        apply_fault(decision, exchange, entry, delivery, context)
    reply = engine.compose(
        decision,
        exchange,
        model,
        prepared.tokenizer,
        prepared.prompt_tokens,
        implicit_reasoning=dialect.implicit_reasoning,
    )
    if (
        decision.rule is not None
        and decision.same_every_time
        and decision.fault is None
        and engine.replays_statically
        and not depends_on_key(decision.reply, exchange.n)
    ):
        # The latency comes from the settings, the model and the rule: the same every time.
        prepared.static = StaticReply(decision.rule, reply.choices, reply.usage, delivery.latency)
    cache_prompt(state, dialect, prepared, reply)
    journal_usage(entry, reply.usage)
    dialect.remember(reply, exchange)
    return reply


def replay(state: MockState, dialect: Dialect, prepared: Prepared, entry: Entry) -> Reply:
    """The next occurrence of a request whose reply is `prepared.static`: only what differs
    between occurrences (the key, hence every id, and `created`) is made anew."""
    static = prepared.static
    assert static is not None
    exchange = prepared.exchange
    stamp = state.engine.stamp(prepared.retry_group, exchange.model)
    reply = Reply(static.choices, stamp.key, stamp.created, stamp.fingerprint, static.usage)
    reply.rule = static.rule
    entry.model = exchange.model
    entry.stream = exchange.stream
    entry.rule = static.rule
    entry.retry_group = prepared.retry_group
    cache_prompt(state, dialect, prepared, reply)
    journal_usage(entry, reply.usage)
    dialect.remember(reply, exchange)
    return reply


def cache_prompt(state: MockState, dialect: Dialect, prepared: Prepared, reply: Reply) -> None:
    """The prompt-cache reads and writes of this occurrence (`mockserver.engine.prompt_cache`);
    the dialect names the cacheable prefixes once per prepared request."""
    derived = prepared.exchange.derived
    if "prompt_cache" not in derived:
        derived["prompt_cache"] = dialect.cache_request(prepared.exchange, prepared.tokenizer)
    request = derived["prompt_cache"]
    if request is not None:
        reply.usage = state.prompt_cache.settle(request, reply.usage)


def journal_usage(entry: Entry, usage: Usage) -> None:
    entry.usage = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    if usage.cached_tokens or usage.cache_creation_tokens:  # prompt caching, when it counted
        entry.usage["cached_tokens"] = usage.cached_tokens
        entry.usage["cache_creation_tokens"] = usage.cache_creation_tokens


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
    from mockserver.gateway import ratelimit  # a rate limit exists: loaded with it

    limiter = state.engine.rate_limiter
    assert limiter is not None
    tokens = prompt_tokens + (exchange.max_tokens or 0)
    admission = limiter.admit(delivery.api_key, exchange.model, tokens)
    if admission is None:
        return
    delivery.headers.update(dialect.rate_limit_headers(admission, limiter.clock))
    delivery.headers.update(ratelimit.refusal_headers(admission))
    refusal = admission.refusal
    if refusal is not None:
        entry.fault = {"source": "rate_limit", "bucket": refusal.kind, "limit": refusal.limit}
        raise dialect.rate_limit_error(refusal, exchange.model, delivery.api_key)


def content_filtered(reply: ReplySpec | None) -> ReplySpec:
    """The `content_filter` preset: the reply (empty by default) ends with finish reason
    content_filter, which each dialect words its own way (refusal, SAFETY...)."""
    if reply is None:
        from mockserver.scenario.outcomes import ReplySpec

        return ReplySpec.model_validate({"content": "", "finish_reason": "content_filter"})
    if reply.choices is not None:
        choices = [c.model_copy(update={"finish_reason": "content_filter"}) for c in reply.choices]
        return reply.model_copy(update={"choices": choices})
    return reply.model_copy(update={"finish_reason": "content_filter"})
