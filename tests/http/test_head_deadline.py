"""A connection that doesn't send a whole request head in time is closed; every other
connection, and the server, carry on."""

from __future__ import annotations

import asyncio
import http.client
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mockserver.http import head_deadline
from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings

GENEROUS = 20.0


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerThread]:
    monkeypatch.setattr(head_deadline, "HEAD_SECONDS", 0.5)
    with ServerThread(create_app(Settings())) as running:
        yield running


def closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closes `connection` (reads until it does, or GENEROUS passes)."""
    connection.settimeout(GENEROUS)
    try:
        while connection.recv(1024):  # a 400 or nothing, then the end
            pass
    except TimeoutError:
        return False
    return True


def test_a_slow_head_is_cut_off(server: ServerThread) -> None:
    with socket.create_connection((server.host, server.port)) as slow:
        slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(3):  # one header byte at a time, more slowly than the deadline
            time.sleep(0.3)
            try:
                slow.sendall(b"X")
            except OSError:
                break
        assert closed_by_server(slow)
    assert httpx.get(f"{server.url}/_mock/health").status_code == 200


def test_a_silent_connection_is_cut_off(server: ServerThread) -> None:
    with socket.create_connection((server.host, server.port)) as silent:
        assert closed_by_server(silent)


def test_a_keep_alive_connection_may_idle_between_requests(server: ServerThread) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=GENEROUS)
    try:
        for _ in range(3):
            connection.request("GET", "/_mock/health")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            first = connection.sock
            time.sleep(0.8)  # idle past the head deadline: only uvicorn's keep-alive applies
        assert connection.sock is first  # one connection all along (a closed one would raise)
    finally:
        connection.close()


class Inner(asyncio.Protocol):
    """Stands in for uvicorn's protocol: what reaches it."""

    def __init__(self, **options: object) -> None:
        self.received: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        self.received.append(data)


class FakeTransport:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_the_sweep_cuts_only_late_heads_and_stops_with_the_last_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(head_deadline, "INNER", f"{__name__}:Inner")
    monkeypatch.setattr(head_deadline, "HEAD_SECONDS", 0.05)
    loop = asyncio.new_event_loop()
    try:
        silent, answered = (head_deadline.HeadDeadline(_loop=loop) for _ in range(2))
        silent_transport, answered_transport = FakeTransport(), FakeTransport()
        silent.connection_made(silent_transport)  # type: ignore[arg-type]
        answered.connection_made(answered_transport)  # type: ignore[arg-type]
        head = b"GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        answered.data_received(head)
        assert head_deadline.watched(loop) == 2
        loop.run_until_complete(asyncio.sleep(0.3))
        assert silent_transport.closed and not answered_transport.closed
        assert isinstance(answered.inner, Inner) and answered.inner.received == [head]
        silent.connection_lost(None)
        answered.connection_lost(None)
        assert head_deadline.watched(loop) == 0  # and no timer left on the loop for it
    finally:
        loop.close()
