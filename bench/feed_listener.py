"""A dashboard page's feed, stood in for by a reader of `GET /_mock/events` that drains every
event as a browser would, for the "feed open" side of a throughput figure."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bench.servers import Unavailable

REQUEST = b"GET /_mock/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"


@contextmanager
def feed_open(port: int) -> Iterator[None]:
    """While the block runs, one listener reads the server's journal feed as it comes."""
    listener = socket.create_connection(("127.0.0.1", port), timeout=10)
    listener.sendall(REQUEST)
    head = listener.recv(65536)
    if not head.startswith(b"HTTP/1.1 200"):
        listener.close()
        status = head.partition(b"\r\n")[0]
        raise Unavailable(f"GET /_mock/events answered {status!r}")

    def drain() -> None:
        try:
            while listener.recv(65536):
                pass
        except OSError:  # the block ended: the socket was shut down under the read
            pass

    reader = threading.Thread(target=drain, name="bench-feed", daemon=True)
    reader.start()
    try:
        yield
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # ends the read; the server sees the page leave
        listener.close()
        reader.join(timeout=5)
