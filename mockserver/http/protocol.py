"""The HTTP protocol `mockserver serve` and the pytest fixture's server run: uvicorn's httptools
protocol, offering the app two scope extensions (`scope["extensions"]`).

- `mockserver.http.arrival` (`arrival.ARRIVAL`): the connection's `ArrivalClock`, so that a timed
  answer counts from when the request arrived, not from when the app first saw it.
- `mockserver.body_writer` (`transport.BODY_WRITER`): `write(body)` puts a body chunk of the
  response on the connection at once, exactly as uvicorn's `send` would. The pacer sends ~25,000
  chunks a second with 500 streams open; each `send` built a message and a coroutine and ended
  in `StopIteration`. It declines (returns False, and the app falls back to `send`) whenever
  `send` would do more than write: before the response starts, after it ends, for a body with
  a `content-length` or to a HEAD request, once the client left, or while the connection's
  buffer is full (flow control: `send` waits for it to drain).

Both belong to the connection, and every request on it gets the same extensions dict (not to
be changed): nothing is made per request. A connection's responses go out one after the other,
so the writer writes to the response of the connection's latest request; a request read ahead
(pipelining) has not started its response yet, and the writer declines until it has. The
writer holds its protocol weakly: a strong reference would make each connection a reference
cycle, left for the cyclic collector.

Apps run under any other server see neither extension and do without.

uvicorn is given it by import string (`server_thread.UVICORN_OPTIONS`), which `--workers`
processes import for themselves.
"""

from __future__ import annotations

import asyncio
import functools
import weakref

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.http.arrival import ARRIVAL, ArrivalClock
from mockserver.http.responses import BODY_WRITER


def write_chunk(protocol_ref: weakref.ref[HttpToolsProtocol], body: bytes) -> bool:
    """Write a body chunk of the connection's current response the way uvicorn's `send` would,
    when that is all `send` would do; False otherwise."""
    protocol = protocol_ref()
    cycle = None if protocol is None else protocol.cycle
    if (
        cycle is None
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
        self.extensions: dict[str, dict[object, object]] = {
            ARRIVAL: {"clock": ArrivalClock(transport)},
            BODY_WRITER: {"write": functools.partial(write_chunk, weakref.ref(self))},
        }

    def on_message_begin(self) -> None:
        # Not `super()`: called once a request, it costs ~1,500 instructions more.
        HttpToolsProtocol.on_message_begin(self)
        self.scope["extensions"] = self.extensions
