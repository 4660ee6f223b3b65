"""The HTTP protocol `mockserver serve` and the pytest fixture's server run: uvicorn's httptools
protocol, offering the app two scope extensions (`scope["extensions"]`).

- `mockserver.arrival` (`arrival.ARRIVAL`): the connection's `ArrivalClock`, so that a timed
  answer counts from when the request arrived, not from when the app first saw it.
- `mockserver.body_writer` (`transport.BODY_WRITER`): `write(body)` puts a body chunk of the
  response on the connection at once, exactly as uvicorn's `send` would. The pacer sends ~25,000
  chunks a second with 500 streams open; each `send` built a message and a coroutine and ended
  in `StopIteration`. It declines (returns False, and the app falls back to `send`) whenever
  `send` would do more than write: before the response starts, after it ends, for a body with
  a `content-length` or to a HEAD request, once the client left, or while the connection's
  buffer is full (flow control: `send` waits for it to drain).

Apps run under any other server see neither extension and do without.

uvicorn is given it by import string (`server_thread.UVICORN_OPTIONS`), which `--workers`
processes import for themselves.
"""

from __future__ import annotations

import asyncio
import weakref

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from mockserver.arrival import ARRIVAL, JIFFY, ArrivalClock
from mockserver.transport import BODY_WRITER


class ChunkWriter:
    """Writes body chunks of one request's response the way uvicorn's `send` would, when that
    is all `send` would do.

    It holds its cycle weakly: the cycle holds the scope, which holds the writer, and a strong
    reference would make every request's objects a reference cycle, left for the cyclic
    collector (that cost ~15 µs a request).
    """

    __slots__ = ("cycle",)

    def __init__(self, cycle: RequestResponseCycle) -> None:
        self.cycle = weakref.ref(cycle)

    def __call__(self, body: bytes) -> bool:
        cycle = self.cycle()
        if (
            cycle is None  # the request is over
            or cycle.chunked_encoding is not True  # not started, a content-length, or HEAD
            or cycle.response_complete
            or cycle.disconnected
            or cycle.flow.write_paused
        ):
            return False
        if body:  # an empty chunk would end the body
            cycle.transport.write(b"%x\r\n%b\r\n" % (len(body), body))
        return True


class MockHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with this module's scope extensions."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.arrival: dict[object, object] = {"clock": ArrivalClock(transport)}
        JIFFY.measure_soon()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {ARRIVAL: self.arrival}

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        # The new request's cycle; not made for an upgrade (the app is not called then).
        if cycle is not None and cycle.scope is self.scope:
            self.scope["extensions"][BODY_WRITER] = {"write": ChunkWriter(cycle)}
