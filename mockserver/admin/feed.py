"""`GET /_mock/events`: the journal as server-sent events, the answered requests in `rows` events.

The feed reads the journal; the journal never writes to the feed. While a page listens, the
feed polls the journal's log a few times a second (every worker's entries, on whichever store),
and each entry is closed when its request is answered (`Journal.watchers`: on a memory store
only stamped with its `done` time), so entries reach the page complete, with the time they were
answered. With nobody listening nothing runs at all: chat pays one attribute read for the
dashboard existing.

What a poll finds goes out as one `rows` event: `{"clock": ..., "rows": [[...], ...]}`, each
row a list in the order of the `columns` the `hello` event names (`COLUMNS`), its times on the
server's monotonic clock (`clock` turns them into wall time). One frame and one JSON encoding
a poll, and no per-row object: with a page open at a few thousand requests a second, the feed
writes most of them, and a row as an object cost more than the rest of the feed together.

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
from mockserver.core.secrets import redact_value
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


# What the traffic table shows and filters on, in the order of a row's values (`row`); the
# bodies stay in `GET /_mock/requests/{seq}`.
COLUMNS = (
    "seq",
    "at",  # time.monotonic() when the request arrived: with `clock`, its wall time
    "done",  # time.monotonic() when it was answered (null: not closed): with `at`, its duration
    "method",
    "endpoint",
    "dialect",
    "model",
    "rule",
    "unmatched",
    "strict_miss",
    "fault",
    "status",
    "usage",
    "key_name",
    "cost",
    "stream",
    "events_sent",
    "disconnected",
)


def row(entry: Entry) -> tuple[Any, ...]:
    """One row of the traffic table, its values in the order of `COLUMNS`."""
    return (
        entry.seq,
        entry.at,
        entry.done,
        entry.method,
        entry.endpoint,
        entry.dialect,
        entry.model,
        entry.rule,
        entry.unmatched,
        entry.strict_miss,
        # A fault's message may quote the request (its key among it): masked as in `to_dict`.
        redact_value(entry.fault, entry.secrets) if entry.fault and entry.secrets else entry.fault,
        entry.status,
        entry.usage,
        entry.key_name,
        entry.cost,
        entry.stream,
        entry.events_sent,
        entry.disconnected,
    )


def wall_clock() -> float:
    """What turns a monotonic time into wall time (for display only: no client of the
    emulated APIs ever sees it)."""
    return time.time() - time.monotonic()


def summary(entry: Entry) -> dict[str, Any]:
    """One row of the traffic table as an object, with its wall time and duration (the
    detail view's facts)."""
    shown = dict(zip(COLUMNS, row(entry), strict=True))
    at, done = shown.pop("at"), shown.pop("done")
    shown["time"] = wall_clock() + at
    shown["duration_ms"] = None if done is None else round((done - at) * 1000, 1)
    return shown


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
        """The first frames: the journal's generation and the rows' columns, then the entries
        it holds."""
        hello = _frame("hello", {"generation": self.generation, "columns": COLUMNS})
        return hello + self._rows([e for e in self.journal.closed() if e.finished])

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
        # A memory journal holds an entry from the start: it is sent once finished.
        sent = self.sent
        return out + self._rows([e for e in found if e.seq not in sent and e.finished])

    def _rows(self, entries: list[Entry]) -> bytes:
        """One `rows` frame for `entries` (in number order), nothing for none."""
        if not entries:
            return b""
        numbers = [entry.seq for entry in entries]
        sent = self.sent
        sent.update(numbers)
        self.newest = max(self.newest, *numbers)
        if len(sent) > 4 * WINDOW:  # forget numbers the window no longer reaches
            floor = self.newest - WINDOW
            self.sent = {seq for seq in sent if seq > floor}
        return _frame("rows", {"clock": wall_clock(), "rows": [row(e) for e in entries]})


def _frame(event: str, payload: Any) -> bytes:
    # One copy of the JSON (a poll's rows are ~200 KB at a few thousand requests a second).
    head = b"event: " + event.encode() + b"\ndata: "
    return b"".join((head, orjson.dumps(payload, default=str), b"\n\n"))


async def _send(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})
