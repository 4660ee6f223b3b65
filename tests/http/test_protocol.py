"""mockserver's HTTP protocol: uvicorn's httptools one, offering the app each connection's arrival
clock and a direct body writer, on both event loops the servers run."""

from __future__ import annotations

import functools
import gc
import http.client
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from mockserver.http.arrival import ARRIVAL, arrived
from mockserver.http.protocol import write_chunk
from mockserver.http.responses import BODY_WRITER
from mockserver.http.server_thread import ServerThread

LOOPS = [
    "asyncio",
    pytest.param("uvloop", marks=pytest.mark.skipif(sys.platform == "win32", reason="no uvloop")),
]


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


class Cycle:
    """A response cycle in the middle of a chunked body, with `state` changed."""

    def __init__(self, **state: Any) -> None:
        self.chunked_encoding: bool | None = True
        self.response_complete = False
        self.disconnected = False
        self.flow = SimpleNamespace(write_paused=False)
        self.transport = Transport()
        self.__dict__.update(state)


class Protocol:
    def __init__(self, cycle: Cycle | None) -> None:
        self.cycle = cycle


def writer(protocol: Protocol) -> Callable[[bytes], bool]:
    return functools.partial(write_chunk, weakref.ref(protocol))  # type: ignore[arg-type]


def test_the_writer_frames_a_chunk_as_uvicorns_send_would() -> None:
    connection = Protocol(Cycle())
    write = writer(connection)
    assert write(b"data: hi\n\n") and write(b"")
    assert connection.cycle is not None
    assert connection.cycle.transport.written == [b"a\r\ndata: hi\n\n\r\n"]  # none for b""


@pytest.mark.parametrize(
    "state",
    [
        {"chunked_encoding": None},  # not started yet, or a HEAD request, or read ahead
        {"chunked_encoding": False},  # a content-length: `send` counts it down
        {"response_complete": True},
        {"disconnected": True},
        {"flow": SimpleNamespace(write_paused=True)},  # `send` waits for the buffer to drain
    ],
)
def test_the_writer_declines_whenever_send_would_do_more(state: dict[str, Any]) -> None:
    declined = Cycle(**state)
    assert writer(Protocol(declined))(b"x") is False
    assert declined.transport.written == []


def test_the_writer_declines_without_a_request_or_once_its_connection_is_gone() -> None:
    assert writer(Protocol(None))(b"x") is False
    write = writer(Protocol(Cycle()))  # the only reference to the protocol is gone already
    assert write(b"x") is False


async def writer_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Writes the middle of its chunked body through the writer; reports what it offered."""
    extensions = scope.get("extensions", {})
    write = extensions[BODY_WRITER]["write"]
    before_start = write(b"too soon")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    direct = write(b"hello ")
    if not direct:  # as the pacer does: `send` does it
        await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
    await send({"type": "http.response.body", "body": b"world", "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    after_end = write(b"too late")
    scope["state"]["report"].append(
        (scope["method"], sorted(extensions), before_start, direct, after_end)
    )


def reporting(inner: ASGIApp, report: list[Any]) -> ASGIApp:
    """`inner` for HTTP requests, with `report` in their scope's state for it to append to."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["state"]["report"] = report
            await inner(scope, receive, send)

    return app


@pytest.mark.parametrize("loop", LOOPS)
def test_a_server_offers_both_extensions_and_writes_what_send_would(loop: str) -> None:
    report: list[Any] = []
    app = reporting(writer_app, report)

    with ServerThread(app, loop=loop) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        connection.request("GET", "/")
        assert connection.getresponse().read() == b"hello world"
        connection.request("HEAD", "/")  # same connection: the next request gets its own writer
        assert connection.getresponse().read() == b""
        connection.close()
    assert report == [
        ("GET", [ARRIVAL, BODY_WRITER], False, True, False),
        ("HEAD", [ARRIVAL, BODY_WRITER], False, False, False),  # HEAD: no body to write
    ]


@pytest.mark.parametrize("loop", LOOPS)
def test_a_request_read_ahead_leaves_the_writer_to_send(loop: str) -> None:
    """Two requests in one packet (pipelining): the second is read while the first is answered,
    and the connection's writer then declines for the first, whose `send` writes instead."""
    report: list[Any] = []
    app = reporting(writer_app, report)

    request = b"GET / HTTP/1.1\r\nHost: mock\r\n\r\n"
    with (
        ServerThread(app, loop=loop) as server,
        socket.create_connection((server.host, server.port), timeout=5) as connection,
    ):
        connection.sendall(request + request[:-2] + b"Connection: close\r\n\r\n")
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert received.count(b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n") == 2
    assert [direct for *_, direct, _ in report] == [False, True]


@pytest.mark.parametrize("loop", LOOPS)
def test_a_finished_request_leaves_no_reference_cycle_behind(loop: str) -> None:
    """Each request's objects are freed as soon as it is over, without the cyclic collector
    (a request made a reference cycle once, through its scope's writer: ~15 µs a request)."""
    report: list[Any] = []
    app = reporting(writer_app, report)

    with ServerThread(app, loop=loop) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        gc.collect()
        gc.disable()
        try:
            for _ in range(20):
                connection.request("GET", "/")
                assert connection.getresponse().read() == b"hello world"
            alive = [
                o
                for o in gc.get_objects()
                if isinstance(o, RequestResponseCycle) and o.scope["server"][1] == server.port
            ]
        finally:
            gc.enable()
        connection.close()
    assert len(report) == 20
    assert len(alive) == 1  # the connection's latest, which its protocol still holds


@pytest.mark.skipif(sys.platform != "linux" or not hasattr(socket, "TCP_INFO"), reason="Linux")
@pytest.mark.parametrize("loop", LOOPS)
def test_a_request_that_came_while_the_loop_was_busy_is_dated_when_it_came(loop: str) -> None:
    """The loop is blocked from before the request is sent until 200 ms after: the app sees it
    that much later, but dates it (for its timed answer) to when it came, and never earlier."""
    blocking, late_sent = threading.Event(), threading.Event()
    seen: list[tuple[float, float]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/block":
            blocking.set()
            late_sent.wait(5)  # the whole loop waits
            time.sleep(0.2)
        else:
            now = time.monotonic()
            seen.append((now, arrived(scope, now)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def block(server: ServerThread) -> None:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        connection.request("GET", "/block")
        connection.getresponse().read()
        connection.close()

    with ServerThread(app, loop=loop) as server:
        blocker = threading.Thread(target=block, args=(server,))
        blocker.start()
        assert blocking.wait(5)
        with socket.create_connection((server.host, server.port), timeout=5) as late:
            sent = time.monotonic()
            late.sendall(b"GET /late HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
            late_sent.set()
            assert late.recv(1024).startswith(b"HTTP/1.1 204")
        blocker.join()
    [(app_saw, came)] = seen
    assert sent <= came  # never dated before it was sent
    assert app_saw - came >= 0.15  # the 200 ms, less up to two jiffies
