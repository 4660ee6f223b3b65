"""The request journal: what came in, what matched, what went out.

Kept on the server's store (`mockserver.store`), so every worker process sees every request;
bounded to the journal size, so a long `mockserver serve` session doesn't grow without limit.
API keys never leave it: `redact_headers` masks every credential header as the entry opens; the
entry keeps the request's credential values (`secrets`) only while it is in this process, so
that what it shows of the body, near misses and faults (`to_dict`, failure reports) masks them
too (`mockserver.core.secrets`), and an entry written to a shared store is scrubbed first.
Queries over it (`requests(rule="weather").call_count`) live in `mockserver.journal.calls`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from mockserver.core.secrets import SECRET_HEADERS, mask, redact_text, redact_value, secrets_in
from mockserver.store import Log, MemoryStore

_SECRET_RAW = frozenset(name.encode("latin-1") for name in SECRET_HEADERS)
redact = mask  # the name this module gave it first
# The entries opened while answering the current request (`Journal.closing`).
_pending: ContextVar[list[Entry] | None] = ContextVar("mockserver_journal_pending", default=None)
WORKER = os.getpid()  # journaled with each entry: which worker process answered
TIMELINE_POINTS = 500  # stream events whose due times an entry keeps
RESPONSE_BYTES = 8 * 1024  # of a response body an entry shows and keeps (x journal size)


def _forked() -> None:
    global WORKER
    WORKER = os.getpid()


os.register_at_fork(after_in_child=_forked)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Credential headers keep only a hint of their shape: `Bearer sk-***`."""
    return {
        name: mask(value) if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


def redact_raw_headers(raw_headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """`redact_headers` for headers as ASGI gives them (names already lower-case)."""
    return dict(_redacted_raw(tuple(raw_headers))[0])


@functools.lru_cache(maxsize=256)
def _redacted_raw(
    raw_headers: tuple[tuple[bytes, bytes], ...],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The redacted headers and the credential values. A client sends the same headers
    request after request: those of the latest few are kept (~0.5 µs instead of ~3 µs a
    request), and each entry gets a copy of the mapping."""
    decoded = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw_headers]
    redacted = {
        name: mask(value) if raw[0] in _SECRET_RAW else value
        for (name, value), raw in zip(decoded, raw_headers, strict=True)
    }
    return redacted, secrets_in(decoded)


class Entry(Struct):
    """One request. Fields are filled in as the request advances through the pipeline."""

    seq: int
    at: float  # time.monotonic() when the request arrived
    method: str
    endpoint: str
    dialect: str | None = None
    model: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    rule: str | None = None
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    strict_miss: bool = False  # strict mode and no rule matched: the client got a 400
    fault: dict[str, Any] | None = None
    status: int | None = None
    usage: dict[str, int] | None = None
    stream: bool = False
    events_sent: int = 0
    disconnected: bool = False
    retry_group: str | None = None
    generation: int = 0
    worker: int = 0  # the process id of the worker that answered
    # The request's credential values, masked in all the entry shows; never written to a
    # shared store (`scrubbed`).
    secrets: tuple[str, ...] = ()
    # What the request carried that the parser didn't know (accepted: lenient validation).
    notes: list[str] = field(default_factory=list)
    # Gateway mode (mockserver.gateway): the key's name (never the key) and what was billed.
    key_name: str | None = None
    quota: int | None = None
    cost: float | None = None  # dollars (500,000 quota = $1)
    done: float | None = None  # time.monotonic() when it was closed (answered)
    # Opened by a request answered while a dashboard watched a memory journal (`answered`):
    # the entry is in the log from the start, and the feed sends it once it has its `done`.
    watched: bool = False
    # A paced or delayed stream: when each event was due, in ms from the request's arrival
    # (its first `TIMELINE_POINTS`); the dashboard draws it with `events_sent`.
    timeline: list[float] | None = None
    # ...and when each left, measured, in ms from the request's arrival (same bound).
    sent_at: list[float] | None = None
    # The response's body as sent: one chunk, or a stream's frames (of which `events_sent`
    # went out); at most `RESPONSE_BYTES` of it (`shown_response`).
    response: list[bytes] | None = None

    @property
    def finished(self) -> bool:
        """Answered, as far as a reader can tell: closed (it has its `done` time), or it has
        its status and nobody will close it (opened before a page watched, or outside a
        request)."""
        return self.done is not None or (self.status is not None and not self.watched)

    @property
    def unmatched(self) -> bool:
        """Matching ran and no rule held (rules exist, or strict mode said so)."""
        return self.rule is None and (self.strict_miss or bool(self.near_misses))

    def shown_near_misses(self) -> list[dict[str, Any]]:
        """`near_misses` with every credential masked in their explanations."""
        return [
            {**miss, "failed": [redact_text(line, self.secrets) for line in miss["failed"]]}
            if "failed" in miss
            else miss
            for miss in self.near_misses
        ]

    def shown_response(self) -> str | None:
        """The response body as the client got it (a stream: the events sent), as text with
        every credential masked; None when it wasn't journaled."""
        if self.response is None:
            return None
        chunks = self.response[: self.events_sent] if self.stream else self.response
        text = b"".join(chunks)[:RESPONSE_BYTES].decode("utf-8", errors="replace")
        return redact_text(text, self.secrets)

    def scrubbed(self) -> Entry:
        """This entry with its credential values masked where they could appear and then
        forgotten: what may be written where other processes (or a file) keep it."""
        if not self.secrets:
            return self
        shown = self.shown_response()
        return replace(
            self,
            body=redact_value(self.body, self.secrets),
            response=None if shown is None else [shown.encode()],
            near_misses=self.shown_near_misses(),
            fault=redact_value(self.fault, self.secrets),
            secrets=(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "endpoint": self.endpoint,
            "dialect": self.dialect,
            "model": self.model,
            "headers": self.headers,
            "body": redact_value(self.body, self.secrets),
            "rule": self.rule,
            "near_misses": self.shown_near_misses(),
            "strict_miss": self.strict_miss,
            "fault": redact_value(self.fault, self.secrets),
            "status": self.status,
            "usage": self.usage,
            "stream": self.stream,
            "events_sent": self.events_sent,
            "disconnected": self.disconnected,
            "retry_group": self.retry_group,
            "worker": self.worker,
            "notes": self.notes,
            "key_name": self.key_name,
            "quota": self.quota,
            "cost": self.cost,
            "response": self.shown_response(),
            "timeline": self.timeline,
            "sent_at": self.sent_at,
        }


class Journal:
    """The journal of one server, on its store's log "journal": every worker's requests.

    An entry gets its number when the request arrives and reaches the log when it has been
    answered (`closing`): until then it is this process's alone, visible in its `entries()`
    as it fills in. An entry opened outside `closing` (a unit test calling a handler) goes to
    the log at once. `reset()` starts a new generation: entries of requests that began before
    it are dropped even if they finish after it."""

    def __init__(self, size: int = 1000, log: Log | None = None, *, shared: bool = False) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1; got {size}")
        self.size = size
        self.shared = shared  # the log is written where other processes (or a file) keep it
        self._log = log if log is not None else MemoryStore().log("journal", size)
        self._in_flight: dict[int, Entry] = {}  # this process's, opened in `closing`
        self.opened = 0  # entries this process opened, resets included: how busy it has been
        # Dashboard feeds open in this process: while any is, every request's entries are
        # closed, so that the feed sees them complete (on a memory store only stamped with
        # their `done` time, `answered`).
        self.watchers = 0

    def open(self, method: str, endpoint: str, headers: Mapping[str, str]) -> Entry:
        return self._add(method, endpoint, redact_headers(headers), secrets_in(headers))

    def open_raw(
        self, method: str, endpoint: str, raw_headers: Iterable[tuple[bytes, bytes]]
    ) -> Entry:
        """`open` with the headers as ASGI gives them."""
        redacted, secrets = _redacted_raw(tuple(raw_headers))
        return self._add(method, endpoint, dict(redacted), secrets)

    def _add(
        self, method: str, endpoint: str, redacted: dict[str, str], secrets: tuple[str, ...]
    ) -> Entry:
        seq, generation = self._log.open()
        self.opened += 1
        entry = Entry(
            seq=seq,
            at=time.monotonic(),
            method=method,
            endpoint=endpoint,
            headers=redacted,
            generation=generation,
            worker=WORKER,
            secrets=secrets,
        )
        pending = _pending.get()
        if pending is None:
            self._log.append(seq, entry.scrubbed() if self.shared else entry)
        else:
            pending.append(entry)
            self._in_flight[seq] = entry
        return entry

    def closing(self) -> Closing:
        """`with journal.closing() as closing:` around answering one request: the entries it
        opens (`closing.entries`) go to the log when the block ends, or at `closing.close()`."""
        return Closing(self)

    def close(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self._in_flight.pop(entry.seq, None)
            entry.done = time.monotonic()
            # Only a shared log needs the credentials gone now; this process's entries are
            # redacted when read (`to_dict`), as on the path without `closing`.
            self._log.append(entry.seq, entry.scrubbed() if self.shared else entry)

    def answered(self, entries: Iterable[Entry]) -> None:
        """A request's watched entries (`Entry.watched`) were answered: their `done` time. A
        memory journal holds them from the start, so that is all their closing takes while a
        page is open: no `closing` block, no context variable, no wrapped `send`."""
        now = time.monotonic()
        for entry in entries:
            entry.done = now

    def reset(self) -> None:
        self._log.reset()

    @property
    def generation(self) -> int:
        return self._log.generation

    def entries(self) -> list[Entry]:
        """The newest `size` entries, in arrival order: the log's and this process's open ones."""
        generation = self._log.generation
        found = self._log.records(Entry)
        open_now = [e for e in list(self._in_flight.values()) if e.generation == generation]
        if open_now:
            found = sorted([*found, *open_now], key=_seq)[-self.size :]
        return found

    def closed(self, after: int = 0) -> list[Entry]:
        """The answered entries numbered above `after`, oldest first (every worker's; the
        dashboard's feed reads these)."""
        return self._log.records(Entry, after)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries())

    def __len__(self) -> int:
        return min(self.size, len(self._log) + len(self._in_flight))


class Closing:
    """The block of `Journal.closing`: collects the entries opened inside it (in this context
    and any copied from it, e.g. a thread pool's), and closes them — at the latest when the
    block ends, earlier with `close()` (before the response's last byte goes out, so that a
    client that reads the journal next finds its request there, whichever worker it asks)."""

    __slots__ = ("closed", "entries", "journal", "token")

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.entries: list[Entry] = []
        self.closed = 0  # how many of `entries` are closed

    def __enter__(self) -> Closing:
        self.token = _pending.set(self.entries)
        return self

    def close(self) -> None:
        if self.closed < len(self.entries):
            self.journal.close(self.entries[self.closed :])
            self.closed = len(self.entries)

    def __exit__(self, *exc_info: object) -> None:
        _pending.reset(self.token)
        self.close()


def _seq(entry: Entry) -> int:
    return entry.seq
