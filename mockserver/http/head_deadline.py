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
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools

HEAD_SECONDS = 10.0  # as Go's servers are commonly set (`ReadHeaderTimeout`); nginx allows 60
INNER = "mockserver.http.connection:ConnectionTap"  # the protocol wrapped


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
        self.timer: asyncio.TimerHandle | None = None
        self.parser: httptools.HttpRequestParser | None = httptools.HttpRequestParser(self)

    # --- what the parser tells (httptools callbacks) -----------------------------------------

    def on_message_begin(self) -> None:
        if self.timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()

    # --- asyncio.Protocol, forwarded ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are no `asyncio.Transport` instances
        self._arm()
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

    def _arm(self) -> None:
        self._disarm()
        self.timer = self.loop.call_later(HEAD_SECONDS, self._expire)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _stop_watching(self) -> None:
        self._disarm()
        self.parser = None

    def _expire(self) -> None:
        self.timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
