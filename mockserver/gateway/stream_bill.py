"""Billing a stream from what was actually sent, as new-api bills what it relayed.

A stream that may not go out whole — a stream fault cuts it, or it is paced and the client
may leave — is settled when it ends: its prompt, plus one completion token per content event
sent (streams are cut on token boundaries, one piece per event), at most the reply's count;
one that sent nothing is refunded, as a failed request is.
A stream that goes out whole in one write is settled before it is sent
(`mockserver.http.generation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.reply import Usage
from mockserver.engine import latency

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mockserver.core.exchange import Exchange
    from mockserver.core.reply import Reply
    from mockserver.gateway.admission import Charge, Gateway
    from mockserver.journal.journal import Entry
    from mockserver.protocols.dialect import Dialect


def sent_usage(dialect: Dialect, reply: Reply, exchange: Exchange, events_sent: int) -> Usage:
    """The usage of the first `events_sent` events of the reply's stream."""
    full = reply.usage
    frames = dialect.render_stream(reply, exchange)
    if events_sent >= len(frames):
        return full
    lead = latency.first_content_frame(dialect, reply, exchange, frames)
    completion = min(full.completion_tokens, max(0, events_sent - lead))
    return Usage(full.prompt_tokens, completion, min(full.reasoning_tokens, completion))


class BilledStream:
    """An ASGI stream response that settles its charge once it has ended, however it ended."""

    __slots__ = ("app", "charge", "dialect", "entry", "exchange", "gateway", "reply")

    def __init__(
        self,
        app: ASGIApp,
        gateway: Gateway,
        charge: Charge,
        dialect: Dialect,
        reply: Reply,
        exchange: Exchange,
        entry: Entry,
    ) -> None:
        self.app, self.gateway, self.charge = app, gateway, charge
        self.dialect, self.reply, self.exchange, self.entry = dialect, reply, exchange, entry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            # Settled before the last message: a client that has the whole stream finds it
            # billed (and the journal entry, closed then too, carries the bill).
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.settle()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.settle()  # a cut or a client that left: no last message

    def settle(self) -> None:
        if self.charge.done:
            return
        if self.entry.events_sent == 0:  # nothing reached the client: a failed request
            self.gateway.refund(self.charge, self.entry)
        else:
            usage = sent_usage(self.dialect, self.reply, self.exchange, self.entry.events_sent)
            self.gateway.settle(self.charge, usage, self.entry)
