"""The Realtime API's server events, in the GA names or the beta ones.

The GA API (`client.realtime.connect()`) and the beta (`client.beta.realtime.connect()`, sent
with `OpenAI-Beta: realtime=v1`) differ in names, not in order:

    GA                                       beta
    response.output_text.delta / .done       response.text.delta / .done
    response.output_audio.delta / .done      response.audio.delta / .done
    response.output_audio_transcript.*       response.audio_transcript.*
    content parts output_text, output_audio  text, audio
    conversation.item.added + .done          conversation.item.created
    session.output_modalities, audio.{...}   session.modalities, voice, *_audio_format

One response, as the live API orders it (shapes from the OpenAPI spec's examples):

    response.created
    per output item:  response.output_item.added, conversation.item.added
      message:        response.content_part.added,
                      text:  output_text.delta..., output_text.done
                      audio: output_audio_transcript.delta and output_audio.delta interleaved,
                             output_audio.done, output_audio_transcript.done
                      response.content_part.done
      function_call:  function_call_arguments.delta..., function_call_arguments.done
                      response.output_item.done, conversation.item.done
    response.done     (every item, audio left out, and the usage)
"""

from __future__ import annotations

import base64
from itertools import zip_longest
from typing import Any

from mockserver.core.reply import Choice

SAMPLE_RATE = 24_000
PCM_BYTES_PER_SECOND = SAMPLE_RATE * 2  # pcm16 mono
AUDIO_CHUNK = 4_800  # audio bytes one delta carries: 0.1 s of pcm16
AUDIO_TOKENS_PER_SECOND = 10  # as chat's audio models count here (OpenAI publishes none)


class Names:
    """The event and content-part words of one API version."""

    def __init__(self, beta: bool) -> None:
        self.beta = beta
        self.text = "response.text" if beta else "response.output_text"
        self.audio = "response.audio" if beta else "response.output_audio"
        self.transcript = (
            "response.audio_transcript" if beta else "response.output_audio_transcript"
        )
        self.text_part = "text" if beta else "output_text"
        self.audio_part = "audio" if beta else "output_audio"


class EventIds:
    """`event_…` ids: the session's key and a count, so one session's events never repeat."""

    def __init__(self, mint: Any) -> None:
        self._mint = mint
        self.count = 0

    def next(self) -> str:
        self.count += 1
        made: str = self._mint("event", self.count)
        return made


def item_added(names: Names, item: dict[str, Any], previous: str | None) -> list[dict[str, Any]]:
    """What a new conversation item is announced with (beta: one event; GA: added + done)."""
    if names.beta:
        return [{"type": "conversation.item.created", "previous_item_id": previous, "item": item}]
    return [
        {"type": "conversation.item.added", "previous_item_id": previous, "item": item},
        {"type": "conversation.item.done", "previous_item_id": previous, "item": item},
    ]


def response_events(
    names: Names,
    response: dict[str, Any],
    choice: Choice | None,
    audio: bytes | None,
    previous_item: str | None,
) -> list[dict[str, Any]]:
    """Every event of one response, `response.done` last; `response` is the finished object
    (items with their final content), `audio` the spoken message's pcm16 when it speaks."""
    events: list[dict[str, Any]] = [{"type": "response.created", "response": in_progress(response)}]
    response_id = response["id"]
    call_index = 0
    for output_index, item in enumerate(response["output"]):
        where = {"response_id": response_id, "output_index": output_index}
        events.append({"type": "response.output_item.added", **where, "item": _pending(item)})
        if names.beta:
            events.append(
                {
                    "type": "conversation.item.created",
                    "previous_item_id": previous_item,
                    "item": _pending(item),
                }
            )
        else:
            events.append(
                {
                    "type": "conversation.item.added",
                    "previous_item_id": previous_item,
                    "item": _pending(item),
                }
            )
        at = {"response_id": response_id, "item_id": item["id"], "output_index": output_index}
        if item["type"] == "message":
            events.extend(_message_events(names, at, item, choice, audio))
        else:
            pieces = _argument_pieces(choice, call_index, item["arguments"])
            call_index += 1
            for piece in pieces:
                events.append(
                    {
                        "type": "response.function_call_arguments.delta",
                        **at,
                        "call_id": item["call_id"],
                        "delta": piece,
                    }
                )
            events.append(
                {
                    "type": "response.function_call_arguments.done",
                    **at,
                    "call_id": item["call_id"],
                    "name": item["name"],
                    "arguments": item["arguments"],
                }
            )
        events.append({"type": "response.output_item.done", **where, "item": item})
        if not names.beta:
            events.append(
                {"type": "conversation.item.done", "previous_item_id": previous_item, "item": item}
            )
        previous_item = item["id"]
    events.append({"type": "response.done", "response": response})
    return events


