"""The client's connection, for responses that wait or break it on purpose.

ASGI gives an app `send` and `receive`, not the socket. Three things need more:

- noticing a client that went away while a response waits (pacing, a stall, a hang): a
  watcher task reads `receive()` until `http.disconnect`, and every wait races it;
- noticing that the server is shutting down, so a stall or a hang doesn't hold shutdown up;
- closing the connection without an HTTP ending (an abrupt cut, a TCP reset, bytes that are
  not HTTP, no response at all).

For the last, mockserver's servers run uvicorn with `ConnectionTap` as its HTTP protocol (the
public `http=` setting): it hands each connection to the protocol uvicorn would have chosen
itself and only records the connection's transport, keyed by the addresses that the request's
scope carries (`server`, `client`). Under another server, or another protocol, breaking the
connection falls back to ending the response early (the server closes a connection whose
response did not finish).

Shutdown is announced by the server that runs the app (`announce_shutdown`): mockserver's own
servers do it when they begin to stop. Apps run elsewhere rely on the server cancelling them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from typing import Any, Protocol

from starlette.types import Receive, Scope

SHUTDOWN_POLL = 0.25  # seconds between checks for a server shutdown during a long wait
CLOSE_WAIT = 1.0  # seconds to wait for the server to notice a connection we closed

Address = tuple[str, int]


class Transport(Protocol):
    """What `Connection` uses of an asyncio (or uvloop) transport."""

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


# Live connections of every tapped server in this process: (server address, client address).
_transports: dict[tuple[Address, Address], Transport] = {}
# Event loops whose server has begun to shut down.
_stopping: set[asyncio.AbstractEventLoop] = set()


def _address(info: Any) -> Address | None:
    return (str(info[0]), int(info[1])) if isinstance(info, tuple) else None


def _key_of(transport: Transport) -> tuple[Address, Address] | None:
    server = _address(transport.get_extra_info("sockname"))
    client = _address(transport.get_extra_info("peername"))
    return None if server is None or client is None else (server, client)


class ConnectionTap:
    """uvicorn's own HTTP protocol for a connection, with the connection's transport recorded
    for `Connection`. Every protocol method but the two below goes straight to uvicorn's."""

    def __init__(self, **options: Any) -> None:
        from uvicorn.config import HTTP_PROTOCOLS
        from uvicorn.importer import import_from_string

        self._protocol = import_from_string(HTTP_PROTOCOLS["auto"])(**options)
        self._key: tuple[Address, Address] | None = None

    def connection_made(self, transport: Transport) -> None:
        self._key = _key_of(transport)
        if self._key is not None:
            _transports[self._key] = transport
        self._protocol.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._key is not None:
            _transports.pop(self._key, None)
        self._protocol.connection_lost(exc)

    # Forwarded by name, not through `__getattr__`: a wrapper that calls them (`head_deadline`)
    # would otherwise pay a failed attribute lookup (an `AttributeError` made and dropped)
    # for every chunk received.
    def data_received(self, data: bytes) -> None:
        self._protocol.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._protocol.eof_received()
        return result

    def pause_writing(self) -> None:
        self._protocol.pause_writing()

    def resume_writing(self) -> None:
        self._protocol.resume_writing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._protocol, name)


def websocket_protocol(**options: Any) -> Any:
    """uvicorn's WebSocket protocol (`websockets-sansio`) for one upgraded connection, given
    to uvicorn as its `ws` setting: the library is imported on the first upgrade."""
    from uvicorn.config import WS_PROTOCOLS
    from uvicorn.importer import import_from_string

    protocol = import_from_string(WS_PROTOCOLS["websockets-sansio"])
    return protocol(**options)


def forget(scope: Scope) -> None:
    """Stop tracking the connection of `scope`: it was upgraded to a WebSocket, whose
    protocol, not the tap, now sees it close."""
    server, client = _address(scope.get("server")), _address(scope.get("client"))
    if server is not None and client is not None:
        _transports.pop((server, client), None)


def announce_shutdown(loop: asyncio.AbstractEventLoop) -> None:
    """The server on `loop` begins to shut down: long waits on it end now."""
    _stopping.add(loop)


def forget_shutdown(loop: asyncio.AbstractEventLoop) -> None:
    _stopping.discard(loop)


class Connection:
    """One request's connection. Call `close()` when the response is done (it stops the
    disconnect watcher)."""

    __slots__ = ("_loop", "_watcher", "disconnected", "receive", "transport")

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.receive = receive
        self._loop = asyncio.get_running_loop()
        server, client = _address(scope.get("server")), _address(scope.get("client"))
        self.transport: Transport | None = (
            _transports.get((server, client)) if server and client else None
        )
        self._watcher: asyncio.Task[None] | None = None
        self.disconnected = False

    def shutting_down(self) -> bool:
        """Whether the server running this request has begun to shut down."""
        return self._loop in _stopping

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
        loop = self._loop
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
        # Let the server see the connection go before the app returns, so that it does not
        # report the response as one the app left unfinished.
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
