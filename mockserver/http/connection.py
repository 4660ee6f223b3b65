"""The client's connection, for responses that wait or break it on purpose.

ASGI gives an app `send` and `receive`, not the socket. Three things need more:

- noticing a client that went away while a response waits (pacing, a stall, a hang): a
  watcher task reads `receive()` until `http.disconnect`, and every wait races it;
- noticing that the server is shutting down, so a stall or a hang doesn't hold shutdown up;
- closing the connection without an HTTP ending (an abrupt cut, a TCP reset, bytes that are
  not HTTP, no response at all).

uvicorn (what mockserver serves with) puts no transport in the scope, but its `receive` is a
bound method of the request cycle, which holds the connection's `asyncio.Transport` and its
`keep_alive` flag; uvicorn clears that flag on every open connection when it begins a graceful
shutdown. `Connection` reads both from there. Under another server these are missing: waits
then still stop on `http.disconnect`, and breaking the connection falls back to ending the
response (the server closes the connection when the app returns without finishing).

After closing the transport, `abort()` waits until uvicorn has seen the connection go
(`http.disconnect`), so the app's return is not logged as an incomplete response.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from typing import Any, Protocol

from starlette.types import Receive

SHUTDOWN_POLL = 0.25  # seconds between checks for a server shutdown during a long wait
CLOSE_WAIT = 1.0  # seconds to wait for the server to notice a connection we closed


class Transport(Protocol):
    """What `Connection` uses of an asyncio (or uvloop) transport."""

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


class Connection:
    """One request's connection. Call `close()` when the response is done (it stops the
    disconnect watcher)."""

    __slots__ = ("_cycle", "_keep_alive", "_watcher", "disconnected", "receive")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self._cycle: Any = getattr(receive, "__self__", None)
        self._keep_alive = bool(getattr(self._cycle, "keep_alive", False))
        self._watcher: asyncio.Task[None] | None = None
        self.disconnected = False

    @property
    def transport(self) -> Transport | None:
        # uvloop's transports don't subclass asyncio.Transport: check for what is used.
        transport = getattr(self._cycle, "transport", None)
        if all(callable(getattr(transport, name, None)) for name in ("write", "abort", "close")):
            return transport
        return None

    def shutting_down(self) -> bool:
        """Whether the server has begun a graceful shutdown (uvicorn only; see module doc)."""
        return self._keep_alive and not getattr(self._cycle, "keep_alive", True)

    def gone(self) -> bool:
        """Whether to stop now: the client disconnected or the server is shutting down (a
        cheap check, which the pacer makes of every paced stream a few times a second)."""
        watcher = self._watch()
        if watcher.done():
            self.disconnected = True
        return self.disconnected or self.shutting_down()

    def when_disconnected(self, callback: Callable[[], None]) -> None:
        """Call `callback` as soon as the client disconnects (not after `close()`)."""

        def done(watcher: asyncio.Task[None]) -> None:
            if not watcher.cancelled():
                self.disconnected = True
                callback()

        self._watch().add_done_callback(done)

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; False as soon as the client disconnects or the server shuts down."""
        watcher = self._watch()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return True
            done, _ = await asyncio.wait((watcher,), timeout=min(remaining, SHUTDOWN_POLL))
            if done:
                self.disconnected = True
                return False
            if self.shutting_down():
                return False

    def write_raw(self, data: bytes) -> bool:
        """Bytes straight onto the connection, outside HTTP; False when that isn't possible."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        transport.write(data)
        return True

    async def abort(self, *, reset: bool = False) -> None:
        """Close the connection now: after what was written (`reset=False`, a FIN), or with a
        TCP reset that discards it (`reset=True`, SO_LINGER 0)."""
        transport = self.transport
        if transport is None:
            return
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        # Let the server see the connection go before the app returns (see module doc).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._watch()), CLOSE_WAIT)

    def close(self) -> None:
        """Stop watching for a disconnect; nothing is left running."""
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()
        self._watcher = None

    def _watch(self) -> asyncio.Task[None]:
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._until_disconnect())
        return self._watcher

    async def _until_disconnect(self) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                return
