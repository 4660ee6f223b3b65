"""The WebSocket endpoints: the Realtime API (`/v1/realtime`) and the Responses API over a
socket (`/v1/responses`, Codex's first choice of transport).

The upgrade is checked as an HTTP request would be: the key in `Authorization: Bearer`, or
as a browser sends it, in the subprotocol `openai-insecure-api-key.<key>` (next to
`realtime`); in gateway mode the gateway's own admission. A refused upgrade is an HTTP
answer in the vendor's (or the gateway's) shape, never a socket. Once open, each response
is journaled as its own entry (and charged in gateway mode); the session itself has one.

A Responses `response.create` is answered by the generation pipeline exactly as a streamed
`POST /v1/responses` with the same body (`generate`, with a request made for it), its SSE
events sent as text frames (`protocols.openai.responses_socket`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from mockserver.core.errors import APIError
from mockserver.core.secrets import redact_text
from mockserver.engine import pipeline
from mockserver.http import connection
from mockserver.http.generation import generate
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.openai import responses_socket
from mockserver.protocols.openai.validation import require_bearer

if TYPE_CHECKING:
    from starlette.types import Message, Scope

    from mockserver.gateway.admission import Caller
    from mockserver.protocols.openai.realtime import RealtimeSession, ResponseRequest
    from mockserver.server_state import MockState

KEY_PROTOCOL = "openai-insecure-api-key."
SocketEndpoint = Callable[[WebSocket], Awaitable[None]]


def credentials(scope: Scope) -> tuple[list[tuple[bytes, bytes]], list[str]]:
    """The upgrade's headers with a subprotocol key moved to `authorization` (so that every
    check and the journal's redaction see it where they look) and out of the subprotocols;
    and the subprotocols offered, the key left out."""
    headers: list[tuple[bytes, bytes]] = []
    offered: list[str] = []
    key = None
    for name, value in scope["headers"]:
        if name == b"sec-websocket-protocol":
            for part in value.decode("latin-1").split(","):
                part = part.strip()
                if part.startswith(KEY_PROTOCOL):
                    key = part[len(KEY_PROTOCOL) :]
                elif part:
                    offered.append(part)
            if offered:
                headers.append((name, ", ".join(offered).encode("latin-1")))
        else:
            headers.append((name, value))
    if key and not any(name == b"authorization" for name, _ in headers):
        headers.append((b"authorization", b"Bearer " + key.encode("latin-1")))
    return headers, offered


async def admitted(
    websocket: WebSocket, state: MockState, headers: list[tuple[bytes, bytes]]
) -> tuple[int, Caller | None]:
    """101 when the upgrade may proceed (with, in gateway mode, who is calling), else the
    status it was refused with (the refusal already answered)."""
    connection.forget(websocket.scope)  # the upgrade took the connection from the HTTP tap
    gateway = state.gateway
    try:
        if gateway is not None:
            caller = gateway.authenticate({**websocket.scope, "headers": headers})
            if websocket.scope["path"] == "/v1/realtime":  # the distributor: `?model=`
                from mockserver.gateway import access

                access.allow(gateway, caller, websocket.query_params.get("model", ""))
            return 101, caller
        require_bearer({k.decode("latin-1"): v.decode("latin-1") for k, v in headers})
        return 101, None
    except APIError as error:
        await deny(websocket, state, error)
        return error.status, None


async def deny(websocket: WebSocket, state: MockState, error: APIError) -> None:
    """Refuse the upgrade with an HTTP error, as the HTTP endpoints would answer."""
    body = getattr(error, "body", None) or state.dialects.chat.render_error(error)
    response = Response(orjson.dumps(body), error.status, media_type="application/json")
    await websocket.send_denial_response(response)


def realtime(state: MockState) -> SocketEndpoint:
    async def endpoint(websocket: WebSocket) -> None:
        from mockserver.protocols.openai.realtime import RealtimeDialect, RealtimeSession

        headers, offered = credentials(websocket.scope)
        with state.journal.closing():
            entry = state.journal.open_raw("GET", "/v1/realtime", headers)
            entry.dialect = "openai.realtime.session"
            model = websocket.query_params.get("model", "")
            entry.model = model
            entry.status, caller = await admitted(websocket, state, headers)
            if entry.status != 101:
                return
            if not model:
                error = APIError(
                    400,
                    "Missing required parameter: 'model'.",
                    type="invalid_request_error",
                    code="missing_required_parameter",
                    param="model",
                )
                entry.status = 400
                await deny(websocket, state, error)
                return
            beta = "realtime=v1" in websocket.headers.get("openai-beta", "")
            stamp = state.engine.stamp("realtime.session", model)
            session = RealtimeSession(model, stamp.key, stamp.created, beta=beta)
            dialect = RealtimeDialect()
            await websocket.accept(subprotocol="realtime" if "realtime" in offered else None)
            await send_all(websocket, session, session.opened())
            events_sent = 1
            try:
                while True:
                    text = await receive_text(websocket)
                    step = session.handle(text)
                    await send_all(websocket, session, step.events)
                    events_sent += len(step.events)
                    if step.request is not None:
                        answer = await respond(
                            state, dialect, session, step.request, headers, caller
                        )
                        await send_all(websocket, session, answer)
                        events_sent += len(answer)
            except WebSocketDisconnect:
                entry.disconnected = True
            entry.events_sent = events_sent

    return endpoint


async def receive_text(websocket: WebSocket) -> str | bytes:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text: str | None = message.get("text")
    return text if text is not None else message.get("bytes") or b""


async def send_all(
    websocket: WebSocket, session: RealtimeSession, events: list[dict[str, Any]]
) -> None:
    for event in events:
        await websocket.send_text(session.stamped(event).decode())


async def respond(
    state: MockState,
    dialect: Any,
    session: RealtimeSession,
    request: ResponseRequest,
    headers: list[tuple[bytes, bytes]],
    caller: Caller | None,
) -> list[dict[str, Any]]:
    """One `response.create`, journaled on its own: the pipeline's reply as the response's
    events, or its error as an `error` event."""
    if state.shared:  # another worker may have published scenarios since the socket opened
        state.sync()
    gateway, charge = state.gateway, None
    with state.journal.closing():
        entry = state.journal.open_raw("POST", "/v1/realtime", headers)
        entry.dialect = dialect.name
        entry.body = request.body
        decoded = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
        inbound = Inbound(path="/v1/realtime", headers=decoded)
        try:
            exchange = pipeline.parse(state, dialect, request.body, inbound, entry)
            prepared = pipeline.prepare(state, dialect, exchange, request.body)
            if caller is not None and gateway is not None:
                charge = gateway.admit(
                    caller, exchange.model, prepared.prompt_tokens, exchange.max_tokens, stream=True
                )
            reply = pipeline.respond(state, dialect, prepared, entry)
        except APIError as error:
            if gateway is not None:
                gateway.refund(charge, entry)
            entry.status = error.status
            error.message = redact_text(error.message, entry.secrets)
            return [session.error(error, request.event_id)]
        events = await anyio.to_thread.run_sync(lambda: session.finish(request, reply, speak))
        usage = events[-1]["response"]["usage"]
        entry.usage = {
            "prompt_tokens": usage["input_tokens"],
            "completion_tokens": usage["output_tokens"],
            "reasoning_tokens": 0,
        }
        reply.usage.completion_tokens = usage["output_tokens"]  # audio counted, as billed
        if charge is not None and gateway is not None:
            gateway.settle(charge, reply.usage, entry)
        entry.status = 200
        entry.stream = True
        entry.events_sent = len(events)
        return events


def speak(text: str, voice: str) -> bytes:
    """pcm16 at 24 kHz, as `/v1/audio/speech` speaks `text` (`format: pcm`)."""
    from mockserver.media.audio import synthesize
    from mockserver.media.recipes import SpeechRecipe

    return synthesize(SpeechRecipe(seed=0, text=text, voice=voice, format="pcm"))


def responses(state: MockState) -> SocketEndpoint:
    async def endpoint(websocket: WebSocket) -> None:
        headers, offered = credentials(websocket.scope)
        status, _ = await admitted(websocket, state, headers)
        if status != 101:
            return
        await websocket.accept(subprotocol=offered[0] if offered else None)
        try:
            while True:
                text = await receive_text(websocket)
                try:
                    request = responses_socket.read_event(text)
                except APIError as error:
                    await websocket.send_text(responses_socket.api_error_event(error).decode())
                    continue
                if request is None:
                    continue
                for frame in await answer_response(state, websocket.scope, headers, request):
                    await websocket.send_text(frame.decode())
        except WebSocketDisconnect:
            return

    return endpoint


async def answer_response(
    state: MockState,
    socket_scope: Scope,
    headers: list[tuple[bytes, bytes]],
    request: responses_socket.SocketRequest,
) -> list[bytes]:
    """A streamed `POST /v1/responses` with the request's body, through `http.generation.generate`
    (journal, memo, faults, gateway billing and all); its answer as the socket's frames."""
    body = orjson.dumps(request.body)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": socket_scope.get("asgi", {}),
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/responses",
        "raw_path": b"/v1/responses",
        "query_string": b"",
        "root_path": "",
        "headers": [
            *[(k, v) for k, v in headers if k not in (b"content-length", b"content-type")],
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
        ],
        "server": socket_scope.get("server"),
        "client": socket_scope.get("client"),
        "app": socket_scope.get("app"),
    }
    done = asyncio.Event()
    sent_body = False

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    status = 200
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    if state.shared:
        state.sync()
    dialect = state.dialects.responses
    with state.journal.closing():
        if request.body.get("generate") is False:
            app = await prewarm(state, scope, receive, body)
        else:
            app = await generate(scope, receive, dialect, state)
        try:
            await app(scope, receive, send)
        finally:
            done.set()
    answer = b"".join(chunks)
    if status != 200:
        return [responses_socket.error_event(status, answer, request.stream_id)]
    return responses_socket.events_of_stream(answer, request.stream_id)


