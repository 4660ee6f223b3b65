"""A dashboard page's feed, stood in for by a reader of `GET /_mock/events` that drains every
event as a browser would, for the "feed open" side of a throughput figure."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bench.servers import Unavailable


@contextmanager
def feed_open(port: int) -> Iterator[None]:
    """While the block runs, one listener reads the server's journal feed to the end."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/_mock/events", headers={"Accept": "text/event-stream"})
    response = connection.getresponse()
    if response.status != 200:
        connection.close()
        raise Unavailable(f"GET /_mock/events answered {response.status}")
    read = threading.Event()

    def drain() -> None:
        try:
            while response.read1(65536):
                read.set()
        except (OSError, ValueError):  # the block ended and the socket closed under the read
            pass

    reader = threading.Thread(target=drain, name="bench-feed", daemon=True)
    reader.start()
    try:
        yield
    finally:
        # Closing the socket ends the read; the server sees the listener leave.
        if connection.sock is not None:
            connection.sock.shutdown(2)
        connection.close()
        reader.join(timeout=5)
