"""The Responses API's stream of typed events, cut from a finished `response` body.

Order, as the live API sends it (every event carries `type` and a `sequence_number` counting up
from 0, and its SSE frame an `event: <type>` line; no `[DONE]` at the end):

    response.created, response.in_progress
    per output item:  response.output_item.added
      reasoning:      [reasoning_summary_part.added, reasoning_summary_text.delta...,
                       reasoning_summary_text.done, reasoning_summary_part.done]
      message:        content_part.added, output_text.delta... (or refusal.delta...),
                      [output_text.annotation.added...], output_text.done (refusal.done),
                      content_part.done
      function_call:  function_call_arguments.delta..., function_call_arguments.done
      custom_tool_call: custom_tool_call_input.delta..., custom_tool_call_input.done
      web_search_call: web_search_call.in_progress, .searching, .completed
                      response.output_item.done
    response.completed | response.incomplete

Delta events carry an `obfuscation` string (random padding against length side channels, on by
default, off with `stream_options.include_obfuscation: false`); ours is derived from the reply.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.core import ids
from mockserver.core.reply import Choice
from mockserver.protocols.dialect import sse_frame

TERMINAL_EVENTS = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
}


class EventWriter:
    """Numbers events and encodes each as one SSE frame."""

    def __init__(self, key: str | None, sequence_number: int = 0) -> None:
        self.frames: list[bytes] = []
        self.sequence_number = sequence_number
        # One pool of padding per reply; each delta takes a slice of it (cheaper than a hash each).
        self._padding = ids.base62(key, "obfuscation", 64) if key is not None else None

    def emit(self, kind: str, fields: dict[str, Any]) -> None:
        payload = {"type": kind, "sequence_number": self.sequence_number, **fields}
        self.frames.append(sse_frame(payload, event=kind))
        self.sequence_number += 1

    def deltas(
        self, kind: str, fields: dict[str, Any], pieces: list[str], extra: bytes = b""
    ) -> None:
        """One `kind` event per piece: `{type, sequence_number, **fields, delta, ...extra}`.

        Hot path (one frame per token): the constant parts are serialised once and spliced.
        """
        event = kind.encode()
        head = b"event: " + event + b'\ndata: {"type":"' + event + b'","sequence_number":'
        middle = b"," + orjson.dumps(fields)[1:-1] + b',"delta":'
        for piece in pieces:
            tail = extra
            if self._padding is not None:
                start = (self.sequence_number * 7) % 48
                padding = self._padding[start : start + max(2, 16 - len(piece))]
                tail += b',"obfuscation":"' + padding.encode() + b'"'
            self.frames.append(
                head
                + str(self.sequence_number).encode()
                + middle
                + orjson.dumps(piece)
                + tail
                + b"}\n\n"
            )
            self.sequence_number += 1


def stream_frames(
    response: dict[str, Any], choice: Choice | None, *, obfuscation_key: str | None
) -> list[bytes]:
    """Every frame of the stream that ends in `response` (a rendered, finished body)."""
    writer = EventWriter(obfuscation_key)
    pending = in_progress(response)
    writer.emit("response.created", {"response": pending})
    writer.emit("response.in_progress", {"response": pending})
    call_index = 0
    for output_index, item in enumerate(response["output"]):
        kind = item["type"]
        if kind == "message":
            _message_events(writer, output_index, item, choice)
        elif kind == "function_call":
            pieces = _argument_pieces(choice, call_index, item["arguments"])
            _function_call_events(writer, output_index, item, pieces)
            call_index += 1
        elif kind == "custom_tool_call":
            pieces = _argument_pieces(choice, call_index, item["input"])
            _custom_call_events(writer, output_index, item, pieces)
            call_index += 1
        elif kind == "reasoning":
            _reasoning_events(writer, output_index, item, choice)
        elif kind == "web_search_call":
            _web_search_events(writer, output_index, item)
        else:
            writer.emit("response.output_item.added", {"output_index": output_index, "item": item})
            writer.emit("response.output_item.done", {"output_index": output_index, "item": item})
    writer.emit(TERMINAL_EVENTS[response["status"]], {"response": response})
    return writer.frames


def terminal_frame(response: dict[str, Any], sequence_number: int) -> bytes:
    """The one closing event for `response` (completed, incomplete or failed) as an SSE frame."""
    writer = EventWriter(None, sequence_number)
    writer.emit(TERMINAL_EVENTS[response["status"]], {"response": response})
    return writer.frames[0]


def in_progress(response: dict[str, Any]) -> dict[str, Any]:
    """The response as `response.created` shows it: no output, no usage yet.

    `usage` is left out rather than null: the spec's `Response.usage` is not nullable.
    """
    pending = {
        **response,
        "status": "in_progress",
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "output": [],
    }
    pending.pop("usage", None)
    return pending


def _message_events(
    writer: EventWriter, output_index: int, item: dict[str, Any], choice: Choice | None
) -> None:
    item_id = item["id"]
    writer.emit(
        "response.output_item.added",
        {"output_index": output_index, "item": {**item, "status": "in_progress", "content": []}},
    )
    where = {"item_id": item_id, "output_index": output_index}
    for content_index, part in enumerate(item["content"]):
        at = {**where, "content_index": content_index}
        if part["type"] == "refusal":
            writer.emit("response.content_part.added", {**at, "part": {**part, "refusal": ""}})
            pieces = _pieces(choice.refusal_pieces if choice else [], part["refusal"])
            writer.deltas("response.refusal.delta", at, pieces)
            writer.emit("response.refusal.done", {**at, "refusal": part["refusal"]})
        else:
            writer.emit("response.content_part.added", {**at, "part": {**part, "text": ""}})
            pieces = _pieces(choice.text_pieces if choice else [], part["text"])
            if part["logprobs"] and len(part["logprobs"]) == len(pieces):  # asked for
                for piece, entry in zip(pieces, part["logprobs"], strict=True):
                    fields = {**at, "delta": piece, "logprobs": [entry]}
                    writer.emit("response.output_text.delta", fields)
            else:
                writer.deltas("response.output_text.delta", at, pieces, b',"logprobs":[]')
            for annotation_index, annotation in enumerate(part["annotations"]):
                writer.emit(
                    "response.output_text.annotation.added",
                    {**at, "annotation_index": annotation_index, "annotation": annotation},
                )
            done = {**at, "text": part["text"], "logprobs": part["logprobs"]}
            writer.emit("response.output_text.done", done)
        writer.emit("response.content_part.done", {**at, "part": part})
    writer.emit("response.output_item.done", {"output_index": output_index, "item": item})


def _web_search_events(writer: EventWriter, output_index: int, item: dict[str, Any]) -> None:
    writer.emit(
        "response.output_item.added",
        {"output_index": output_index, "item": {**item, "status": "in_progress"}},
    )
    where = {"item_id": item["id"], "output_index": output_index}
    for stage in ("in_progress", "searching", "completed"):
        writer.emit(f"response.web_search_call.{stage}", where)
    writer.emit("response.output_item.done", {"output_index": output_index, "item": item})


def _function_call_events(
    writer: EventWriter, output_index: int, item: dict[str, Any], pieces: list[str]
) -> None:
    writer.emit(
        "response.output_item.added",
        {"output_index": output_index, "item": {**item, "status": "in_progress", "arguments": ""}},
    )
    where = {"item_id": item["id"], "output_index": output_index}
    writer.deltas("response.function_call_arguments.delta", where, pieces)
    writer.emit(
        "response.function_call_arguments.done",
        {**where, "name": item["name"], "arguments": item["arguments"]},
    )
    writer.emit("response.output_item.done", {"output_index": output_index, "item": item})


def _custom_call_events(
    writer: EventWriter, output_index: int, item: dict[str, Any], pieces: list[str]
) -> None:
    writer.emit(
        "response.output_item.added",
        {"output_index": output_index, "item": {**item, "status": "in_progress", "input": ""}},
    )
    where = {"item_id": item["id"], "output_index": output_index}
    writer.deltas("response.custom_tool_call_input.delta", where, pieces)
    writer.emit("response.custom_tool_call_input.done", {**where, "input": item["input"]})
    writer.emit("response.output_item.done", {"output_index": output_index, "item": item})


def _reasoning_events(
    writer: EventWriter, output_index: int, item: dict[str, Any], choice: Choice | None
) -> None:
    writer.emit(
        "response.output_item.added",
        {"output_index": output_index, "item": {**item, "summary": []}},
    )
    where = {"item_id": item["id"], "output_index": output_index}
    for summary_index, part in enumerate(item["summary"]):
        at = {**where, "summary_index": summary_index}
        writer.emit("response.reasoning_summary_part.added", {**at, "part": {**part, "text": ""}})
        pieces = _pieces(choice.reasoning_pieces if choice else [], part["text"])
        writer.deltas("response.reasoning_summary_text.delta", at, pieces)
        writer.emit("response.reasoning_summary_text.done", {**at, "text": part["text"]})
        writer.emit("response.reasoning_summary_part.done", {**at, "part": part})
    writer.emit("response.output_item.done", {"output_index": output_index, "item": item})


def _pieces(pieces: list[str], whole: str) -> list[str]:
    """The engine's token pieces when they add up to `whole`, else `whole` as one piece."""
    if pieces and "".join(pieces) == whole:
        return pieces
    return [whole] if whole else []


def _argument_pieces(choice: Choice | None, index: int, arguments: str) -> list[str]:
    pieces = choice.argument_pieces[index] if choice and index < len(choice.argument_pieces) else []
    return _pieces(pieces, arguments)
