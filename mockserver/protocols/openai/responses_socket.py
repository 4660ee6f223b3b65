"""The Responses API over a WebSocket (`wss://…/v1/responses`), as Codex and the openai SDK's
`client.responses.connect()` speak it.

Each text frame the client sends is one event: `{"type": "response.create", …the body of
POST /v1/responses…}` (`stream` is implied; `stream_id`, when given, is echoed on every event
of that response), or `response.processed` (Codex's acknowledgement, answered with nothing).
The server answers a `response.create` with the very events of the SSE stream, one JSON text
frame each (no `event:` lines). A request the HTTP API would refuse is one `error` event
carrying the HTTP status: `{"type": "error", "status": 400, "error": {type, code, message,
param}}` (the wrapped shape Codex reads), and the socket stays open for the next request.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.core.errors import APIError

ACKNOWLEDGEMENTS = ("response.processed",)


class SocketRequest:
    """One `response.create`: the HTTP body it stands for, and its lane."""

    def __init__(self, body: dict[str, Any], stream_id: str | None) -> None:
        self.body = body
        self.stream_id = stream_id


def read_event(text: str | bytes) -> SocketRequest | None:
    """The request in a client frame; None for an acknowledgement; an `APIError` otherwise."""
    try:
        event = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise APIError(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)",
            type="invalid_request_error",
        ) from None
    if not isinstance(event, dict):
        raise APIError(400, "The event must be a JSON object.", type="invalid_request_error")
    kind = event.get("type")
    if kind in ACKNOWLEDGEMENTS:
        return None
    if kind != "response.create":
        raise APIError(
            400,
            f"Invalid value: {kind!r}. Supported values are: 'response.create'.",
            type="invalid_request_error",
            code="invalid_value",
            param="type",
        )
    stream_id = event.get("stream_id")
    body = {k: v for k, v in event.items() if k not in ("type", "stream_id")}
    body["stream"] = True  # implied on a socket; what the HTTP path reads
    return SocketRequest(body, stream_id if isinstance(stream_id, str) else None)


def events_of_stream(body: bytes, stream_id: str | None) -> list[bytes]:
    """The SSE stream's events as the socket's text frames (`data:` payloads)."""
    frames = []
    for block in body.split(b"\n\n"):
        for line in block.split(b"\n"):
            if line.startswith(b"data: "):
                data = line[6:]
                if stream_id is not None:
                    data = orjson.dumps({**orjson.loads(data), "stream_id": stream_id})
                frames.append(data)
    return frames


def error_event(status: int, body: bytes | dict[str, Any], stream_id: str | None) -> bytes:
    """An HTTP error answer (`{"error": {...}}`, or the gateway's) as the socket's `error`."""
    parsed = orjson.loads(body) if isinstance(body, bytes) else body
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        error = {"type": "error", "message": str(parsed)}
    event: dict[str, Any] = {"type": "error", "status": status, "error": error}
    if stream_id is not None:
        event["stream_id"] = stream_id
    return orjson.dumps(event)


def api_error_event(error: APIError) -> bytes:
    """A frame that is no request at all, as an `error` event."""
    fields = {"type": error.type, "code": error.code, "message": error.message}
    return error_event(error.status, {"error": {**fields, "param": error.param}}, None)
