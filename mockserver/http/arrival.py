"""When a request reached the server: the kernel's word for it, not the event loop's.

A reply's timing counts from the request's arrival: a TTFT of 200 ms is 200 ms after the
request came in, as its client measures it. The app learns of a request only when the event
loop gets to it. On a busy server, or one the hypervisor briefly stops, that was up to ~80 ms
late during a burst of new connections. Every stream started then kept that lateness to its
last event, because its schedule counted from when the app saw it (measured with 500 paced
streams: the app saw 1 % of the requests 15-80 ms after they were sent, while the pacer's timer
itself fired at most ~18 ms late).

Linux keeps, for each TCP connection, when data last arrived on it; `TCP_INFO` reports its age
(`tcpi_last_data_recv`, in milliseconds). The data that last arrived is the request's last
bytes, or a later request's (pipelining), so it never dates a request too early. The age is
counted in jiffies (1/HZ: 4 ms at HZ=250), so the true age is within a jiffy either side of it.
`ArrivalClock.received_at` takes a jiffy off, so the estimate is never earlier than the true
arrival. A frame may then leave up to a jiffy late, but never early. The jiffy is measured
once, in a daemon thread started by the first question, on a loopback connection
(`measure_jiffy`). Until it is known, 10 ms is assumed (HZ is 100 or more).

The servers put each connection's clock in its requests' scopes (`scope["extensions"][ARRIVAL]`,
`mockserver.http.protocol`). Only a request whose answer is timed asks it (`arrived`): the
question is a system call, ~2-5 µs. Where `TCP_INFO` isn't (not Linux, a Unix socket), or the app
runs under another server, the app's own stamp stands.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from typing import Any

from starlette.types import Scope

ARRIVAL = "mockserver.arrival"  # the scope extension: {"clock": ArrivalClock}
# `struct tcp_info` up to and including `tcpi_last_data_recv` (a u32 at byte 52), stable since
# Linux 2.6.
_TCP_INFO_SIZE = 56
_LAST_DATA_RECV = slice(52, 56)
_TCP_INFO: int | None = getattr(socket, "TCP_INFO", None) if sys.platform == "linux" else None
ASSUMED_JIFFY = 0.010  # seconds: the longest jiffy Linux has (HZ=100), until one is measured
MAX_AGE = 60.0  # seconds: an older age means no data came on this connection for the request


def _age(sock: Any) -> float:
    """Seconds since data last arrived on `sock`, as the kernel counts them (whole jiffies)."""
    assert _TCP_INFO is not None
    info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, _TCP_INFO_SIZE)
    return int.from_bytes(info[_LAST_DATA_RECV], sys.byteorder) / 1000


def measure_jiffy(tries: int = 3, timeout: float = 0.1) -> float | None:
    """One jiffy in seconds, as `TCP_INFO` ages step: the first age above zero of a byte sent
    over loopback (the least of `tries`: a pause of this thread could skip a step). None where
    `TCP_INFO` isn't."""
    if _TCP_INFO is None:
        return None
    steps: list[float] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        for _ in range(tries):
            with socket.create_connection(server.getsockname()) as sender:
                receiver, _ = server.accept()
                with receiver:
                    sender.send(b"x")
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline:
                        age = _age(receiver)
                        if age > 0:
                            steps.append(age)
                            break
                        time.sleep(0.0002)
    return min(steps) if steps else None


class _Jiffy:
    """The jiffy `received_at` takes off an age: `ASSUMED_JIFFY` until measured."""

    def __init__(self) -> None:
        self.seconds = ASSUMED_JIFFY
        self._lock = threading.Lock()
        self._measuring = False

    def measure_soon(self) -> None:
        """Measure it once, in a daemon thread (a few milliseconds, nearly all asleep)."""
        if self._measuring:  # every connection asks: answer without the lock once started
            return
        with self._lock:
            if self._measuring or _TCP_INFO is None:
                return
            self._measuring = True
        threading.Thread(target=self._measure, name="mockserver-jiffy", daemon=True).start()

    def _measure(self) -> None:
        try:
            measured = measure_jiffy()
        except OSError:  # no loopback TCP here: keep the assumption
            return
        if measured is not None:
            self.seconds = min(measured, ASSUMED_JIFFY)


JIFFY = _Jiffy()


class ArrivalClock:
    """One connection's word on when its last request arrived."""

    __slots__ = ("_socket",)

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self._socket = transport.get_extra_info("socket") if _TCP_INFO is not None else None

    def received_at(self) -> float | None:
        """When data last came in on the connection (a `time.monotonic()`), never earlier than
        it did; None when the kernel can't tell."""
        if self._socket is None:
            return None
        try:
            age = _age(self._socket)
        except OSError:  # not TCP (a Unix socket), or already closed
            self._socket = None
            return None
        JIFFY.measure_soon()  # on the first timed request: not in a server's start-up
        if age > MAX_AGE:
            return None
        return time.monotonic() - max(0.0, age - JIFFY.seconds)


def arrived(scope: Scope, seen: float) -> float:
    """When the request arrived: `seen` (a `time.monotonic()` taken when the app saw it), or
    earlier when the server's connection knows better."""
    extension = scope.get("extensions", {}).get(ARRIVAL)
    if extension is None:
        return seen
    received = extension["clock"].received_at()
    return seen if received is None else min(seen, received)
