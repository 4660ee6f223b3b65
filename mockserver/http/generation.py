"""A generation request (chat, messages, responses, generateContent...) answered over HTTP:
the body read, parsed and prepared (or found in the memo), admitted by the gateway, answered by
the engine (`mockserver.engine.pipeline`), rendered by the dialect and handed to delivery.
Journaling, the gateway's key check and errors are the wrapper's (`mockserver.http.journaled`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING

from mockserver.engine.pipeline import (
    inbound_from_scope,
    parse,
    parse_json,
    prepare,
    replay,
    respond,
)
from mockserver.http.delivery import Delivery, body_app, stream_app
from mockserver.http.journaled import Call, run
from mockserver.protocols.dialect import Dialect

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope

    from mockserver.server_state import MockState


def generate(
    scope: Scope,
    receive: Receive,
    dialect: Dialect,
    state: MockState,
    path_params: Mapping[str, str] | None = None,
) -> Awaitable[ASGIApp]:
    """Answer a generation request in `dialect`'s format.

    A request seen before (same path, query, headers and body) skips parsing and pricing, and
    when its rule's reply doesn't change between occurrences, composing too
    (`mockserver.engine.memo`). Returns `run`'s coroutine: one frame less on the hot path.
    """
    call = Call(state, scope, receive, dialect.name, dialect, path_params)
    return run(call, _generation, True)


async def _generation(call: Call) -> ASGIApp:
    state, scope, entry = call.state, call.scope, call.entry
    dialect = call.errors
    assert isinstance(dialect, Dialect)
    memo = state.memo
    raw = await call.body()
    key = memo.key(scope, raw)
    prepared = memo.prepared(key)
    inbound = None
    if prepared is None:
        inbound = inbound_from_scope(scope, call.path_params)
        body = parse_json(raw, dialect)
        entry.body = body
        exchange = parse(state, dialect, body, inbound, entry)
        prepared = prepare(state, dialect, exchange, body)
        if dialect.memoizable(exchange):
            memo.put(key, prepared)
    exchange = prepared.exchange
    if "chat_image_files" in exchange.derived:  # a chat answer links to pictures served here
        from mockserver.protocols.openai.chat_images import register_files

        register_files(state.media, exchange)
    if call.caller is not None:
        call.admit(
            exchange.model,
            prepared.prompt_tokens,
            exchange.max_tokens,
            claude=scope["path"].startswith("/v1/messages"),
            stream=exchange.stream,
        )
    entry.body = prepared.body
    entry.notes = exchange.notes
    if prepared.static is not None:
        reply = replay(state, dialect, prepared, entry)
        delivery = Delivery(latency=prepared.static.latency, key=reply.key)
    else:
        inbound = inbound or inbound_from_scope(scope, call.path_params)
        delivery = call.delivery = Delivery(inbound.headers, inbound.query)
        reply = respond(state, dialect, prepared, entry, delivery)
    headers = dialect.reply_headers(reply, exchange)
    headers.update(delivery.headers)
    if delivery.fault is None or delivery.fault.connection is None:
        entry.status = 200  # a broken connection answers no status at all
    charge = call.charge
    if charge is not None:
        if exchange.stream and (delivery.fault is not None or delivery.latency is not None):
            # It may not go out whole: billed from what was sent, once it has ended.
            from mockserver.gateway.stream_bill import BilledStream

            assert call.gateway is not None
            call.name_request(headers)
            app = stream_app(dialect, reply, exchange, headers, entry, delivery)
            return BilledStream(app, call.gateway, charge, dialect, reply, exchange, entry)
        if delivery.fault is not None and delivery.fault.connection is not None:
            call.name_request(headers)
            call.refund()  # the answer never arrives: a failed request
        else:
            call.settle(reply.usage, headers)
    if exchange.stream:
        return stream_app(dialect, reply, exchange, headers, entry, delivery)
    body_bytes = dialect.render_body(reply, exchange)
    return body_app(body_bytes, headers, reply.usage.completion_tokens, entry, delivery)
