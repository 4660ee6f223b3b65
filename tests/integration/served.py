"""`mockserver serve` in a subprocess on a free loopback port, for tests of what only a real
command shows (several worker processes, a restart on a state file, its log lines)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

START_TIMEOUT = 60.0  # seconds: imports and worker start-up on a busy 2-core machine
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, logs: Path) -> None:
        self.process, self.port, self.logs = process, port, logs
        self.url = f"http://127.0.0.1:{port}"

    def client(self) -> httpx.Client:
        """A client that opens a new connection for every request, so that the kernel hands
        each to whichever worker accepts it first."""
        return httpx.Client(
            base_url=self.url, timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0)
        )

    def stderr(self) -> str:
        return (self.logs / "stderr.txt").read_text(errors="replace")


@contextmanager
def serve(*args: str, logs: Path) -> Iterator[Served]:
    """`mockserver serve ARGS` until the block ends (SIGTERM, then SIGKILL if it hangs)."""
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with (logs / "stdout.txt").open("wb") as out, (logs / "stderr.txt").open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", *args, "--port", str(port)],
            stdout=out,
            stderr=err,
            env={**os.environ, "MOCKSERVER_SETTINGS": ""},
        )
        served = Served(process, port, logs)
        try:
            _wait_until_up(served)
            yield served
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with served.client() as client:
        while time.monotonic() < deadline:
            if served.process.poll() is not None:
                raise RuntimeError(f"mockserver serve exited early:\n{served.stderr()}")
            try:
                if client.get("/_mock/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"mockserver serve not up after {START_TIMEOUT} s:\n{served.stderr()}")
