"""A deadline on reading a request's head: a connection that trickles its headers is closed.

uvicorn closes a connection left idle after a response (`timeout_keep_alive`), but it has no
deadline for the head of a request: a client that connects and sends nothing, or one header
byte every few seconds ("slowloris"), holds its connection forever, and enough of them hold
every connection the server can take. Its options don't include one, and adding one inside
its protocol would mean subclassing its internal classes.

So `HeadDeadline` *wraps* the protocol uvicorn is configured with (composition; uvicorn's
public `http=` option takes any protocol class): it forwards every call, and follows the
bytes that come in with its own `httptools` parser (the library's public API) only to see
where each request head begins and ends. From a connection's start, and from the first byte
of each later request, the head must be complete within `HEAD_SECONDS`, or the transport is
closed (which the wrapped protocol hears as the client leaving).

A request only notes when its head began and ended; one `Sweep` per event loop looks over its
connections ten times per deadline and closes those past it (a timer armed and cancelled for
every request cost more than following its bytes).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools

HEAD_SECONDS = 10.0  # as Go's servers are commonly set (`ReadHeaderTimeout`); nginx allows 60
SWEEPS_PER_DEADLINE = 10  # a head is cut off between 1 and 1.1 deadlines after it began
INNER = "mockserver.http.connection:ConnectionTap"  # the protocol wrapped


# The sweep of each event loop with watched connections (servers in tests run several loops).
_sweeps: dict[asyncio.AbstractEventLoop, Sweep] = {}


def _inner_class() -> type[asyncio.Protocol]:
    from uvicorn.importer import import_from_string

    protocol: type[asyncio.Protocol] = import_from_string(INNER)
    return protocol


class HeadDeadline(asyncio.Protocol):
    """uvicorn's HTTP protocol, with a deadline on each request head."""

    def __init__(self, **options: Any) -> None:
        self.inner = _inner_class()(**options)
        self.loop = options.get("_loop") or asyncio.get_event_loop()
        self.transport: asyncio.BaseTransport | None = None
        # When the head being read began (the loop's clock); None between requests.
        self.head_began: float | None = None
        self.parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)

    # --- what the parser tells (httptools callbacks) -----------------------------------------

    def on_message_begin(self) -> None:
        if self.head_began is None:
            self.head_began = self.loop.time()

    def on_headers_complete(self) -> None:
        self.head_began = None

    # --- asyncio.Protocol, forwarded ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are no `asyncio.Transport` instances
        self.head_began = self.loop.time()
        Sweep.of(self.loop).watch(self)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.parser is not None:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:  # the rest is another protocol's
                self._stop_watching()
            except httptools.HttpParserError:  # the wrapped protocol answers 400 and closes
                self._stop_watching()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # ------------------------------------------------------------------------------------------

    def _stop_watching(self) -> None:
        self.head_began = None
        self.parser = None
        sweep = _sweeps.get(self.loop)
        if sweep is not None:
            sweep.forget(self)

    def expire_if_late(self, now: float) -> None:
        began = self.head_began
        if began is not None and now - began >= HEAD_SECONDS:
            self._stop_watching()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()


def watched(loop: asyncio.AbstractEventLoop) -> int:
    """How many connections on `loop` have their heads watched (none: no sweep is pending)."""
    sweep = _sweeps.get(loop)
    return 0 if sweep is None else len(sweep.watched)


class Sweep:
    """The connections of one event loop whose heads are watched, and the timer that looks
    over them while there are any."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.watched: set[HeadDeadline] = set()
        self.timer: asyncio.TimerHandle | None = None

    @staticmethod
    def of(loop: asyncio.AbstractEventLoop) -> Sweep:
        sweep = _sweeps.get(loop)
        if sweep is None:
            sweep = _sweeps[loop] = Sweep(loop)
        return sweep

    def watch(self, connection: HeadDeadline) -> None:
        self.watched.add(connection)
        if self.timer is None:
            self._schedule()

    def forget(self, connection: HeadDeadline) -> None:
        self.watched.discard(connection)
        if not self.watched:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            _sweeps.pop(self.loop, None)  # nothing held for a loop that ends

    def _schedule(self) -> None:
        self.timer = self.loop.call_later(HEAD_SECONDS / SWEEPS_PER_DEADLINE, self._run)

    def _run(self) -> None:
        self.timer = None
        now = self.loop.time()
        for connection in list(self.watched):
            connection.expire_if_late(now)
        if self.watched:
            self._schedule()
