"""The shared pacer, on a fake clock: what goes out when, grouped how, and how streams end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import pytest

from mockserver.http import pacer as pacer_module
from mockserver.http.pacer import SWEEP, TICK, PacedStream, Pacer, pacer_for, run_eagerly


class FakeTimer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """The part of an event loop the pacer uses, with a clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[FakeTimer] = []
        self.fired = 0

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        assert delay > 0, "the pacer never asks for a timer that fires at once"
        timer = FakeTimer(self.now + delay, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Move the clock on, firing each timer at its time, in order."""
        end = self.now + seconds
        while True:
            live = [t for t in self.timers if not t.cancelled and t.when <= end + 1e-12]
            if not live:
                break
            timer = min(live, key=lambda t: t.when)
            self.timers.remove(timer)
            self.now = max(self.now, timer.when)
            if timer.callback.__name__ == "_fire":
                self.fired += 1
            timer.callback()
        self.now = end


class Wire:
    """Records each send with the fake time it happened at."""

    def __init__(self, loop: FakeLoop) -> None:
        self.loop = loop
        self.sent: list[tuple[float, bytes]] = []

    async def send(self, message: Any) -> None:
        assert message["type"] == "http.response.body" and message["more_body"]
        self.sent.append((self.loop.now, message["body"]))


@pytest.fixture
def futures() -> Iterator[asyncio.AbstractEventLoop]:
    """A real (never running) loop, only to make the streams' `finished` futures."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def stream(
    fake: FakeLoop,
    futures: asyncio.AbstractEventLoop,
    offsets: Sequence[float],
    wire: Wire,
    frames: Sequence[bytes] | None = None,
    **options: Any,
) -> PacedStream:
    frames = frames or [f"e{i};".encode() for i in range(len(offsets))]
    due = [fake.now + offset for offset in offsets]
    return PacedStream(frames, due, wire.send, futures.create_future(), **options)


def make_pacer(fake: FakeLoop) -> Pacer:
    return Pacer(cast(asyncio.AbstractEventLoop, fake))


def test_each_frame_goes_out_at_its_time_and_not_before(
    futures: asyncio.AbstractEventLoop,
) -> None:
    fake = FakeLoop()
    wire = Wire(fake)
    paced = stream(fake, futures, [0.0, 0.2, 0.22, 0.24], wire)
    start = fake.now
    make_pacer(fake).add(paced)
    fake.advance(1.0)
    assert [body for _, body in wire.sent] == [b"e0;", b"e1;", b"e2;", b"e3;"]
    for (at, _), due in zip(wire.sent, paced.due, strict=True):
        assert due <= at < due + 2 * TICK
    assert paced.finished.result() is True
    assert wire.sent[0][0] - start <= 2 * TICK


def test_frames_due_together_go_out_as_one_message(futures: asyncio.AbstractEventLoop) -> None:
    fake = FakeLoop()
    wire = Wire(fake)
    counted: list[int] = []
    paced = stream(fake, futures, [0.01, 0.01, 0.01, 0.03], wire, sent=counted.append)
    make_pacer(fake).add(paced)
    fake.advance(1.0)
    assert [body for _, body in wire.sent] == [b"e0;e1;e2;", b"e3;"]
    assert counted == [3, 1]


def test_a_late_wake_up_catches_up_in_one_message(futures: asyncio.AbstractEventLoop) -> None:
    fake = FakeLoop()
    wire = Wire(fake)
    paced = stream(fake, futures, [0.0, 0.02, 0.04, 0.06, 0.08], wire)
    pacer = make_pacer(fake)
    pacer.add(paced)
    fake.advance(0.001)
    # The loop was busy for 50 ms: the timer fires late, once.
    fake.now += 0.05
    fake.advance(0.0)
    assert [body for _, body in wire.sent] == [b"e0;", b"e1;e2;"]
    fake.advance(1.0)
    assert [body for _, body in wire.sent][2:] == [b"e3;", b"e4;"]


def test_streams_interleave_by_due_time_and_share_wake_ups(
    futures: asyncio.AbstractEventLoop,
) -> None:
    fake = FakeLoop()
    wire = Wire(fake)
    pacer = make_pacer(fake)
    streams = [
        stream(fake, futures, [0.0105, 0.0305], wire, frames=[b"a0", b"a1"]),
        stream(fake, futures, [0.0102, 0.0202], wire, frames=[b"b0", b"b1"]),
        stream(fake, futures, [0.0102, 0.0302], wire, frames=[b"c0", b"c1"]),
    ]
    for paced in streams:
        pacer.add(paced)
    fake.advance(1.0)
    # b and c fall due at the same moment: first come, first served.
    assert [body for _, body in wire.sent] == [b"b0", b"c0", b"a0", b"b1", b"c1", b"a1"]
    # Everything due within one millisecond shares one wake-up: 10.2/10.5, 20.2, 30.2/30.5.
    assert fake.fired == 3
    assert all(paced.finished.result() for paced in streams)
    assert len(pacer) == 0