async def prewarm(state: MockState, scope: Scope, receive: Any, raw: bytes) -> Any:
    """`generate: false`: the request is read and stored (a later `previous_response_id` can
    build on it) but answered with no output, only its input tokens."""
    from mockserver.core.reply import Reply, Usage
    from mockserver.http.delivery import Delivery, stream_app

    dialect = state.dialects.responses
    entry = state.journal.open_raw("POST", "/v1/responses", scope["headers"])
    entry.dialect = dialect.name
    try:
        body = pipeline.parse_json(raw, dialect)
        entry.body = body
        exchange = pipeline.parse(state, dialect, body, pipeline.inbound_from_scope(scope), entry)
        prepared = pipeline.prepare(state, dialect, exchange, body)
    except APIError as error:
        return pipeline.error_response(dialect, error, entry)
    stamp = state.engine.stamp(prepared.retry_group, exchange.model)
    reply = Reply([], stamp.key, stamp.created, stamp.fingerprint, Usage(prepared.prompt_tokens))
    dialect.remember(reply, exchange)
    entry.status = 200
    entry.model = exchange.model
    entry.stream = True
    pipeline.journal_usage(entry, reply.usage)
    return stream_app(
        dialect, reply, exchange, dialect.reply_headers(reply, exchange), entry, Delivery()
    )
