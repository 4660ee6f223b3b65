"""Mid-stream faults: where a pre-rendered stream is cut, always on an event boundary.

Positions count events from 0. A cut never lets the stream's last event through (`[DONE]`,
`message_stop`, `response.completed`, Gemini's final chunk), so a cut stream is never mistaken
for a complete one:

| fault | sent | then |
| --- | --- | --- |
| `disconnect_after: N` | events 0..N-1 | abrupt close, no HTTP terminator |
| `truncate_after: N` | events 0..N-1 | clean end of the HTTP response |
| `error_event_after: N` | events 0..N-1, the dialect's error event | clean end |
| `stall_after: N` | events 0..N-1 | nothing for `stall_for` s (default 30), then abrupt close |
| `malformed_event_at: N` | every event, event N with its JSON cut in half | as it would |

A non-streamed body is one JSON document: `disconnect_after` / `stall_after` send its first
half under the full `content-length` and then close (or stall); `truncate_after` and
`malformed_event_at` send its first half as a complete, invalid response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from msgspec import Struct

if TYPE_CHECKING:
    from mockserver.scenario import FaultSpec

Ending = Literal["complete", "abort", "stall"]
STREAM_KEYS = (
    "disconnect_after",
    "truncate_after",
    "error_event_after",
    "stall_after",
    "malformed_event_at",
)
DEFAULT_STALL = 30.0  # seconds a stall or a hang lasts unless `stall_for` says otherwise


class Cut(Struct, frozen=True):
    """What to send and how to end. `at` is the event the fault took effect at (None when
    nothing was cut); `length` is the content-length to declare for a cut body."""

    frames: list[bytes]
    ending: Ending = "complete"
    at: int | None = None
    stall_for: float = 0.0
    length: int | None = None


def has_stream_fault(fault: FaultSpec) -> bool:
    return any(getattr(fault, key) is not None for key in STREAM_KEYS)


def stall_seconds(fault: FaultSpec) -> float:
    return DEFAULT_STALL if fault.stall_for is None else fault.stall_for


def cut_stream(
    frames: Sequence[bytes], fault: FaultSpec, error_frame: Callable[[int], bytes]
) -> Cut:
    """Apply a fault's stream keys to a stream; `error_frame(n)` renders the dialect's error
    event as the n-th event. With several cut keys the first of `STREAM_KEYS` wins."""
    out = list(frames)
    at: int | None = None
    if fault.malformed_event_at is not None and out:
        at = min(fault.malformed_event_at, len(out) - 1)
        out[at] = malformed(out[at])
    last = max(len(out) - 1, 0)  # a cut always withholds the final event
    if fault.disconnect_after is not None:
        n = min(fault.disconnect_after, last)
        return Cut(out[:n], "abort", n)
    if fault.truncate_after is not None:
        n = min(fault.truncate_after, last)
        return Cut(out[:n], "complete", n)
    if fault.error_event_after is not None:
        n = min(fault.error_event_after, last)
        return Cut([*out[:n], error_frame(n)], "complete", n)
    if fault.stall_after is not None:
        n = min(fault.stall_after, last)
        return Cut(out[:n], "stall", n, stall_seconds(fault))
    return Cut(out, "complete", at)


def cut_body(body: bytes, fault: FaultSpec) -> Cut:
    """The same keys applied to a non-streamed JSON body (see the module docstring)."""
    half = body[: len(body) // 2]
    if fault.disconnect_after is not None:
        return Cut([half], "abort", 0, length=len(body))
    if fault.stall_after is not None:
        return Cut([half], "stall", 0, stall_seconds(fault), length=len(body))
    if fault.truncate_after is not None or fault.malformed_event_at is not None:
        return Cut([half], "complete", 0, length=len(half))
    return Cut([body], "complete", None, length=len(body))


def malformed(frame: bytes) -> bytes:
    """The same event with its payload cut in half, framing kept: an object cut before its
    closing brace is never valid JSON.

    malformed(b'data: {"a": 1, "b": 2}\\n\\n') -> b'data: {"a": 1,\\n\\n'
    """
    # `data:` opens a line (JSON strings can't hold a raw newline); a JSON-array frame has none.
    if frame.startswith(b"data:"):
        start = 5
    else:
        line = frame.find(b"\ndata:")
        start = 0 if line < 0 else line + 6
    if start and frame[start : start + 1] == b" ":
        start += 1
    end = len(frame.rstrip(b"\r\n"))
    payload = frame[start:end]
    return frame[:start] + payload[: max(1, len(payload) // 2)] + frame[end:]