def test_a_stopped_stream_sends_nothing_more(futures: asyncio.AbstractEventLoop) -> None:
    fake = FakeLoop()
    wire = Wire(fake)
    pacer = make_pacer(fake)
    paced = stream(fake, futures, [0.0, 0.02, 0.04], wire)
    pacer.add(paced)
    fake.advance(0.03)
    pacer.stop(paced)
    fake.advance(1.0)
    assert [body for _, body in wire.sent] == [b"e0;", b"e1;"]
    assert paced.finished.result() is False


def test_the_sweep_stops_streams_that_should_stop(futures: asyncio.AbstractEventLoop) -> None:
    fake = FakeLoop()
    wire = Wire(fake)
    pacer = make_pacer(fake)
    shutting_down = False
    waiting = stream(fake, futures, [0.0, 10.0], wire, should_stop=lambda: shutting_down)
    pacer.add(waiting)
    fake.advance(0.1)
    shutting_down = True
    fake.advance(SWEEP)
    assert waiting.finished.result() is False
    assert [body for _, body in wire.sent] == [b"e0;"]


def test_a_send_that_fails_finishes_the_stream_with_its_error(
    futures: asyncio.AbstractEventLoop,
) -> None:
    fake = FakeLoop()

    async def refuse(message: Any) -> None:
        raise RuntimeError("Unexpected ASGI message")

    paced = PacedStream([b"a", b"b"], [fake.now, fake.now], refuse, futures.create_future())
    make_pacer(fake).add(paced)
    fake.advance(0.01)
    with pytest.raises(RuntimeError, match="Unexpected ASGI message"):
        paced.finished.result()


def test_an_empty_stream_is_finished_at_once(futures: asyncio.AbstractEventLoop) -> None:
    fake = FakeLoop()
    paced = stream(fake, futures, [], Wire(fake))
    make_pacer(fake).add(paced)
    assert paced.finished.result() is True and not fake.timers


def test_a_send_that_suspends_holds_the_stream_back_until_it_is_done(
    futures: asyncio.AbstractEventLoop,
) -> None:
    """A slow reader: the server's send waits for the socket buffer to drain. Frames that fall
    due meanwhile wait too, then go out together, in order."""
    fake = FakeLoop()
    fake.create_task = futures.create_task  # type: ignore[attr-defined]
    drained = futures.create_future()
    sent: list[bytes] = []

    async def send(message: Any) -> None:
        sent.append(message["body"])
        if len(sent) == 1:
            await drained

    def run_real_loop() -> None:
        for _ in range(5):
            futures.run_until_complete(asyncio.sleep(0))

    due = [fake.now, fake.now + 0.02, fake.now + 0.04]
    paced = PacedStream([b"a", b"b", b"c"], due, send, futures.create_future())
    make_pacer(fake).add(paced)
    fake.advance(0.1)
    run_real_loop()
    assert sent == [b"a"] and not paced.finished.done()  # b and c are due but held back
    drained.set_result(None)
    run_real_loop()
    fake.advance(0.01)
    assert sent == [b"a", b"bc"]
    assert paced.finished.result() is True


def test_run_eagerly_steps_a_coroutine_that_does_not_suspend() -> None:
    done: list[str] = []

    async def quick() -> None:
        done.append("ran")

    assert run_eagerly(quick()) is None
    assert done == ["ran"]


def test_run_eagerly_hands_over_a_coroutine_that_suspends() -> None:
    async def scenario() -> list[str]:
        steps: list[str] = []
        gate = asyncio.get_running_loop().create_future()

        async def slow() -> None:
            steps.append("before")
            steps.append(await gate)

        rest = run_eagerly(slow())
        assert rest is not None and steps == ["before"]
        task = asyncio.ensure_future(rest)
        gate.set_result("after")
        await task
        return steps

    assert asyncio.run(scenario()) == ["before", "after"]


def test_a_loop_has_one_pacer_until_it_has_nothing_to_pace() -> None:
    async def scenario() -> bool:
        loop = asyncio.get_running_loop()
        pacer = pacer_for(loop)
        assert pacer_for(loop) is pacer

        async def send(message: Any) -> None:
            pass

        paced = PacedStream([b"x"], [loop.time()], send, loop.create_future())
        pacer.add(paced)
        await paced.finished
        await asyncio.sleep(SWEEP + 0.05)  # the next sweep finds it idle and drops it
        return id(loop) in pacer_module._PACERS

    assert asyncio.run(scenario()) is False
