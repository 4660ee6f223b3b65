"""A raw asyncio HTTP/1.1 client that records when each server-sent event arrives.

Built on `asyncio.Protocol` (no StreamReader, one callback per socket read) so that 500 streams
fit on one core without the client lagging; an event's arrival is `perf_counter()` in the
`data_received` call that completed it. That call only keeps the time and the bytes, and
`parse_reads` makes the events once every stream is over. After a pause of either process,
hundreds of sockets are readable at once and are read one after the other: parsing in each call
(~20 µs), or a whole reply when its connection ends (~1 ms), would have made the sockets read
after it look late by that much.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast


@dataclass(slots=True)
class StreamTiming:
    sent_at: float = 0.0  # perf_counter() when the request was written
    status: int = 0
    events: list[tuple[float, bytes]] = field(default_factory=list)  # (arrival, raw event)
    error: str | None = None
    reads: list[tuple[float, bytes]] = field(default_factory=list)  # (arrival, bytes) per read
    ended: str | None = None  # how the connection ended, if it did: "EOF" or the error


class EventSplitter:
    """Feeds body bytes, returns each completed SSE event (terminated by a blank line)."""

    __slots__ = ("buffer",)

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data.replace(b"\r\n", b"\n")
        *complete, self.buffer = self.buffer.split(b"\n\n")
        return [event + b"\n\n" for event in complete if event.strip()]


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)")


class ResponseParser:
    """Incremental HTTP/1.1 response parser: `feed(raw)` returns the body bytes it completes,
    de-chunked; `done` once the body is complete (chunked, content-length or, else, at EOF)."""

    __slots__ = ("buffer", "done", "left", "mode", "status")

    def __init__(self) -> None:
        self.buffer = b""
        self.status = 0
        self.mode = "head"  # head | size | data | crlf | length | eof | end
        self.left = 0
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        body: list[bytes] = []
        while self.buffer and not self.done and self._step(body):
            pass
        return b"".join(body)

    def _step(self, body: list[bytes]) -> bool:
        """Advance one state; False when more bytes are needed."""
        if self.mode == "head":
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            head, self.buffer = self.buffer[: end + 2].lower(), self.buffer[end + 4 :]
            self.status = int(head.split(b" ", 2)[1])
            length = _LENGTH.search(head)
            if b"\r\ntransfer-encoding: chunked" in head:
                self.mode = "size"
            elif length:
                self.mode, self.left = "length", int(length.group(1))
                self.done = self.left == 0
            else:
                self.mode = "eof"
        elif self.mode == "size":
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return False
            size = int(self.buffer[:end].split(b";")[0], 16)
            self.buffer = self.buffer[end + 2 :]
            self.mode, self.left = ("data", size) if size else ("end", 0)
            self.done = size == 0
        elif self.mode in ("data", "length"):
            piece, self.buffer = self.buffer[: self.left], self.buffer[self.left :]
            body.append(piece)
            self.left -= len(piece)
            if self.left == 0:
                self.done = self.mode == "length"
                self.mode = "crlf" if self.mode == "data" else "end"
        elif self.mode == "crlf":
            if len(self.buffer) < 2:
                return False
            self.buffer, self.mode = self.buffer[2:], "size"
        elif self.mode == "eof":
            body.append(self.buffer)
            self.buffer = b""
        return True


def build_request(path: str, body: bytes, headers: Mapping[str, str], port: int) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_reads(timing: StreamTiming) -> StreamTiming:
    """The status and events of `timing.reads` (each event timed by the read that completed
    it); an error for a reply that ended before it was complete."""
    parser, splitter = ResponseParser(), EventSplitter()
    for arrival, data in timing.reads:
        timing.events.extend((arrival, event) for event in splitter.feed(parser.feed(data)))
    timing.status = parser.status
    if timing.ended is not None and not parser.done and parser.mode != "eof":
        timing.error = timing.error or f"connection closed mid-response ({timing.ended})"
    timing.reads = []
    return timing


# The last chunk of a chunked reply: nothing an SSE chunk can end with (events end in "\n\n").
_LAST_CHUNK = b"\r\n0\r\n\r\n"


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, request: bytes, timing: StreamTiming, finished: asyncio.Future[None]):
        self.request = request
        self.timing = timing
        self.finished = finished
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports don't subclass asyncio.Transport, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.timing.sent_at = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.timing.reads.append((time.perf_counter(), data))
        # The request says `Connection: close`, so the server closes after the reply; closing
        # on the last chunk spares waiting for that.
        if data.endswith(_LAST_CHUNK) and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.timing.ended = str(exc) if exc else "EOF"
        if not self.finished.done():
            self.finished.set_result(None)


async def read_stream(
    port: int, request: bytes, *, start_at: float, timeout: float = 30.0
) -> StreamTiming:
    """At loop time `start_at`, connect, send `request` and time every read of the reply
    (`parse_reads` makes its events)."""
    loop = asyncio.get_running_loop()
    timing = StreamTiming()
    await asyncio.sleep(max(start_at - loop.time(), 0))
    finished: asyncio.Future[None] = loop.create_future()
    transport: asyncio.BaseTransport | None = None
    try:
        transport, _ = await loop.create_connection(
            lambda: _StreamProtocol(request, timing, finished), "127.0.0.1", port
        )
        await asyncio.wait_for(finished, timeout)
    except (OSError, TimeoutError) as exc:
        timing.error = f"{type(exc).__name__}: {exc}"
    finally:
        if transport is not None:
            transport.close()
    return timing
