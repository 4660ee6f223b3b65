"""Getting bytes to the client: JSON bodies and pre-encoded SSE streams.

Starlette's `StreamingResponse` pays one ASGI round trip per event. With no pacing configured
there is no reason to: `EventStream` sends the whole pre-rendered stream in one `http.response.body`
message (still `text/event-stream`, still parsed event by event by the client). With pacing it
sends each frame at its scheduled time, computed from the stream's start so delays don't drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

JSON_TYPE = b"application/json"


class RawResponse(Response):
    """A Starlette `Response` without per-request header munging: status, headers and a body
    are set once and sent in two ASGI messages."""

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: bytes = JSON_TYPE,
    ) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        raw = [(b"content-type", media_type), (b"content-length", str(len(body)).encode())]
        if headers:
            raw.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body})


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> RawResponse:
    return RawResponse(orjson.dumps(payload), status, headers)


class EventStream:
    """A server-sent event stream from pre-encoded frames.

    `schedule[i]` is the offset in seconds from the start at which frame i may be sent; `None`
    means "no pacing" and the frames go out in one body message.
    """

    __slots__ = ("frames", "headers", "schedule", "sent", "status")

    def __init__(
        self,
        frames: Sequence[bytes],
        *,
        headers: Mapping[str, str] | None = None,
        media_type: bytes = b"text/event-stream; charset=utf-8",
        schedule: Sequence[float] | None = None,
        status: int = 200,
    ) -> None:
        self.frames = frames
        self.schedule = schedule
        self.status = status
        self.sent = 0
        raw = [(b"content-type", media_type), (b"cache-control", b"no-cache")]
        if headers:
            raw.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())
        self.headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        if self.schedule is None:
            self.sent = len(self.frames)
            await send({"type": "http.response.body", "body": b"".join(self.frames)})
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        for frame, offset in zip(self.frames, self.schedule, strict=True):
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            self.sent += 1
        await send({"type": "http.response.body", "body": b""})
