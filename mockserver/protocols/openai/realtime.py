"""OpenAI Realtime API: one WebSocket session's client events in, server events out.

    GET /v1/realtime?model=…   upgraded to a WebSocket (`mockserver.http.sockets`)

`RealtimeSession.handle(text)` takes one client event and gives the server events it answers
with at once, and for `response.create` the request to answer (`ResponseRequest`): its body
goes through the generation pipeline like any other (`RealtimeDialect.parse` makes the neutral
`Exchange` from the session's conversation), and `finish` renders the `Reply` as the
response's events (`realtime_events`). Bad events get the API's `error` event and the session
goes on. Every id (session, conversation, items, responses, events) derives from the session's
key, which the engine stamps from the seed and the session's number: a run's sessions are the
same on every run. Spoken answers are the text as `/v1/audio/speech` speaks it, raw pcm16.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from typing import Any, ClassVar

import orjson
from msgspec import Struct, field

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, Message
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.dialect import Dialect, Inbound
from mockserver.protocols.openai import realtime_events as events
from mockserver.protocols.openai import realtime_items as items
from mockserver.protocols.openai.realtime_session import SessionConfig
from mockserver.tokens.tokenizer import Tokenizer

CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
)
MIN_COMMIT_SECONDS = 0.1  # the live API refuses to commit less than 100 ms of audio
SESSION_MINUTES = 60  # a session's `expires_at`: an hour after it opens


class RealtimeDialect(Dialect):
    """The neutral side of a realtime response: `parse` reads the body a session builds
    (`RealtimeSession.response_body`), errors are rendered as `error` events."""

    name: ClassVar[str] = "openai.realtime"

    def parse(self, body: Any, inbound: Inbound) -> Exchange:
        tools = items.tools_of(body.get("tools"))
        instructions = body.get("instructions") or ""
        messages = [Message(role="system", text=instructions)] if instructions else []
        messages.extend(items.messages_of(body["items"]))
        limit = body.get("max_output_tokens")
        return Exchange(
            dialect=self.name,
            endpoint=inbound.path,
            model=body["model"],
            messages=messages,
            body=body,
            headers=inbound.headers,
            tools=tools,
            tool_choice=items.tool_choice_of(body.get("tool_choice"), tools),
            stream=True,
            max_tokens=limit if isinstance(limit, int) else None,
        )

    def prompt_tokens(self, exchange: Exchange, tokenizer: Tokenizer) -> int:
        # Committed audio counts by its duration, on top of the text's framing.
        return super().prompt_tokens(exchange, tokenizer) + int(
            exchange.body.get("input_audio_tokens") or 0
        )

    def memoizable(self, exchange: Exchange) -> bool:
        return False  # every response of a session is a new conversation state

    def render_error(self, error: APIError) -> dict[str, Any]:
        return events.error_event(
            error.message, type=error.type, code=error.code, param=error.param
        )


class ResponseRequest(Struct):
    """A `response.create` to answer: the pipeline's body and how to render the answer."""

    body: dict[str, Any]
    event_id: str | None
    into_conversation: bool
    modalities: list[str]
    voice: str
    max_output_tokens: int | str
    metadata: Any = None


class Step(Struct):
    """What one client event gives: server events now, and maybe a response to answer."""

    events: list[dict[str, Any]] = field(default_factory=list)
    request: ResponseRequest | None = None


