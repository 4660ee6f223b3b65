"""Streamed pictures and speech, read back from the events the client was passed: the final
artifact of each stream (the pictures of its `*.completed` events, the audio of its
`speech.audio.delta` events put together, a transcription's text) and which events time the
stream.

    pictures_of([{"type": "image_generation.partial_image", ...},
                 {"type": "image_generation.completed", "b64_json": ...}])  ->  [b"\x89PNG..."]

A partial picture is a preview the upstream drew on the way: only the final one is kept (a
replay draws its own previews before it).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson

_PICTURE_DONE = ("image_generation.completed", "image_edit.completed")
_PICTURE_EVENTS = (*_PICTURE_DONE, "image_generation.partial_image", "image_edit.partial_image")
_USAGE_EVENTS = (*_PICTURE_DONE, "speech.audio.done", "transcript.text.done")
_PIECES = ("speech.audio.delta", "transcript.text.delta")


def _decoded(events: Sequence[str]) -> list[dict[str, Any]]:
    decoded = []
    for event in events:
        try:
            value = orjson.loads(event)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            decoded.append(value)
    return decoded


def pictures_of(events: Sequence[str]) -> list[bytes]:
    """The final picture of each image a streamed answer drew, in order."""
    return [
        base64.b64decode(event["b64_json"])
        for event in _decoded(events)
        if event.get("type") in _PICTURE_DONE and event.get("b64_json")
    ]


def usage_of(events: Sequence[str]) -> Any:
    """The usage a streamed answer reported (a finished picture's, `speech.audio.done`'s,
    `transcript.text.done`'s: the last one), or None."""
    usages = [
        event.get("usage")
        for event in _decoded(events)
        if event.get("type") in _USAGE_EVENTS and event.get("usage")
    ]
    return usages[-1] if usages else None


def speech_of(events: Sequence[str]) -> bytes:
    """The audio of a `stream_format: sse` speech answer: its deltas, in order."""
    return b"".join(
        base64.b64decode(event["audio"])
        for event in _decoded(events)
        if event.get("type") == "speech.audio.delta" and event.get("audio")
    )


def transcript_of(events: Sequence[str]) -> str:
    """The text of a streamed transcription: its `transcript.text.done`, else its deltas."""
    decoded = _decoded(events)
    for event in decoded:
        if event.get("type") == "transcript.text.done" and isinstance(event.get("text"), str):
            return str(event["text"])
    return "".join(
        str(event.get("delta") or "")
        for event in decoded
        if event.get("type") == "transcript.text.delta"
    )


def stream_failure(events: Sequence[str]) -> dict[str, Any] | None:
    """The error event of a media stream that failed half-way (`{"type": "error", ...}` or
    `{"error": {...}}`), or None."""
    for event in _decoded(events):
        error = event.get("error")
        if isinstance(error, dict):
            return error
        if event.get("type") == "error":
            return event
    return None


def carries_media(payload: str) -> bool:
    """Whether an event carries a piece of the artifact: what the recorded "time to first
    token" and interval time (a picture preview or the picture; an audio or text delta)."""
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(event, dict):
        return False
    return event.get("type") in (*_PICTURE_EVENTS, *_PIECES)
