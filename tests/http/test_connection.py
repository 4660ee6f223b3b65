"""The client's connection as the paced paths see it: noticing a client that leaves."""

from __future__ import annotations

import asyncio
from typing import Any

from mockserver.http.connection import Connection


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
        connection = Connection(client.receive)
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
        connection = Connection(client.receive)
        told: list[str] = []
        connection.when_disconnected(lambda: told.append("gone"))
        connection.close()  # the response is done: stop watching
        client.left.set()
        for _ in range(3):
            await asyncio.sleep(0)
        return told

    assert asyncio.run(scenario()) == []
