"""When a request arrived: the kernel's age of a connection's last data, taken a jiffy short
so the estimate is never early, and asked only by requests whose answers are timed."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.http import arrival
from mockserver.http.app import create_app
from mockserver.http.arrival import ARRIVAL, JIFFY, MAX_AGE, ArrivalClock, arrived, measure_jiffy
from mockserver.settings import Settings

linux_only = pytest.mark.skipif(
    sys.platform != "linux" or not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux's"
)


class FakeSocket:
    """Answers TCP_INFO with `age_ms` as its `tcpi_last_data_recv`, or raises `error`."""

    def __init__(self, age_ms: int = 0, error: OSError | None = None) -> None:
        self.age_ms = age_ms
        self.error = error
        self.asked = 0

    def getsockopt(self, level: int, option: int, size: int) -> bytes:
        self.asked += 1
        if self.error is not None:
            raise self.error
        return bytes(52) + self.age_ms.to_bytes(4, sys.byteorder) + bytes(size - 56)


class FakeTransport:
    def __init__(self, sock: object) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> object:
        return self.sock if name == "socket" else None


def clock_on(sock: object) -> ArrivalClock:
    return ArrivalClock(FakeTransport(sock))  # type: ignore[arg-type]


@pytest.fixture
def jiffy_of_4ms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JIFFY, "seconds", 0.004)
    monkeypatch.setattr(JIFFY, "_measuring", True)  # no measurement to change it meanwhile


@pytest.fixture
def assumed_jiffy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JIFFY, "seconds", arrival.ASSUMED_JIFFY)
    monkeypatch.setattr(JIFFY, "_measuring", True)


@linux_only
@pytest.mark.usefixtures("jiffy_of_4ms")
def test_the_arrival_is_the_age_less_a_jiffy_before_now() -> None:
    clock = clock_on(FakeSocket(age_ms=40))
    before = time.monotonic()
    received = clock.received_at()
    after = time.monotonic()
    assert received is not None
    assert before - 0.036 <= received <= after - 0.036
    # An age within a jiffy could be no wait at all: it moves nothing.
    assert clock_on(FakeSocket(age_ms=4)).received_at() == pytest.approx(time.monotonic(), abs=0.01)


@linux_only
@pytest.mark.usefixtures("jiffy_of_4ms")
def test_no_word_from_a_socket_without_tcp_info_nor_about_stale_data() -> None:
    unix = FakeSocket(error=OSError(95, "Operation not supported"))
    clock = clock_on(unix)
    assert clock.received_at() is None and clock.received_at() is None
    assert unix.asked == 1  # asked once, then never again on this connection
    assert clock_on(FakeSocket(age_ms=int(MAX_AGE * 1000) + 1)).received_at() is None
    assert clock_on(None).received_at() is None


def test_the_app_takes_the_earlier_of_its_own_stamp_and_the_connections() -> None:
    class Clock:
        def __init__(self, value: float | None) -> None:
            self.value = value

        def received_at(self) -> float | None:
            return self.value

    def scope(value: float | None) -> dict[str, Any]:
        return {"extensions": {ARRIVAL: {"clock": Clock(value)}}}

    assert arrived({}, 10.0) == 10.0  # another server: the app's own stamp
    assert arrived(scope(None), 10.0) == 10.0
    assert arrived(scope(9.5), 10.0) == 9.5
    assert arrived(scope(10.5), 10.0) == 10.0


@linux_only
def test_the_first_question_has_the_jiffy_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    jiffy = arrival._Jiffy()
    monkeypatch.setattr(arrival, "JIFFY", jiffy)
    measured = threading.Event()
    measurements: list[str] = []

    def measure(real: Callable[[], None] = jiffy._measure) -> None:
        measurements.append(threading.current_thread().name)
        real()
        measured.set()

    monkeypatch.setattr(jiffy, "_measure", measure)
    clock = clock_on(FakeSocket(age_ms=40))
    assert jiffy.seconds == arrival.ASSUMED_JIFFY
    clock.received_at()
    clock.received_at()
    assert measured.wait(5)
    # Once, in its own thread (another test's server may be measuring the process's jiffy too).
    assert measurements == ["mockserver-jiffy"]
    assert 0 < jiffy.seconds <= arrival.ASSUMED_JIFFY


@linux_only
def test_a_jiffy_is_measured_as_tcp_info_steps() -> None:
    jiffy = measure_jiffy()
    assert jiffy is not None and 0 < jiffy <= arrival.ASSUMED_JIFFY


@pytest.fixture
def connected() -> Iterator[tuple[socket.socket, socket.socket]]:
    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as sender,
    ):
        receiver, _ = server.accept()
        with receiver:
            yield sender, receiver


@linux_only
@pytest.mark.usefixtures("assumed_jiffy")
def test_a_real_connection_dates_its_data_never_early(
    connected: tuple[socket.socket, socket.socket],
) -> None:
    sender, receiver = connected
    clock = clock_on(receiver)
    sent = time.monotonic()
    sender.send(b"POST / HTTP/1.1\r\n\r\n")
    time.sleep(0.06)
    received = clock.received_at()
    assert received is not None
    # Never before the bytes were sent; and the 60 ms they waited are seen, within two jiffies.
    assert sent <= received <= time.monotonic() - 0.06 + 2 * JIFFY.seconds


LATENCY_RULES = """\
version: 1
rules:
  - name: paced
    match: {last_user: paced}
    latency: {ttft: 0.01, tokens_per_second: 1000}
    reply: {content: "slow and steady"}
  - name: plain
    match: {last_user: plain}
    reply: {content: "at once"}
"""


class CountingClock:
    def __init__(self, value: float) -> None:
        self.value = value
        self.asked = 0

    def received_at(self) -> float:
        self.asked += 1
        return self.value


async def call_app(app: Any, body: bytes, clock: CountingClock) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"/v1/chat/completions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"authorization", b"Bearer sk-mock")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "extensions": {ARRIVAL: {"clock": clock}},
    }
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        pass

    await app(scope, receive, send)


def test_only_a_timed_answer_asks_the_connection_when_its_request_arrived(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "rules.yaml"
    scenario.write_text(LATENCY_RULES)
    app = create_app(Settings(scenario_paths=[str(scenario)]))
    journal = app.state.mock.journal

    def ask(text: str, stream: bool) -> tuple[int, float]:
        body = b'{"model":"gpt-4o","stream":%s,"messages":[{"role":"user","content":"%s"}]}' % (
            b"true" if stream else b"false",
            text.encode(),
        )
        clock = CountingClock(time.monotonic() - 5)
        asyncio.run(call_app(app, body, clock))
        entry = journal.entries()[-1]
        assert entry.status == 200 and entry.rule == text
        return clock.asked, entry.at - clock.value

    assert ask("plain", stream=False)[0] == 0  # untimed: no system call
    for stream in (False, True):
        asked, at_minus_clock = ask("paced", stream)
        assert asked == 1 and at_minus_clock == 0  # dated by the connection, 5 s back
