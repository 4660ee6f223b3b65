"""The recording proxy, an ASGI app: each request is answered from the recording (replay) or
forwarded to the upstream with the caller's own headers, its answer streamed back unchanged as it
arrives, and written to the recording (`Recorder`).

    app = RecordingProxy(Recorder(cassette, mode), upstream="https://api.openai.com")
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
from starlette.types import Receive, Scope, Send

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.reply import Choice, Reply
from mockserver.protocols.dialect import Inbound
from mockserver.record import inline_images, routes, side_calls
from mockserver.record.capture import Capture
from mockserver.record.cassette import Cassette
from mockserver.record.media import MediaRecorder
from mockserver.record.modes import RecordMode
from mockserver.record.origins import Rewriter, own_origin
from mockserver.record.replies import RecordedReply, embeddings_of, reply_of
from mockserver.record.rules import (
    fault_spec,
    latency_spec,
    match_for,
    name_for,
    reply_spec,
    stream_fault_spec,
)
from mockserver.record.stream_events import carries_content, stream_error
from mockserver.record.task_recorder import TaskRecorder
from mockserver.server_state import MockState

# Not forwarded: hop-by-hop, recomputed by httpx, or a compression we could not read back.
REQUEST_DROPPED = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding"}
)
RESPONSE_DROPPED = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
UPSTREAM_TIMEOUT = httpx.Timeout(600.0, connect=30.0)


class Recorder:
    """Turns finished exchanges into rules of `cassette` (and decides what replays)."""

    def __init__(self, cassette: Cassette, replay: MockState | None, timing: bool = True) -> None:
        self.cassette = cassette
        self.replay = replay  # the recording as loaded at start, for replay and new_episodes
        self.timing = timing
        self.tasks = TaskRecorder(cassette, replay, timing)
        self.media = MediaRecorder(cassette, timing)

    def parse(self, kind: str, body: Any, scope: Scope, headers: Mapping[str, str]) -> Exchange:
        assert self.replay is not None
        inbound = Inbound(
            path=scope["path"],
            method=scope["method"],
            headers=headers,
            query=dict(parse_qsl(scope.get("query_string", b"").decode())),
            path_params=routes.path_params(kind, scope["path"]),
        )
        dialect = getattr(self.replay.dialects, kind)
        exchange: Exchange = dialect.parse(body, inbound)
        return exchange

    def recorded(self, kind: str, body: Any, exchange: Exchange | None) -> bool:
        """Whether the recording (as loaded at start) answers this request."""
        if self.replay is None:
            return False
        if kind == routes.EMBEDDINGS:
            texts = routes.embedding_inputs(body)
            rules = self.replay.scenarios.embedding_rules
            if not texts or rules is None:
                return False
            return all(text in rules.pinned for text in texts)
        return exchange is not None and self.replay.scenarios.first_match(exchange) is not None

    def write(
        self,
        kind: str,
        body: Any,
        exchange: Exchange | None,
        status: int,
        headers: Mapping[str, str],
        capture: Capture,
    ) -> None:
        cassette = self.cassette
        if kind == routes.EMBEDDINGS:
            texts = routes.embedding_inputs(body)
            if status == 200 and texts:
                for text, vector in zip(texts, embeddings_of(capture.body), strict=False):
                    cassette.pin(text, vector)
                cassette.save()
            return
        if exchange is None:
            return
        match = match_for(exchange)
        name = name_for(exchange, cassette.names())
        if status >= 400:
            fault = fault_spec(status, capture.body, self.cassette.redactor.headers_kept(headers))
            cassette.add(name, match, "fault", fault, None)
        else:
            streamed = "text/event-stream" in headers.get("content-type", "")
            events = capture.events() if streamed else None
            reply = reply_of(kind, None if streamed else capture.body, events)
            inline_images.keep(kind, exchange, reply, cassette)
            timing = capture.timing(carries_content(kind)) if streamed else None
            latency = latency_spec(timing, capture.finished) if self.timing else None
            failed = stream_error([orjson.loads(event) for event in events or ()])
            if failed is not None:
                fault = stream_fault_spec(*failed)
                cassette.add_failure(name, match, fault, reply_spec(reply), latency)
            else:
                cassette.add(name, match, "reply", reply_spec(reply), latency)
            if kind == "responses" and failed is None:
                self._remember_response(exchange, reply)
        cassette.save()

    def _remember_response(self, exchange: Exchange, reply: RecordedReply) -> None:
        """Keep an upstream Responses response under its own id, so that a follow-up naming
        it in `previous_response_id` is parsed (and recorded) with its whole conversation."""
        if self.replay is None or not reply.response_id or exchange.body.get("store") is False:
            return
        choices = [
            Choice(
                text=choice.content,
                refusal=choice.refusal,
                tool_calls=[
                    ToolCall(call.id or "", call.name, orjson.dumps(call.arguments).decode())
                    for call in choice.tool_calls
                ],
            )
            for choice in reply.choices
        ]
        neutral = Reply(choices=choices, key="", created=0, fingerprint="")
        self.replay.dialects.responses.store.put(reply.response_id, exchange, neutral)


class RecordingProxy:
    def __init__(
        self, recorder: Recorder, mode: RecordMode, upstream: str | None, replay_app: Any = None
    ) -> None:
        self.recorder = recorder
        self.mode = mode
        self.upstream = upstream.rstrip("/") if upstream else None
        self.replay_app = replay_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan and the like: nothing to set up
        body = await _read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        kind = routes.recorded_kind(scope["method"], scope["path"])
        if kind is None:
            other_call = await side_calls.media_or_task_call(self, scope, headers, body)
            if other_call is not None:
                replayed, record_other = other_call
                if replayed:
                    await self.replay_app(scope, side_calls.replayed(body, receive), send)
                else:
                    await self._forward(scope, headers, body, send, record_other)
                return
        parsed: Any = None
        exchange: Exchange | None = None
        if kind is not None:
            try:
                parsed = orjson.loads(body)
                if kind != routes.EMBEDDINGS:
                    exchange = self.recorder.parse(kind, parsed, scope, headers)
            except (orjson.JSONDecodeError, APIError) as error:
                # The upstream (or the replay) answers with its own error; nothing to match on.
                parsed = exchange = None
                if self.mode.records:
                    reason = error.message if isinstance(error, APIError) else "not JSON"
                    print(
                        f"mockserver record: {scope['path']} not recorded: {reason}",
                        file=sys.stderr,
                    )
        if (
            self.mode is RecordMode.REPLAY
            or self.upstream is None
            or (
                self.mode is RecordMode.NEW_EPISODES
                and (kind is None or self.recorder.recorded(kind, parsed, exchange))
            )
        ):
            await self.replay_app(scope, side_calls.replayed(body, receive), send)
            return
        recordable = kind is not None and (exchange is not None or kind == routes.EMBEDDINGS)

        def finished(status: int, response_headers: dict[str, str], capture: Capture) -> None:
            assert kind is not None
            try:
                self.recorder.write(kind, parsed, exchange, status, response_headers, capture)
            except Exception as error:  # a reply we can't read back must not stop the session
                print(f"mockserver record: not recorded ({error!r})", file=sys.stderr)

        # a model's text is passed on as written, even where it names the upstream's host
        rewrites = kind is None
        await self._forward(scope, headers, body, send, finished if recordable else None, rewrites)

    async def _forward(
        self,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
        send: Send,
        finished: side_calls.Recorded | None,
        rewrites: bool = True,
    ) -> None:
        """Send the request upstream and its answer back as it arrives; `finished` is called
        once the answer is complete, before the client sees its end (so a client that reads
        the recording right after finds it written). `rewrites`: the upstream's URLs in the
        answer made the proxy's (`origins`)."""
        assert self.upstream is not None
        query = scope.get("query_string", b"").decode("latin-1")
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        self.recorder.cassette.redactor.note_request(
            headers, dict(parse_qsl(query)), _json_or_none(body)
        )
        sent = {k: v for k, v in headers.items() if k not in REQUEST_DROPPED}
        sent["accept-encoding"] = "identity"  # recorded as read: no compression to undo
        # A client per request: nothing outlives the request to be closed when the server stops.
        async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT) as client:
            request = client.build_request(scope["method"], url, headers=sent, content=body)
            capture = Capture(started=time.monotonic())
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as error:
                message = f"mockserver record: upstream {self.upstream} unreachable: {error!r}"
                await _plain(send, 502, message.encode())
                return
            try:
                # The upstream's URLs made the proxy's: a client following them comes back here
                # (recorded: the upstream's answer as it came).
                own = own_origin(scope.get("scheme", "http"), headers.get("host"))
                rewrite = Rewriter(self.upstream, own) if own and rewrites else None
                kept = [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in response.headers.multi_items()
                    if k.lower() not in RESPONSE_DROPPED
                ]
                if rewrite is not None:
                    kept = [(k, rewrite.header(v)) for k, v in kept]
                    encoding = response.headers.get("content-encoding", "identity")
                    text = rewrite.rewrites(response.headers.get("content-type", ""))
                    if not text or encoding != "identity":
                        rewrite = None
                start = {"type": "http.response.start", "status": response.status_code}
                await send({**start, "headers": kept})
                async for chunk in response.aiter_raw():
                    capture.feed(chunk, time.monotonic())
                    sent_chunk = rewrite.chunk(chunk) if rewrite is not None else chunk
                    if sent_chunk:
                        await send(
                            {"type": "http.response.body", "body": sent_chunk, "more_body": True}
                        )
                capture.finish(time.monotonic())
                if rewrite is not None and (held := rewrite.rest()):
                    await send({"type": "http.response.body", "body": held, "more_body": True})
                # Compressed despite asking for identity: passed on, not recorded.
                identity = response.headers.get("content-encoding", "identity") == "identity"
                if finished is not None and identity:
                    written = finished(response.status_code, dict(response.headers), capture)
                    if written is not None:
                        await written
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                await response.aclose()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _plain(send: Send, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
