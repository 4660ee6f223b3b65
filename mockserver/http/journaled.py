"""The one journaling wrapper every endpoint is answered through.

`journaled(...)` (an ASGI-level handler) and `journaled_endpoint(...)` (a Starlette endpoint)
open the request's journal entry, run the gateway's admission for relay routes (the key's
check; `Call.admit` takes the model's limits and pre-charge once the endpoint knows the
model), and turn an `APIError` into the endpoint's error shape, refunding what was taken.
`Call.settle` bills a finished answer; `closing` (used by the app for every request) sends the
entries to the journal's log when the answer's last byte goes out (their status, duration,
usage and bill complete by then) — on a shared store or with the request log on; a memory
journal holds them from the start, and only stamps their `done` time while a dashboard
watches.

Nothing vendor-specific lives here: an endpoint's error shape is its dialect's (or its task
family's render), and what the endpoint reads and answers is its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.errors import APIError
from mockserver.core.reply import Usage
from mockserver.engine.pipeline import error_response, read_gateway_body
from mockserver.gateway import access
from mockserver.gateway.errors import REQUEST_ID_HEADER
from mockserver.http import request_log
from mockserver.http.delivery import error_app
from mockserver.http.responses import sent_chunks
from mockserver.protocols.dialect import Dialect

if TYPE_CHECKING:
    from mockserver.gateway.admission import Caller, Charge, Gateway
    from mockserver.gateway.pricing import Price
    from mockserver.http.delivery import Delivery
    from mockserver.journal.journal import Closing, Entry
    from mockserver.server_state import MockState

# The scope's list of the request's journal entries while a dashboard watches (`closing`).
WATCHED = "mockserver.watched"
# How an endpoint words its errors: a dialect (`render_error` and friends), or a task family's
# own render.
Errors = Dialect | Callable[[APIError], Response]


class Call:
    """One request being answered: its journal entry, and in gateway mode its caller and charge.
    `delivery` is set by generations: its headers (rate limits) and latency apply to an error
    too."""

    __slots__ = (
        "caller",
        "charge",
        "delivery",
        "entry",
        "errors",
        "gateway",
        "path_params",
        "receive",
        "request",
        "scope",
        "state",
    )

    def __init__(
        self,
        state: MockState,
        scope: Scope,
        receive: Receive,
        name: str,
        errors: Errors,
        path_params: Mapping[str, str] | None = None,
        request: Request | None = None,
    ) -> None:
        self.state = state
        self.scope = scope
        self.receive = receive
        self.errors = errors
        self.path_params = path_params
        self.request = request
        self.entry: Entry = state.journal.open_raw(scope["method"], scope["path"], scope["headers"])
        self.entry.dialect = name
        watched = scope.get(WATCHED)
        if watched is not None:  # a dashboard watches: `closing` stamps the entry when answered
            self.entry.watched = True
            watched.append(self.entry)
        self.gateway: Gateway | None = state.gateway
        self.caller: Caller | None = None
        self.charge: Charge | None = None
        self.delivery: Delivery | None = None

    def body(self) -> Awaitable[bytes]:
        """The request body (a 413 past the size limit, the gateway's error in gateway mode).
        In gateway mode, the gateway's distributor reads the model from it first (its 400,
        403, 503 before the route validates anything). (Outside gateway mode the reader's own
        coroutine, returned: one frame less on the hot path.)"""
        if self.caller is None:
            return read_gateway_body(self.scope, self.receive, self.state, None)
        return self._distributed_body()

    async def _distributed_body(self) -> bytes:
        raw = await read_gateway_body(self.scope, self.receive, self.state, self.caller)
        assert self.gateway is not None and self.caller is not None
        access.distribute(self.gateway, self.caller, self.scope, raw)
        return raw

    def allow(self, model: str) -> None:
        """The gateway's checks of a model read from a form (multipart routes, whose body
        `body` doesn't read): the token's limits, a channel for its group. Nothing outside
        gateway mode."""
        if self.caller is not None:
            assert self.gateway is not None
            access.allow(self.gateway, self.caller, access.default_model(self.scope["path"], model))

    def admit(
        self,
        model: str,
        prompt_tokens: int = 0,
        max_tokens: int | None = None,
        *,
        claude: bool = False,
        stream: bool = False,
        quota: Callable[[Price], int] | None = None,
    ) -> None:
        """The gateway's admission of an authenticated caller: the key may use `model`, and
        its pre-charge is taken (refunded if the answer fails). Nothing outside gateway mode.
        `quota`: the pre-charge from the model's price, when the route prices it itself."""
        if self.caller is not None:
            assert self.gateway is not None
            self.charge = self.gateway.admit(
                self.caller,
                model,
                prompt_tokens,
                max_tokens,
                claude=claude,
                stream=stream,
                quota=quota,
            )

    def settle(
        self,
        usage: Usage,
        headers: dict[str, str],
        quota: Callable[[Price], int] | None = None,
    ) -> None:
        """Bill what the answer used, and name the gateway's request id in its headers.
        `quota`: what it cost from the model's price, when the route prices it itself."""
        if self.charge is not None:
            assert self.gateway is not None
            cost = quota(self.charge.price) if quota is not None else None
            self.gateway.settle(self.charge, usage, self.entry, cost)
            self.name_request(headers)

    def name_request(self, headers: dict[str, str]) -> None:
        """The gateway's request id, in an admitted answer's headers."""
        if self.charge is not None:
            headers[REQUEST_ID_HEADER] = self.charge.caller.request_id

    def refund(self) -> None:
        """Give back the pre-charge: the answer never arrives."""
        if self.charge is not None:
            assert self.gateway is not None
            self.gateway.refund(self.charge, self.entry)

    def failed(self, error: APIError) -> ASGIApp:
        """The error in the endpoint's shape, journaled, and the pre-charge given back."""
        self.refund()
        errors, entry, delivery = self.errors, self.entry, self.delivery
        if isinstance(errors, Dialect):
            if delivery is None:
                return error_response(errors, error, entry)
            return error_app(
                error_response(errors, error, entry, delivery.headers), entry, delivery
            )
        response = errors(error)
        entry.status = response.status_code
        return response


