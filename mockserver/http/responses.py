"""Getting bytes to the client: JSON bodies, pre-encoded SSE streams, and broken connections.

Starlette's `StreamingResponse` pays one ASGI round trip per event. With no pacing configured
there is no reason to: `EventStream` sends the whole pre-rendered stream in one `http.response.body`
message (still `text/event-stream`, still parsed event by event by the client). With pacing the
loop's `Pacer` (`mockserver.http.pacer`) sends each frame at its scheduled time, counted from the
request's arrival so neither the time spent answering nor late wake-ups add up, while
`mockserver.http.connection` watches for the client going away. A cut stream ends
cleanly, abruptly, or after a bounded stall; `BrokenConnection` breaks the connection before any
HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http.connection import Connection
from mockserver.http.pacer import PacedStream, pacer_for
from mockserver.journal.journal import RESPONSE_BYTES, TIMELINE_POINTS

if TYPE_CHECKING:
    from mockserver.journal.journal import Entry

JSON_TYPE = b"application/json"
SSE_TYPE = b"text/event-stream; charset=utf-8"
Ending = Literal["complete", "abort", "stall"]
ConnectionFault = Literal["empty_response", "reset", "garbage", "hang"]


class RawResponse(Response):
    """A Starlette `Response` without per-request header munging: status, headers and a body
    are set once and sent in two ASGI messages."""

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: bytes = JSON_TYPE,
    ) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        raw = [(b"content-type", media_type), (b"content-length", b"%d" % len(body))]
        if headers:
            raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body})


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> RawResponse:
    return RawResponse(orjson.dumps(payload), status, headers)


class EventStream:
    """A server-sent event stream from pre-encoded frames.

    `schedule[i]` is the offset in seconds from the response's start at which frame i may be
    sent; `None` means "no pacing" and the frames go out in one body message. The response
    starts `delay` seconds after the request arrived (`arrived`, a `time.monotonic()`; when
    the app is called if None): the time spent answering is part of the wait, not added to it.
    `ending` says how the response ends after the last frame: `complete` (the HTTP response
    ends cleanly), `abort` (the connection closes mid-response) or `stall` (nothing more for
    `stall_for` seconds, then `abort`). `length` declares a content-length (a cut JSON body).
    With an `entry`, `events_sent` and `disconnected` are journaled as they happen, and
    `mark_fault` stamps `entry.fault["at"]` when the last frame has gone out.
    """

    __slots__ = (
        "arrived",
        "delay",
        "ending",
        "entry",
        "frames",
        "headers",
        "mark_fault",
        "schedule",
        "sent",
        "stall_for",
        "status",
    )

    def __init__(
        self,
        frames: Sequence[bytes],
        *,
        headers: Mapping[str, str] | None = None,
        media_type: bytes = SSE_TYPE,
        schedule: Sequence[float] | None = None,
        status: int = 200,
        delay: float = 0.0,
        ending: Ending = "complete",
        stall_for: float = 0.0,
        length: int | None = None,
        entry: Entry | None = None,
        mark_fault: bool = False,
        arrived: float | None = None,
    ) -> None:
        self.frames = frames
        self.arrived = arrived
        self.schedule = schedule
        self.status = status
        self.delay = delay
        self.ending = ending
        self.stall_for = stall_for
        self.entry = entry
        self.mark_fault = mark_fault
        self.sent = 0
        raw = [(b"content-type", media_type)]
        if length is None:
            raw.append((b"cache-control", b"no-cache"))
        else:
            raw.append((b"content-length", str(length).encode()))
        if headers:
            raw.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
        self.headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.schedule is None and not self.delay and self.ending == "complete":
            # The fast path: two ASGI messages, whatever the number of events.
            await send(
                {"type": "http.response.start", "status": self.status, "headers": self.headers}
            )
            self._count(len(self.frames))
            if self.mark_fault:
                mark(self.entry)
            await send({"type": "http.response.body", "body": b"".join(self.frames)})
            return
        connection = Connection(scope, receive)
        try:
            await self._send_slowly(connection, send)
        finally:
            connection.close()

    async def _send_slowly(self, connection: Connection, send: Send) -> None:
        if self.entry is not None:  # the slow path only: the fast one has no timeline
            offsets = self.schedule or [0.0] * min(len(self.frames), 1)
            self.entry.timeline = [
                round((self.delay + offset) * 1000, 1) for offset in offsets[:TIMELINE_POINTS]
            ]
            self.entry.sent_at = []
        loop = asyncio.get_running_loop()
        start = loop.time() + remaining(self.delay, self.arrived)  # of the response, loop time
        if start > loop.time() and not await connection.sleep(start - loop.time()):
            await self._stop(connection)
            return
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        if self.schedule is None:
            await send(_more(b"".join(self.frames)))
            self._count_measured(len(self.frames))
        elif not await self._pace(connection, send, start):
            await self._stop(connection)
            return
        if self.mark_fault:
            mark(self.entry)
        if self.ending == "complete":
            await send({"type": "http.response.body", "body": b""})
            return
        if self.ending == "stall" and not await connection.sleep(self.stall_for):
            await self._stop(connection)
            return
        await connection.abort()

    async def _pace(self, connection: Connection, send: Send, start: float) -> bool:
        """Hand the frames to the loop's pacer, timed from `start` (loop time); True once all
        went out, False when the client left or the server began shutting down first."""
        assert self.schedule is not None
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[bool] = loop.create_future()
        stream = PacedStream(
            self.frames,
            [start + offset for offset in self.schedule],
            send,
            finished,
            sent=self._count_measured,
            should_stop=connection.gone,
        )
        pacer = pacer_for(loop)
        connection.when_disconnected(lambda: pacer.stop(stream))
        pacer.add(stream)
        try:
            return await finished
        finally:
            pacer.stop(stream)  # when this task is cancelled

    async def _stop(self, connection: Connection) -> None:
        """A wait ended early: the client left (journal it), or the server is shutting down
        (close the connection so shutdown can proceed)."""
        if connection.disconnected:
            if self.entry is not None:
                self.entry.disconnected = True
            return
        await connection.abort()

    def _count(self, frames: int) -> None:
        self.sent += frames
        if self.entry is not None:
            self.entry.events_sent = self.sent

    def _count_measured(self, frames: int) -> None:
        """`_count`, and when each of the frames left (the slow path's journal timeline)."""
        self._count(frames)
        entry = self.entry
        if entry is not None and entry.sent_at is not None:
            room = TIMELINE_POINTS - len(entry.sent_at)
            if room > 0:
                since = round((time.monotonic() - entry.at) * 1000, 1)
                entry.sent_at.extend([since] * min(frames, room))


class Delayed:
    """Another ASGI response, started `delay` seconds after the request arrived (`arrived`, a
    `time.monotonic()`; when called if None), unless the client leaves first."""

    __slots__ = ("app", "arrived", "delay", "entry")

    def __init__(
        self,
        app: ASGIApp,
        delay: float,
        entry: Entry | None = None,
        arrived: float | None = None,
    ) -> None:
        self.app = app
        self.delay = delay
        self.entry = entry
        self.arrived = arrived

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = Connection(scope, receive)
        try:
            waited = await connection.sleep(remaining(self.delay, self.arrived))
        finally:
            connection.close()
        if not waited and connection.disconnected:
            if self.entry is not None:
                self.entry.disconnected = True
            return
        await self.app(scope, receive, send)


class BrokenConnection:
    """A connection broken before any HTTP response:

    - `empty_response`: closed with no bytes;
    - `reset`: a TCP reset (SO_LINGER 0);
    - `garbage`: `garbage` bytes that are not HTTP, then closed;
    - `hang`: nothing at all until the client gives up (or `hold_for` seconds pass, or the
      server shuts down), then closed.

    Each after `delay` seconds from when the request arrived (`arrived`, a `time.monotonic()`;
    when called if None).
    """

    __slots__ = ("arrived", "delay", "entry", "garbage", "hold_for", "kind")

    def __init__(
        self,
        kind: ConnectionFault,
        *,
        delay: float = 0.0,
        hold_for: float = 30.0,
        garbage: bytes = b"",
        entry: Entry | None = None,
        arrived: float | None = None,
    ) -> None:
        self.kind = kind
        self.delay = delay
        self.hold_for = hold_for
        self.garbage = garbage
        self.entry = entry
        self.arrived = arrived

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = Connection(scope, receive)
        try:
            await self._break(connection)
        finally:
            connection.close()

    async def _break(self, connection: Connection) -> None:
        wait = remaining(self.delay, self.arrived)
        if wait > 0 and not await connection.sleep(wait) and connection.disconnected:
            self._client_left()
            return
        mark(self.entry)
        if self.kind == "hang":
            await connection.sleep(self.hold_for)
            if connection.disconnected:
                self._client_left()
                return
        elif self.kind == "garbage":
            connection.write_raw(self.garbage)
        await connection.abort(reset=self.kind == "reset")

    def _client_left(self) -> None:
        if self.entry is not None:
            self.entry.disconnected = True


def remaining(delay: float, arrived: float | None) -> float:
    """What is left of `delay` counted from `arrived` (a `time.monotonic()`), or all of it."""
    if arrived is None:
        return delay
    return delay - (time.monotonic() - arrived)


def mark(entry: Entry | None) -> None:
    """Stamp when the request's fault took effect: seconds since the request arrived."""
    if entry is not None and entry.fault is not None:
        entry.fault["at"] = round(time.monotonic() - entry.at, 3)


def _more(body: bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": body, "more_body": True}


def sent_chunks(app: Any) -> list[bytes] | None:
    """What the journal keeps of `app`'s body: its one body, or its stream's frames (kept by
    reference: no copy on the way out), cut to `RESPONSE_BYTES` when longer; None for an
    answer that isn't bytes known up front (a broken connection, a body made as it goes)."""
    if isinstance(app, Delayed):
        return sent_chunks(app.app)
    if isinstance(app, EventStream):
        chunks = list(app.frames) if not isinstance(app.frames, list) else app.frames
    elif isinstance(getattr(app, "body", None), bytes):  # a Response (not a streaming one)
        chunks = [app.body]
    else:
        return None
    if sum(map(len, chunks)) <= RESPONSE_BYTES:
        return chunks
    kept: list[bytes] = []
    room = RESPONSE_BYTES
    for chunk in chunks:  # whole frames while they fit, so `events_sent` still slices them
        kept.append(chunk[:room])
        room -= len(kept[-1])
        if room <= 0:
            break
    return kept
