"""One log line per answered request, at INFO on the `mockserver.requests` logger
(`serve --log-level info`):

    POST /v1/chat/completions model=gpt-4o rule=weather status=200 usage=12+5 duration=1.3ms
    GET /v1/models model=- rule=- status=200 usage=- duration=0.2ms

Written from the request's journal entry (a request the journal doesn't keep — a model list,
an admin call — from its method, path and status): no header is ever logged, so no key.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.journal.journal import Entry

log = logging.getLogger("mockserver.requests")


def enabled() -> bool:
    return log.isEnabledFor(logging.INFO)


async def answer(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, entries: list[Entry]
) -> None:
    """Run `app` on the request, then log it: `entries` are those it opened in the journal."""
    started = time.monotonic()
    statuses: list[int] = []

    async def watched(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        await send(message)

    try:
        await app(scope, receive, watched)
    finally:
        now = time.monotonic()
        if entries:
            for entry in entries:
                log.info("%s", line(entry, now - entry.at))
        else:
            bare = Entry(0, started, scope["method"], scope["path"])
            bare.status = statuses[0] if statuses else None
            log.info("%s", line(bare, now - started))


def line(entry: Entry, duration: float) -> str:
    """`POST /v1/messages model=claude-sonnet-4 rule=- status=429 usage=- duration=0.8ms`."""
    usage = entry.usage
    used = f"{usage.get('prompt_tokens')}+{usage.get('completion_tokens')}" if usage else "-"
    status = "-" if entry.status is None else str(entry.status)
    parts = [
        entry.method,
        entry.endpoint,
        f"model={entry.model or '-'}",
        f"rule={entry.rule or '-'}",
        f"status={status}",
        f"usage={used}",
        f"duration={duration * 1000:.1f}ms",
    ]
    if entry.stream:
        parts.append(f"stream={entry.events_sent}")
    if entry.disconnected:
        parts.append("disconnected")
    return " ".join(parts)