def _message_events(
    names: Names,
    at: dict[str, Any],
    item: dict[str, Any],
    choice: Choice | None,
    audio: bytes | None,
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    part = item["content"][0]
    where = {**at, "content_index": 0}
    if part["type"] == names.audio_part:
        transcript = part["transcript"]
        events.append(
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": names.audio_part, "transcript": ""},
            }
        )
        pieces = _pieces(choice.text_pieces if choice else [], transcript)
        data = audio or b""
        chunks = [data[i : i + AUDIO_CHUNK] for i in range(0, len(data), AUDIO_CHUNK)]
        for piece, chunk in zip_longest(pieces, chunks):
            if piece is not None:
                events.append({"type": f"{names.transcript}.delta", **where, "delta": piece})
            if chunk is not None:
                encoded = base64.b64encode(chunk).decode("ascii")
                events.append({"type": f"{names.audio}.delta", **where, "delta": encoded})
        events.append({"type": f"{names.audio}.done", **where})
        events.append({"type": f"{names.transcript}.done", **where, "transcript": transcript})
    else:
        text = part["text"]
        events.append(
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": names.text_part, "text": ""},
            }
        )
        for piece in _pieces(choice.text_pieces if choice else [], text):
            events.append({"type": f"{names.text}.delta", **where, "delta": piece})
        events.append({"type": f"{names.text}.done", **where, "text": text})
    events.append({"type": "response.content_part.done", **where, "part": part})
    return events


def in_progress(response: dict[str, Any]) -> dict[str, Any]:
    """The response as `response.created` shows it: no output, no usage yet."""
    return {
        **response,
        "status": "in_progress",
        "status_details": None,
        "output": [],
        "usage": None,
    }


def _pending(item: dict[str, Any]) -> dict[str, Any]:
    """An output item as `response.output_item.added` shows it: nothing in it yet."""
    if item["type"] == "message":
        return {**item, "status": "in_progress", "content": []}
    return {**item, "status": "in_progress", "arguments": ""}


def _pieces(pieces: list[str], whole: str) -> list[str]:
    if pieces and "".join(pieces) == whole:
        return pieces
    return [whole] if whole else []


def _argument_pieces(choice: Choice | None, index: int, arguments: str) -> list[str]:
    pieces = choice.argument_pieces[index] if choice and index < len(choice.argument_pieces) else []
    return _pieces(pieces, arguments)


def audio_tokens(seconds: float) -> int:
    return round(seconds * AUDIO_TOKENS_PER_SECOND)


def usage_body(
    prompt_tokens: int,
    input_audio_tokens: int,
    cached_tokens: int,
    text_tokens: int,
    output_audio_tokens: int,
) -> dict[str, Any]:
    """`response.usage`: input and output split into text and audio tokens."""
    output_tokens = text_tokens + output_audio_tokens
    return {
        "total_tokens": prompt_tokens + output_tokens,
        "input_tokens": prompt_tokens,
        "output_tokens": output_tokens,
        "input_token_details": {
            "text_tokens": prompt_tokens - input_audio_tokens,
            "audio_tokens": input_audio_tokens,
            "image_tokens": 0,
            "cached_tokens": cached_tokens,
            "cached_tokens_details": {
                "text_tokens": cached_tokens,
                "audio_tokens": 0,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": output_audio_tokens},
    }


def error_event(
    message: str,
    *,
    type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The `error` event; `event_id` names the client event that caused it."""
    return {
        "type": "error",
        "error": {
            "type": type,
            "code": code,
            "message": message,
            "param": param,
            "event_id": event_id,
        },
    }
