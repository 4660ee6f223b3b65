"""One timer for every paced stream on an event loop.

Five hundred streams at 50 events a second are 25,000 sends a second. Waking each stream's task
for each event (a timer, a future, a task step, then the ASGI `send`) costs more than the send
itself, and a server that falls behind starts new streams late. The `Pacer` keeps every paced
stream in one heap ordered by when its next frame is due and runs a single loop timer: when it
fires it sends, for each stream that is due, every frame whose time has come as one body
message. The stream's own task just waits for the stream to finish.

Timers fire on whole milliseconds (uvloop's resolution; the standard loop is rounded the same
way), so frames of many streams that fall due within one millisecond go out on one wake-up, and
a frame never leaves before its time by the loop's clock.

`send` is run eagerly from the timer callback: a server's `send` normally finishes without
suspending (the bytes go to the socket buffer), so its coroutine is stepped once by hand. When
it does suspend (the client reads slowly and the server waits for the buffer to drain), a task
finishes it and the stream sends nothing more until then, so events never overtake each other.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import math
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from types import CoroutineType
from typing import Any

from starlette.types import Send

TICK = 0.001  # seconds: timers are set on whole milliseconds
EARLY = 1e-6  # seconds: float noise in `start + offset`, not a frame sent early
SWEEP = 0.25  # seconds between checks of every stream's `should_stop` (a server shutdown)


class PacedStream:
    """Frames and the loop times at which each may be sent, and where they go.

    `due[i]` is the loop time (`loop.time()`) from which frame i may be sent; it never
    decreases. `sent(n)` is told after each send how many frames it carried.
    `should_stop()` is asked on every sweep (a server shutdown; a client that leaves is
    reported with `Pacer.stop`). `finished` resolves True once every frame went out, False when
    the stream was stopped first, or with the exception a `send` raised.
    """

    __slots__ = (
        "count",
        "due",
        "finished",
        "frames",
        "index",
        "send",
        "sending",
        "sent",
        "should_stop",
    )

    def __init__(
        self,
        frames: Sequence[bytes],
        due: Sequence[float],
        send: Send,
        finished: asyncio.Future[bool],
        *,
        sent: Callable[[int], None] = lambda count: None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.frames = frames
        self.due = due
        self.count = min(len(frames), len(due))
        self.send = send
        self.finished = finished
        self.sent = sent
        self.should_stop = should_stop
        self.index = 0  # the next frame to send
        self.sending: asyncio.Task[None] | None = None  # finishes a send that suspended

    def take_due(self, now: float) -> tuple[bytes, int]:
        """The next frame and every later one due by `now`, joined, and how many they are;
        advances past them."""
        start, end, count, due = self.index, self.index + 1, self.count, self.due
        while end < count and due[end] <= now:
            end += 1
        self.index = end
        if end == start + 1:
            return self.frames[start], 1
        return b"".join(self.frames[start:end]), end - start

    def finish(self, result: bool | BaseException) -> None:
        if self.finished.done():
            return
        if isinstance(result, BaseException):
            self.finished.set_exception(result)
        else:
            self.finished.set_result(result)
        if self.sending is not None:
            self.sending.cancel()


class Pacer:
    """The paced streams of one event loop, sent from one timer. Get it with `pacer_for`."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._heap: list[tuple[float, int, PacedStream]] = []  # (next due, order, stream)
        self._order = itertools.count()  # ties on the same due time go first come, first served
        self._streams: set[PacedStream] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf  # when the timer is due; -inf while `_fire` runs
        self._sweeper: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._streams)

    def add(self, stream: PacedStream) -> None:
        """Start pacing `stream` (its frames go out from its first due time on)."""
        if stream.count == 0:
            stream.finish(True)
            return
        self._streams.add(stream)
        self._push(stream)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(SWEEP, self._sweep)

    def stop(self, stream: PacedStream) -> None:
        """Send nothing more of `stream`; it finishes with False."""
        self._streams.discard(stream)
        stream.finish(False)

    def _push(self, stream: PacedStream) -> None:
        due = stream.due[stream.index]
        heapq.heappush(self._heap, (due, next(self._order), stream))
        if due < self._timer_at:
            self._arm(due)

    def _arm(self, due: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        # Whole milliseconds, rounded up: uvloop rounds a wait to them, which could fire the
        # timer before `due`, and an early timer would just have to be set again.
        ticks = max(1, math.ceil((due - self.loop.time() - EARLY) / TICK))
        self._timer = self.loop.call_later(ticks * TICK, self._fire)
        self._timer_at = due

    def _fire(self) -> None:
        """The hot loop: every due stream sends what it has due, in one message."""
        self._timer, self._timer_at = None, -math.inf  # pushes don't re-arm meanwhile
        now = self.loop.time() + EARLY
        heap, order = self._heap, self._order
        try:
            while heap and heap[0][0] <= now:
                stream = heapq.heappop(heap)[2]
                if stream.finished.done():
                    continue
                body, frames = stream.take_due(now)
                if self._send(stream, body, frames):
                    if stream.index < stream.count:
                        heapq.heappush(heap, (stream.due[stream.index], next(order), stream))
                    else:
                        self._streams.discard(stream)
                        stream.finish(True)
        finally:
            self._timer_at = math.inf
            if heap:
                self._arm(heap[0][0])

    def _send(self, stream: PacedStream, body: bytes, frames: int) -> bool:
        """Send `body` now; False when the send suspended (a task finishes it and carries on
        with the stream) or failed (the stream finishes with the error)."""
        message = {"type": "http.response.body", "body": body, "more_body": True}
        try:
            pending = run_eagerly(stream.send(message))
        except Exception as error:  # the server refused the message: the stream's task raises it
            self._streams.discard(stream)
            stream.finish(error)
            return False
        if pending is None:
            stream.sent(frames)
            return True
        stream.sending = self.loop.create_task(pending)
        stream.sending.add_done_callback(functools.partial(self._resume, stream, frames))
        return False

    def _resume(self, stream: PacedStream, frames: int, task: asyncio.Task[None]) -> None:
        """A suspended send finished: carry on with the stream (frames that fell due
        meanwhile go out together, on the next tick)."""
        stream.sending = None
        if task.cancelled() or stream.finished.done():
            return
        error = task.exception()
        if error is not None:
            self._streams.discard(stream)
            stream.finish(error)
            return
        stream.sent(frames)
        if stream.index < stream.count:
            self._push(stream)
        else:
            self._streams.discard(stream)
            stream.finish(True)

    def _sweep(self) -> None:
        """Stop the streams that should stop (a long wait would otherwise hold a shutdown up)."""
        self._sweeper = None
        for stream in [s for s in self._streams if s.finished.done() or s.should_stop()]:
            self.stop(stream)
        if self._streams:
            self._sweeper = self.loop.call_later(SWEEP, self._sweep)
            return
        self._heap.clear()  # only stopped streams are left in it
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, math.inf
        if _PACERS.get(id(self.loop)) is self:
            del _PACERS[id(self.loop)]


def run_eagerly(awaitable: Awaitable[None]) -> Coroutine[Any, Any, None] | None:
    """Step `awaitable` at once; None when it finished, else a coroutine that finishes it
    (for a task). Exceptions it raises before suspending propagate."""
    coroutine = awaitable if type(awaitable) is CoroutineType else _await(awaitable)
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return _finish(coroutine, waiting_on)


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable


async def _finish(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    """Go on where `run_eagerly` left off: wait for what the coroutine waits on, resume it."""
    try:
        while True:
            if waiting_on is None:  # a bare yield: give the loop one turn
                await asyncio.sleep(0)
            else:  # a future; its outcome is for the resumed coroutine to see
                await asyncio.wait((waiting_on,))
            try:
                waiting_on = coroutine.send(None)
            except StopIteration:
                return
    finally:
        coroutine.close()


_PACERS: dict[int, Pacer] = {}


def pacer_for(loop: asyncio.AbstractEventLoop) -> Pacer:
    """The running loop's pacer (made on first use, dropped when it has nothing to pace)."""
    pacer = _PACERS.get(id(loop))
    if pacer is None or pacer.loop is not loop:
        pacer = _PACERS[id(loop)] = Pacer(loop)
    return pacer
