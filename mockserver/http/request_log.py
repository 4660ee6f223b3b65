"""One log line per answered request, at INFO on the `mockserver.requests` logger
(`serve --log-level info`):

    POST /v1/chat/completions model=gpt-4o rule=weather status=200 usage=12+5 duration=1.3ms

Written from the journal entry, which never holds a key: no header is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from mockserver.journal.journal import Entry

log = logging.getLogger("mockserver.requests")


def enabled() -> bool:
    return log.isEnabledFor(logging.INFO)


def write(entries: Iterable[Entry]) -> None:
    now = time.monotonic()
    for entry in entries:
        log.info("%s", line(entry, now - entry.at))


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
