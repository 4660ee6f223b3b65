"""Run the server in a daemon thread on a socket bound *before* start-up (no free-port race).

Used by the pytest plugin and by the project's own integration tests:

    with ServerThread(create_app(settings)) as server:
        openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test")
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from mockserver.http.connection import announce_shutdown, forget_shutdown

# What `mockserver serve` sets too. No `date` header: it is the wall clock, and responses are
# byte-identical across runs, headers included (RFC 9110 lets a server without a reliable
# clock leave it out). No proxy-headers middleware: nothing here reads the client's address or
# scheme, which it would rewrite from `X-Forwarded-*` on every request.
UVICORN_OPTIONS: dict[str, Any] = {
    "date_header": False,
    "proxy_headers": False,
    # uvicorn's own protocol, with each connection findable for connection faults
    # (`connection.ConnectionTap`), wrapped to close connections that don't send a request
    # head in time (`head_deadline`).
    "http": "mockserver.http.head_deadline:HeadDeadline",
    # WebSockets (the Realtime API, Responses over a socket), their library imported on the
    # first upgrade, not at every start (~90 ms).
    "ws": "mockserver.http.connection:websocket_protocol",
    # A response that waits on purpose (a stall, a hang) ends when shutdown is announced; one
    # under a server that can't announce it is cancelled after this long.
    "timeout_graceful_shutdown": 3,
}


class Server(uvicorn.Server):
    """uvicorn's server, with an event set when its start-up has ended, well or not, and its
    shutdown announced to the responses that wait on purpose (`mockserver.http.connection`)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        announce_shutdown(loop)
        try:
            await super().shutdown(sockets)
        finally:
            forget_shutdown(loop)


class ServerThread:
    def __init__(
        self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *, loop: str = "asyncio"
    ) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        # The stdlib event loop by default, not uvloop: this server carries a test session's
        # requests, not a load test (that is `mockserver serve`), and importing uvloop took
        # ~8 ms of the pytest fixture's start-up. Paced streams keep their timing on either.
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop=loop,
            **UVICORN_OPTIONS,
        )
        self.server = Server(config)
        self.thread = threading.Thread(target=self._run, name="mockserver", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        # Woken the moment start-up ends (polling `started` every 5 ms cost ~2.5 ms on average).
        while not self.server.ready.wait(0.05):
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"mockserver did not start on {self.url} within {timeout}s")
        if not self.server.started:  # start-up ended in failure; uvicorn logged why
            raise RuntimeError(f"mockserver did not start on {self.url}")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