class RealtimeSession:
    """The state of one connection: its configuration, conversation and audio buffer."""

    def __init__(self, model: str, key: str, created: int, *, beta: bool) -> None:
        self.key = key
        self.created = created
        self.names = events.Names(beta)
        self.config = SessionConfig.default(model, beta)
        self.id = self._mint("sess", 0)
        self.conversation_id = self._mint("conv", 0)
        self.items: list[dict[str, Any]] = []
        self.audio_bytes = 0  # in the input buffer, not yet committed
        self.item_count = 0
        self.response_count = 0
        self.event_ids = events.EventIds(self._mint)

    def _mint(self, prefix: str, number: int) -> str:
        return f"{prefix}_{ids.base62(self.key, f'{prefix}:{number}', 21)}"

    def _new_item_id(self) -> str:
        self.item_count += 1
        return self._mint("item", self.item_count)

    def session_body(self) -> dict[str, Any]:
        expires = self.created + SESSION_MINUTES * 60
        return self.config.render(self.id, expires)

    def opened(self) -> list[dict[str, Any]]:
        return [{"type": "session.created", "session": self.session_body()}]

    def handle(self, text: str | bytes) -> Step:
        """One client event; its error as an `error` event."""
        event_id = None
        try:
            try:
                event = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise items.invalid(
                    "The server failed to parse the event: it is not valid JSON.",
                    code="invalid_json",
                ) from None
            if not isinstance(event, dict):
                raise items.invalid(
                    "The event must be a JSON object.", code="invalid_event"
                ) from None
            found = event.get("event_id")
            event_id = found if isinstance(found, str) else None
            kind = event.get("type")
            if kind is None:
                raise items.invalid("The 'type' field is missing.", code="invalid_event")
            handler = self._handlers().get(kind)
            if handler is None:
                supported = ", ".join(f"'{name}'" for name in CLIENT_EVENTS)
                raise items.invalid(
                    f"Invalid value: '{kind}'. Supported values are: {supported}.", "type"
                )
            return handler(event, event_id)
        except APIError as error:
            return Step([self.error(error, event_id)])

    def error(self, error: APIError, event_id: str | None) -> dict[str, Any]:
        return events.error_event(
            error.message, type=error.type, code=error.code, param=error.param, event_id=event_id
        )

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], str | None], Step]]:
        return {
            "session.update": self._session_update,
            "input_audio_buffer.append": self._append,
            "input_audio_buffer.commit": self._commit,
            "input_audio_buffer.clear": self._clear,
            "conversation.item.create": self._item_create,
            "conversation.item.retrieve": self._item_retrieve,
            "conversation.item.truncate": self._item_truncate,
            "conversation.item.delete": self._item_delete,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
            "output_audio_buffer.clear": self._output_clear,
        }

    def _session_update(self, event: dict[str, Any], _: str | None) -> Step:
        session = event.get("session")
        if not isinstance(session, dict):
            raise items.missing("session")
        self.config.update(session)
        return Step([{"type": "session.updated", "session": self.session_body()}])

    def _append(self, event: dict[str, Any], _: str | None) -> Step:
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise items.missing("audio")
        try:
            self.audio_bytes += len(base64.b64decode(audio, validate=True))
        except (binascii.Error, ValueError):
            raise items.invalid(
                "Invalid 'audio'. Expected base64-encoded audio bytes.", "audio"
            ) from None
        return Step()  # the live API acknowledges appends with nothing

    def _commit(self, event: dict[str, Any], _: str | None) -> Step:
        seconds = self.audio_bytes / events.PCM_BYTES_PER_SECOND
        if seconds < MIN_COMMIT_SECONDS:
            raise items.invalid(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"100ms of audio, but buffer only has {seconds * 1000:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        self.audio_bytes = 0
        item: dict[str, Any] = {
            "id": self._new_item_id(),
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        previous = self._last_item_id()
        self.items.append({**item, "_seconds": seconds})
        committed = {
            "type": "input_audio_buffer.committed",
            "previous_item_id": previous,
            "item_id": item["id"],
        }
        return Step([committed, *events.item_added(self.names, self._shown(item), previous)])

    def _clear(self, event: dict[str, Any], _: str | None) -> Step:
        self.audio_bytes = 0
        return Step([{"type": "input_audio_buffer.cleared"}])

    def _item_create(self, event: dict[str, Any], _: str | None) -> Step:
        item = copy.deepcopy(items.check_item(event.get("item")))
        item.setdefault("id", self._new_item_id())
        spoken = items.audio_bytes(item)
        if spoken:
            item["_seconds"] = spoken / events.PCM_BYTES_PER_SECOND
        if "status" not in item:
            item["status"] = "completed"
        previous = event.get("previous_item_id", self._last_item_id())
        if previous is None or previous == "root":
            self.items.insert(0, item)
            previous = None
        else:
            index = self._index_of(previous, "previous_item_id")
            self.items.insert(index + 1, item)
        return Step(events.item_added(self.names, self._shown(item), previous))

    def _item_retrieve(self, event: dict[str, Any], _: str | None) -> Step:
        item = self.items[self._index_of(event.get("item_id"), "item_id")]
        return Step([{"type": "conversation.item.retrieved", "item": self._shown(item)}])

    def _item_truncate(self, event: dict[str, Any], _: str | None) -> Step:
        item_id = event.get("item_id")
        self._index_of(item_id, "item_id")
        return Step(
            [
                {
                    "type": "conversation.item.truncated",
                    "item_id": item_id,
                    "content_index": event.get("content_index", 0),
                    "audio_end_ms": event.get("audio_end_ms", 0),
                }
            ]
        )

    def _item_delete(self, event: dict[str, Any], _: str | None) -> Step:
        item_id = event.get("item_id")
        del self.items[self._index_of(item_id, "item_id")]
        return Step([{"type": "conversation.item.deleted", "item_id": item_id}])

    def _response_cancel(self, event: dict[str, Any], _: str | None) -> Step:
        # Responses are sent whole as they are made: none is ever still running.
        raise items.invalid(
            "Cancellation failed: no active response found", code="response_cancel_not_active"
        )

    def _output_clear(self, event: dict[str, Any], _: str | None) -> Step:
        raise items.invalid(
            "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
            code="invalid_event",
        )

    def _response_create(self, event: dict[str, Any], event_id: str | None) -> Step:
        options = event.get("response") or {}
        if not isinstance(options, dict):
            raise items.invalid("Invalid type for 'response': expected an object.", "response")
        settings = self.config.for_response(options)
        conversation = options.get("conversation", "auto")
        if conversation not in ("auto", "none"):
            raise items.invalid(
                f"Invalid value: '{conversation}'. Supported values are: 'auto', 'none'.",
                "response.conversation",
            )
        if "input" in options:
            raw = options["input"]
            if not isinstance(raw, list):
                raise items.invalid(
                    "Invalid type for 'response.input': expected an array.", "response.input"
                )
            chosen = [self._input_item(entry, index) for index, entry in enumerate(raw)]
        else:
            chosen = list(self.items)
        audio_seconds = sum(float(item.get("_seconds", 0.0)) for item in chosen)
        body = {
            "model": self.config.model,
            "instructions": settings["instructions"],
            "items": [items.without_audio(self._shown(item)) for item in chosen],
            "tools": settings["tools"],
            "tool_choice": settings["tool_choice"],
            "max_output_tokens": settings["max_output_tokens"],
            "output_modalities": settings["modalities"],
            "input_audio_tokens": events.audio_tokens(audio_seconds),
        }
        request = ResponseRequest(
            body=body,
            event_id=event_id,
            into_conversation=conversation == "auto",
            modalities=settings["modalities"],
            voice=settings["voice"],
            max_output_tokens=settings["max_output_tokens"],
            metadata=options.get("metadata"),
        )
        return Step(request=request)

    def _input_item(self, entry: Any, index: int) -> dict[str, Any]:
        if isinstance(entry, dict) and entry.get("type") == "item_reference":
            return self.items[self._index_of(entry.get("id"), f"response.input[{index}].id")]
        return items.check_item(entry, f"response.input[{index}]")

    def finish(
        self, request: ResponseRequest, reply: Reply, speak: Speaker
    ) -> list[dict[str, Any]]:
        """The response's events for `reply`; its items join the conversation."""
        self.response_count += 1
        response_id = self._mint("resp", self.response_count)
        choice = reply.choices[0] if reply.choices else None
        spoken = "audio" in request.modalities
        output, audio = self._output(choice, spoken, request.voice, speak)
        text_tokens = reply.usage.completion_tokens
        audio_tokens = events.audio_tokens(len(audio) / events.PCM_BYTES_PER_SECOND) if audio else 0
        response = self.config.response_body(
            response_id,
            self.conversation_id if request.into_conversation else None,
            request.modalities,
            request.voice,
            request.max_output_tokens,
            request.metadata,
        )
        response["status"], response["status_details"] = _status(choice)
        response["output"] = output
        response["usage"] = events.usage_body(
            reply.usage.prompt_tokens,
            int(request.body["input_audio_tokens"]),
            reply.usage.cached_tokens,
            text_tokens,
            audio_tokens,
        )
        previous = self._last_item_id() if request.into_conversation else None
        if request.into_conversation:
            self.items.extend(output)
        return events.response_events(self.names, response, choice, audio, previous)

    def _output(
        self, choice: Choice | None, spoken: bool, voice: str, speak: Speaker
    ) -> tuple[list[dict[str, Any]], bytes | None]:
        if choice is None:
            return [], None
        output: list[dict[str, Any]] = []
        audio = None
        incomplete = choice.finish_reason in ("length", "content_filter")
        status = "incomplete" if incomplete else "completed"
        text = choice.text if choice.text is not None else choice.refusal
        if text or not choice.tool_calls:
            text = text or ""
            if spoken:
                audio = speak(text, voice)
                part = {"type": self.names.audio_part, "transcript": text}
            else:
                part = {"type": self.names.text_part, "text": text}
            output.append(self._item("message", status, role="assistant", content=[part]))
        for call in choice.tool_calls:
            output.append(
                self._item(
                    "function_call",
                    status,
                    name=call.name,
                    call_id=call.id,
                    arguments=call.arguments,
                )
            )
        return output, audio

    def _item(self, kind: str, status: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": self._new_item_id(),
            "object": "realtime.item",
            "type": kind,
            "status": status,
            **fields,
        }

    def _last_item_id(self) -> str | None:
        return str(self.items[-1]["id"]) if self.items else None

    def _index_of(self, item_id: Any, param: str) -> int:
        for index, item in enumerate(self.items):
            if item.get("id") == item_id:
                return index
        raise items.invalid(
            f"Error: conversation item with id '{item_id}' not found.", param, "item_not_found"
        )

    @staticmethod
    def _shown(item: dict[str, Any]) -> dict[str, Any]:
        """The item without what only the session keeps (names starting with `_`)."""
        return {name: value for name, value in item.items() if not name.startswith("_")}

    def stamped(self, event: dict[str, Any]) -> bytes:
        """One server event as its text frame: `type`, then its `event_id`, then the rest."""
        return orjson.dumps({"type": event["type"], "event_id": self.event_ids.next(), **event})


# (text, voice) -> pcm16 at 24 kHz: the http layer's speech synthesis, kept out of here so
# that this module needs no audio library.
Speaker = Callable[[str, str], bytes]


def _status(choice: Choice | None) -> tuple[str, dict[str, Any] | None]:
    if choice is not None and choice.finish_reason == "length":
        return "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
    if choice is not None and choice.finish_reason == "content_filter":
        return "incomplete", {"type": "incomplete", "reason": "content_filter"}
    return "completed", None
