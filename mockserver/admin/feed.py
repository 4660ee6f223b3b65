"""`GET /_mock/events`: the journal as server-sent events, one `entry` event per answered request.

The feed reads the journal; the journal never writes to the feed. While a page listens, the
feed polls the journal's log a few times a second (every worker's entries, on whichever store),
and the server closes each entry as on a shared store (`Journal.watchers`), so entries reach
the log complete, with the time they were answered. With nobody listening nothing runs at all:
chat pays one attribute read for the dashboard existing.

Entries reach the log as their requests close, not in number order (a long stream opened as #5
closes after #6): each poll re-reads the newest `WINDOW` numbers and sends those not sent yet.
A journal reset sends a `reset` event. Bounded: at most `MAX_LISTENERS` feeds at once (429
past that); a page that connects gets the journal's entries (bounded by its size); a feed ends
after `LIFETIME` seconds (the page reconnects), when the client leaves, or when the server
shuts down.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.admin.guard import AdminError
from mockserver.http.connection import Connection

if TYPE_CHECKING:
    from mockserver.journal.journal import Entry, Journal

POLL = 0.25  # seconds between reads of the journal while a page listens
WINDOW = 256  # numbers below the newest re-read each poll: requests that close late
MAX_LISTENERS = 8
LIFETIME = 300.0  # seconds; then the feed ends and the page reconnects


class Listeners:
    """How many feeds are open in this process."""

    def __init__(self) -> None:
        self.count = 0


def summary(entry: Entry) -> dict[str, Any]:
    """One row of the traffic table: what the list shows and filters on (the bodies stay in
    `GET /_mock/requests/{seq}`)."""
    now_wall, now_mono = time.time(), time.monotonic()
    done = entry.done
    return {
        "seq": entry.seq,
        # wall time for display only: no client of the emulated APIs ever sees it
        "time": now_wall - (now_mono - entry.at),
        "method": entry.method,
        "endpoint": entry.endpoint,
        "dialect": entry.dialect,
        "model": entry.model,
        "rule": entry.rule,
        "unmatched": entry.unmatched,
        "strict_miss": entry.strict_miss,
        "fault": entry.fault,
        "status": entry.status,
        "usage": entry.usage,
        "key_name": entry.key_name,
        "cost": entry.cost,
        "duration_ms": None if done is None else round((done - entry.at) * 1000, 1),
        "stream": entry.stream,
        "events_sent": entry.events_sent,
        "disconnected": entry.disconnected,
    }


class Feed(Response):
    """The event stream of one page (an ASGI response that runs until the client leaves)."""

    def __init__(self, journal: Journal, listeners: Listeners) -> None:
        if listeners.count >= MAX_LISTENERS:
            raise AdminError(
                429,
                f"{MAX_LISTENERS} dashboard feeds are open already; close a page and retry",
                "too_many_listeners",
            )
        self.journal = journal
        self.listeners = listeners
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.listeners.count += 1
        self.journal.watchers += 1
        connection = Connection(scope, receive)
        try:
            start = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
            await send(start)
            await self._run(connection, send)
            await send({"type": "http.response.body", "body": b""})
        except OSError:  # the client left mid-write
            pass
        finally:
            connection.close()
            self.listeners.count -= 1
            self.journal.watchers -= 1

    async def _run(self, connection: Connection, send: Send) -> None:
        journal = self.journal
        cursor = Cursor(journal)
        ends = time.monotonic() + LIFETIME
        await _send(send, cursor.hello())
        while time.monotonic() < ends:
            frames = cursor.poll()
            if frames:
                await _send(send, frames)
            if not await connection.sleep(POLL):
                return
        await _send(send, b"event: bye\ndata: {}\n\n")


class Cursor:
    """What one feed has sent: the numbers of the newest entries, and the journal's generation."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.generation = journal.generation
        self.sent: set[int] = set()
        self.newest = 0

    def hello(self) -> bytes:
        """The first frames: the journal's generation, then the entries it holds."""
        hello = _frame("hello", {"generation": self.generation})
        answered = [e for e in self.journal.closed() if e.status is not None]
        return hello + self._entries(answered)

    def poll(self) -> bytes:
        """The frames for what changed since the last poll."""
        journal = self.journal
        out = b""
        if journal.generation != self.generation:
            self.generation = journal.generation
            self.sent.clear()
            self.newest = 0
            out += _frame("reset", {"generation": self.generation})
        found = journal.closed(max(0, self.newest - WINDOW))
        # An entry of a request answered before the feed opened may still be filling in (a
        # memory journal holds it from the start): it is sent once it has its status.
        fresh = [e for e in found if e.seq not in self.sent and e.status is not None]
        return out + self._entries(fresh)

    def _entries(self, entries: list[Entry]) -> bytes:
        frames = []
        for entry in entries:
            self.sent.add(entry.seq)
            self.newest = max(self.newest, entry.seq)
            frames.append(_frame("entry", summary(entry)))
        if len(self.sent) > 4 * WINDOW:  # forget numbers the window no longer reaches
            floor = self.newest - WINDOW
            self.sent = {seq for seq in self.sent if seq > floor}
        return b"".join(frames)


def _frame(event: str, payload: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(payload, default=str) + b"\n\n"


async def _send(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})
