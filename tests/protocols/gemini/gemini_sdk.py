"""Test helpers for the Gemini dialect: hand-built replies, and the official google-genai SDK
wired to the dialect in-process (httpx.MockTransport, no server, no network).

The SDK sends exactly what it sends to Google (its `_*_to_mldev` converters run), and parses
our answers with its own code (`_*_from_mldev` converters, `_from_response`, its SSE reader).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from google import genai
from google.genai import types

from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange, ToolCall
from mockserver.core.reply import Choice, Reply, Usage
from mockserver.protocols.dialect import Inbound
from mockserver.protocols.gemini.generate import GeminiDialect

dialect = GeminiDialect()


def choice(
    text: str | None = None,
    *,
    pieces: list[str] | None = None,
    reasoning: str | None = None,
    calls: list[ToolCall] | None = None,
    finish: str = "stop",
    visible_tokens: int | None = None,
    reasoning_tokens: int | None = None,
    **extra: Any,
) -> Choice:
    """A shaped choice: pieces split on spaces unless given, one token per piece."""
    text_pieces = pieces if pieces is not None else _split(text)
    reasoning_pieces = _split(reasoning)
    calls = calls or []
    visible = visible_tokens
    if visible is None:
        visible = len(text_pieces) + sum(len(c.arguments.split(",")) for c in calls)
    thought = len(reasoning_pieces) if reasoning_tokens is None else reasoning_tokens
    return Choice(
        text=text,
        text_pieces=text_pieces,
        reasoning=reasoning,
        reasoning_pieces=reasoning_pieces,
        tool_calls=calls,
        argument_pieces=[[c.arguments] for c in calls],
        finish_reason=finish,  # type: ignore[arg-type]
        completion_tokens=visible + thought,
        reasoning_tokens=thought,
        **extra,
    )


def _split(text: str | None) -> list[str]:
    if not text:
        return []
    words = text.split(" ")
    return [words[0]] + [" " + word for word in words[1:]]


def reply(*choices: Choice, prompt: int = 11, key: str = "reply-key-1") -> Reply:
    usage = Usage(
        prompt_tokens=prompt,
        completion_tokens=sum(c.completion_tokens for c in choices),
        reasoning_tokens=sum(c.reasoning_tokens for c in choices),
    )
    return Reply(list(choices), key=key, created=1_750_000_000, fingerprint="fp", usage=usage)


def inbound_for(request: httpx.Request) -> Inbound:
    path = request.url.path
    return Inbound(
        path,
        method=request.method,
        headers=dict(request.headers),
        query=dict(request.url.params),
        path_params={"model": path.split("/models/", 1)[1]} if "/models/" in path else {},
    )


class FakeGemini:
    """A `genai.Client` whose requests go to `GeminiDialect`; `answer` builds each reply.

    `exchanges` and `bodies` record what arrived; `extra` handles non-generation routes
    (`extra(request, body) -> (status, payload)`).
    """

    def __init__(
        self,
        answer: Reply | Callable[[Exchange], Reply] | None = None,
        extra: Callable[[httpx.Request, Any], tuple[int, Any]] | None = None,
        fail_stream_after: int | None = None,
    ) -> None:
        self.answer = answer
        self.extra = extra
        self.fail_stream_after = fail_stream_after
        self.exchanges: list[Exchange] = []
        self.bodies: list[Any] = []
        transport = httpx.MockTransport(self._handle)
        self.client = genai.Client(
            api_key="test-key",
            http_options=types.HttpOptions(
                base_url="http://gemini.test", httpx_client=httpx.Client(transport=transport)
            ),
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.bodies.append(body)
        try:
            action = request.url.path.rpartition(":")[2]
            if request.method == "GET" or action not in (
                "generateContent",
                "streamGenerateContent",
            ):
                assert self.extra is not None, f"no handler for {request.method} {request.url}"
                status, payload = self.extra(request, body)
                return httpx.Response(status, json=payload)
            exchange = dialect.parse(body, inbound_for(request))
            self.exchanges.append(exchange)
            answer = self.answer(exchange) if callable(self.answer) else self.answer
        except APIError as error:
            return httpx.Response(dialect.error_status(error), json=dialect.render_error(error))
        assert answer is not None
        if not exchange.stream:
            return httpx.Response(200, json=dialect.render(answer, exchange))
        frames = dialect.render_stream(answer, exchange)
        if self.fail_stream_after is not None:
            failure = APIError(500, "")
            frames = [*frames[: self.fail_stream_after], dialect.stream_error_frame(failure)]
        media = dialect.stream_media_type(exchange).decode()
        return httpx.Response(200, content=b"".join(frames), headers={"content-type": media})
