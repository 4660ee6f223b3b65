"""How an answer goes out: the body, stream or error a dialect rendered, with the request's
rate-limit headers, pacing and transport fault applied.

`pipeline.answer` fills a `Delivery` while it decides; `stream_app` / `body_app` / `error_app`
/ `broken_app` turn the rendered answer into the ASGI app that sends it. With nothing to apply
they return the plain fast responses (`RawResponse`, an unpaced `EventStream`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING

import orjson
from msgspec import Struct, field
from starlette.types import ASGIApp

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.engine import latency
from mockserver.engine.latency import Pacing
from mockserver.faults import Cut, cut_body, cut_stream, has_stream_fault
from mockserver.faults.stream import DEFAULT_STALL
from mockserver.faults.vendor import api_key_of
from mockserver.http.responses import (
    JSON_TYPE,
    BrokenConnection,
    Delayed,
    EventStream,
    RawResponse,
    mark,
)

if TYPE_CHECKING:
    from mockserver.core.exchange import Exchange
    from mockserver.core.reply import Reply
    from mockserver.journal.journal import Entry
    from mockserver.protocols.dialect import Dialect
    from mockserver.scenario import FaultSpec, LatencySpec

# A TLS alert record: what a client that speaks plain HTTP typically meets on a wrong port.
GARBAGE_PREFIX = b"\x15\x03\x03\x00\x02\x02\x28"


class Delivery(Struct):
    """What `answer` decided about sending, besides the reply itself. `request_headers` and
    `query` are where the caller's key is read from, only when something needs it."""

    request_headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)  # rate-limit headers, on any response
    fault: FaultSpec | None = None  # a stream cut or a broken connection
    stream_error: APIError | None = None  # what `error_event_after` sends
    latency: LatencySpec | None = None
    key: str = ""  # the reply key: seeds the latency draws

    @property
    def api_key(self) -> str | None:
        """The caller's key, for rate-limit buckets and error wording; never stored."""
        return api_key_of(self.request_headers, self.query)

    def draw(self) -> tuple[Pacing, random.Random]:
        rng = latency.rng_for(self.key or ids.digest("no-reply"))
        return latency.pacing(self.latency, rng), rng


def stream_app(
    dialect: Dialect,
    reply: Reply,
    exchange: Exchange,
    headers: dict[str, str],
    entry: Entry,
    delivery: Delivery,
) -> ASGIApp:
    frames = dialect.render_stream(reply, exchange)
    media_type = dialect.stream_media_type(exchange)
    fault = delivery.fault
    if fault is None and delivery.latency is None:
        return EventStream(frames, headers=headers, media_type=media_type, entry=entry)
    if fault is not None and fault.connection is not None:
        return broken_app(fault, entry, delivery)
    pacing, rng = delivery.draw()
    cut = Cut(frames)
    if fault is not None and has_stream_fault(fault):
        error = delivery.stream_error or APIError(500, "")
        cut = cut_stream(
            frames, fault, lambda n: error_frame(dialect, error, n, media_type.startswith(b"text"))
        )
    schedule = None
    if pacing.paces_events:
        lead = latency.first_content_frame(dialect, reply, exchange, frames)
        schedule = pacing.schedule(len(cut.frames), lead, rng)
    return EventStream(
        cut.frames,
        headers=headers,
        media_type=media_type,
        schedule=schedule,
        delay=pacing.delay,
        ending=cut.ending,
        stall_for=cut.stall_for,
        entry=entry,
        mark_fault=cut.at is not None,
        arrived=entry.at,
    )


def body_app(
    body: bytes, headers: dict[str, str], tokens: int, entry: Entry, delivery: Delivery
) -> ASGIApp:
    """A non-streamed reply of `tokens` completion tokens."""
    fault = delivery.fault
    if fault is None and delivery.latency is None:
        return RawResponse(body, 200, headers)
    if fault is not None and fault.connection is not None:
        return broken_app(fault, entry, delivery)
    pacing, rng = delivery.draw()
    wait = pacing.body_wait(tokens, rng)
    if fault is not None and has_stream_fault(fault):
        cut = cut_body(body, fault)
        return EventStream(
            cut.frames,
            headers=headers,
            media_type=JSON_TYPE,
            delay=wait,
            ending=cut.ending,
            stall_for=cut.stall_for,
            length=cut.length,
            entry=entry,
            mark_fault=True,
            arrived=entry.at,
        )
    response = RawResponse(body, 200, headers)
    return Delayed(response, wait, entry, entry.at) if wait > 0 else response


def error_app(response: RawResponse, entry: Entry, delivery: Delivery | None) -> ASGIApp:
    """An error response, after the profile's `delay` (errors don't stream tokens)."""
    mark(entry)
    if delivery is None or delivery.latency is None:
        return response
    pacing, _ = delivery.draw()
    return Delayed(response, pacing.delay, entry, entry.at) if pacing.delay > 0 else response


def broken_app(fault: FaultSpec, entry: Entry, delivery: Delivery) -> ASGIApp:
    assert fault.connection is not None
    pacing, _ = delivery.draw()
    return BrokenConnection(
        fault.connection,
        delay=pacing.delay,
        hold_for=DEFAULT_STALL if fault.stall_for is None else fault.stall_for,
        garbage=garbage(delivery.key),
        entry=entry,
        arrived=entry.at,
    )


def error_frame(dialect: Dialect, error: APIError, sent: int, sse: bool) -> bytes:
    """The dialect's in-stream error event as event number `sent`; a stream that is one JSON
    array (Gemini without `alt=sse`) ends with the error object as its last element."""
    if sse:
        return dialect.stream_error_frame(error, sent)
    return (b"[" if sent == 0 else b",\r\n") + orjson.dumps(dialect.render_error(error)) + b"]"


def garbage(key: str) -> bytes:
    """Deterministic bytes that no HTTP client can parse as a response."""
    return GARBAGE_PREFIX + bytes.fromhex(ids.digest(key, "garbage"))