Answer = Callable[[Call], Awaitable[ASGIApp]]
Handler = Callable[[Scope, Receive], Awaitable[ASGIApp]]
Endpoint = Callable[[Request], Awaitable[ASGIApp]]


async def run(call: Call, answer: Answer, relay: bool) -> ASGIApp:
    """`answer` the call: the caller authenticated first on a relay route in gateway mode; an
    `APIError` sent in the endpoint's error shape; a status the answer didn't journal taken
    from its response."""
    try:
        if relay and call.gateway is not None:
            call.caller = call.gateway.authenticate(call.scope)
        response = await answer(call)
    except APIError as error:
        response = call.failed(error)
    else:
        if call.entry.status is None and isinstance(response, Response):
            call.entry.status = response.status_code
    call.entry.response = sent_chunks(response)
    return response


def journaled(
    state: MockState, name: str, answer: Answer, errors: Errors, *, relay: bool = False
) -> Handler:
    """An ASGI-level handler (a hot route) answering with `answer`, journaled under `name`."""

    def handle(scope: Scope, receive: Receive) -> Awaitable[ASGIApp]:
        return run(Call(state, scope, receive, name, errors), answer, relay)

    return handle


def journaled_endpoint(
    state: MockState, name: str, answer: Answer, errors: Errors, *, relay: bool = False
) -> Endpoint:
    """A Starlette endpoint answering with `answer` (which finds the `Request` in
    `call.request`), journaled under `name`."""

    async def endpoint(request: Request) -> ASGIApp:
        call = Call(
            state, request.scope, request.receive, name, errors, request.path_params, request
        )
        return await run(call, answer, relay)

    return endpoint


async def closing(
    state: MockState, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer one request with `app`; the journal entries it opened reach the journal's log
    when it has been answered — before its last byte, so that a client holding the whole
    response finds its request there, whichever worker it asks."""
    logged = request_log.enabled()
    journal = state.journal
    if not (state.shared or logged):
        # The memory journal holds its entries as they fill in: nothing to do once sent ...
        if not journal.watchers:
            await app(scope, receive, send)
            return
        # ... but the time they were answered, while a dashboard watches (`Call` lists the
        # request's entries in its scope).
        watched: list[Entry] = []
        scope[WATCHED] = watched
        try:
            await app(scope, receive, send)
        finally:
            journal.answered(watched)
        return
    with journal.closing() as block:
        send = closing_before_the_end(send, block)
        if logged:
            await request_log.answer(app, scope, receive, send, block.entries)
        else:
            await app(scope, receive, send)


def closing_before_the_end(send: Send, block: Closing) -> Send:
    """`send`, closing the request's journal entries before its response's last message."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            block.close()
        await send(message)

    return sending
