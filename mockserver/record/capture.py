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
from collections.abc import Callable


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

    def blocks(self) -> list[str | None]:
        """The `data:` payload of each complete SSE event (multi-line data joined with
        newlines; None for an event without data, such as a comment), in the order of
        `event_times`."""
        text = self.body.decode("utf-8", errors="replace").replace("\r\n", "\n")
        payloads: list[str | None] = []
        for block in text.split("\n\n")[: len(self.event_times)]:
            data = [line[5:].removeprefix(" ") for line in block.split("\n") if line[:5] == "data:"]
            payloads.append("\n".join(data) if data else None)
        return payloads

    def events(self) -> list[str]:
        """The payloads of the events that carry data, `[DONE]` left out."""
        return [data for data in self.blocks() if data is not None and data != "[DONE]"]

    def timing(
        self, carries_content: Callable[[str], bool] | None = None
    ) -> tuple[float, float] | None:
        """(time to the first event that carries content, mean interval between the content
        events), in seconds rounded to the millisecond, as a `latency:` spec's `ttft` and
        `chunk_interval` mean them; None for a body that is not an event stream. Without
        `carries_content`, every event counts."""
        times = self.event_times
        if carries_content is not None:
            blocks = self.blocks()
            content = [
                time
                for time, data in zip(times, blocks, strict=False)
                if data is not None and data != "[DONE]" and carries_content(data)
            ]
            times = content or times
        if not times:
            return None
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        interval = statistics.fmean(gaps) if gaps else 0.0
        return round(times[0], 3), round(interval, 3)
