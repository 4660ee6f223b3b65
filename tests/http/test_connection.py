"""The client's connection as the paced paths see it: noticing a client that leaves."""

from __future__ import annotations

import asyncio
import http.client as client_module
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from mockserver.http import connection as connection_module
from mockserver.http.connection import Connection, announce_shutdown, forget_shutdown
from mockserver.http.server_thread import ServerThread


class Client:
    """A server's `receive`: reports `http.disconnect` once the client has left."""

    def __init__(self) -> None:
        self.left = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.left.wait()
        return {"type": "http.disconnect"}


def test_when_disconnected_is_told_as_soon_as_the_client_leaves() -> None:
    async def scenario() -> tuple[list[str], bool, bool]:
        client = Client()
        connection = Connection({}, client.receive)
        told: list[str] = []
        connection.when_disconnected(lambda: told.append("gone"))
        await asyncio.sleep(0)
        before = connection.gone()
        client.left.set()
        for _ in range(3):
            await asyncio.sleep(0)
        connection.close()
        return told, before, connection.disconnected

    told, before, disconnected = asyncio.run(scenario())
    assert told == ["gone"] and not before and disconnected


def test_when_disconnected_is_not_told_after_close() -> None:
    async def scenario() -> list[str]:
        client = Client()
        connection = Connection({}, client.receive)
        told: list[str] = []
        connection.when_disconnected(lambda: told.append("gone"))
        connection.close()  # the response is done: stop watching
        client.left.set()
        for _ in range(3):
            await asyncio.sleep(0)
        return told

    assert asyncio.run(scenario()) == []


def test_an_announced_shutdown_ends_a_long_wait_at_once() -> None:
    async def scenario() -> tuple[bool, bool]:
        client = Client()
        connection = Connection({}, client.receive)
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, announce_shutdown, loop)
        try:
            waited = await connection.sleep(60)
            return waited, connection.shutting_down()
        finally:
            forget_shutdown(loop)
            connection.close()

    assert asyncio.run(scenario()) == (False, True)


def test_the_tap_finds_a_live_connection_by_its_scope_and_forgets_it_when_closed() -> None:
    seen: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        connection = Connection(scope, receive)
        seen.append(connection.transport is not None)
        connection.close()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with ServerThread(app) as server:
        for _ in range(2):
            http = client_module.HTTPConnection(server.host, server.port, timeout=5)
            http.request("GET", "/")
            assert http.getresponse().status == 204
            http.close()
        deadline = time.monotonic() + 5
        while connection_module._transports and time.monotonic() < deadline:
            time.sleep(0.01)
    assert seen == [True, True]
    assert not connection_module._transports
