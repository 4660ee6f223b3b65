"""What came back from the upstream, as it arrived: the body's bytes and, for an event stream,
when each event was complete (seconds since the request was sent).

    capture = Capture(started=clock())
    for chunk in response: capture.feed(chunk, clock())
    capture.events()   # the `data:` payloads, in order
    capture.timing()   # (ttft, mean interval) or None
"""

from __future__ import annotations

import itertools
import statistics


class Capture:
    def __init__(self, started: float) -> None:
        self.started = started
        self.chunks: list[bytes] = []
        # Arrival time of each complete event (its terminating blank line), from `started`.
        self.event_times: list[float] = []
        self.finished: float | None = None
        self._pending = b""

    def feed(self, chunk: bytes, now: float) -> None:
        self.chunks.append(chunk)
        self._pending = (self._pending + chunk).replace(b"\r\n", b"\n")
        ends = self._pending.count(b"\n\n")
        if ends:
            self.event_times.extend([now - self.started] * ends)
            self._pending = self._pending[self._pending.rfind(b"\n\n") + 2 :]

    def finish(self, now: float) -> None:
        self.finished = now - self.started

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def events(self) -> list[str]:
        """The `data:` payload of each SSE event (multi-line data joined with newlines), in
        order; comments, `event:` lines and `[DONE]` are left out."""
        text = self.body.decode("utf-8", errors="replace").replace("\r\n", "\n")
        payloads = []
        for block in text.split("\n\n"):
            data = [line[5:].removeprefix(" ") for line in block.split("\n") if line[:5] == "data:"]
            if data and data != ["[DONE]"]:
                payloads.append("\n".join(data))
        return payloads

    def timing(self) -> tuple[float, float] | None:
        """(time to the first event, mean interval between the later ones), in seconds rounded
        to the millisecond; None for a body that is not a stream of several events."""
        times = self.event_times
        if not times:
            return None
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        interval = statistics.fmean(gaps) if gaps else 0.0
        return round(times[0], 3), round(interval, 3)
