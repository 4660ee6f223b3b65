"""The responses the Responses dialect produced, kept so `previous_response_id` can continue them.

The live API stores every response created with `store: true` (the default) and lets a later
request continue it by id. Here the store is bounded and in memory: a follow-up must reach the
same server process, and the oldest entries are forgotten first. Entries hold the neutral
`Exchange` and `Reply` themselves (no re-rendering on the hot path); the conversation a
follow-up continues is derived from them on demand.
"""

from __future__ import annotations

import threading

from msgspec import Struct

from mockserver.core.exchange import Exchange, Message
from mockserver.core.fifo import FifoMap
from mockserver.core.reply import Reply

DEFAULT_CAPACITY = 10_000


class StoredResponse(Struct, frozen=True, gc=False):
    """One stored response: a Struct, made in C (one per response, on the hot path), and out
    of the cyclic collector's sight. 10,000 of them live in the store, and collections walked
    them; none can be part of a reference cycle, as nothing it refers to refers back to it."""

    response_id: str
    exchange: Exchange
    reply: Reply

    def conversation(self) -> list[Message]:
        """What a follow-up continues: this request's conversation, then this reply's output.

        The request's `instructions` are left out, as the live API does ("the instructions from
        a previous response will not be carried over").
        """
        messages = self.exchange.messages
        if instructions_message_count(self.exchange):
            messages = messages[1:]
        if not self.reply.choices:
            return list(messages)
        choice = self.reply.choices[0]
        text = choice.refusal if choice.refusal is not None else choice.text or ""
        output = Message(role="assistant", text=text, tool_calls=list(choice.tool_calls))
        return [*messages, output]


def instructions_message_count(exchange: Exchange) -> int:
    """1 when the dialect put the request's `instructions` first among the messages, else 0."""
    instructions = exchange.body.get("instructions")
    return 1 if isinstance(instructions, str) and instructions else 0


class ResponseStore:
    """A bounded, thread-safe map of response id -> `StoredResponse`, oldest evicted first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"ResponseStore capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._entries: FifoMap[str, StoredResponse] = FifoMap(capacity)
        self._lock = threading.Lock()

    def put(self, response_id: str, exchange: Exchange, reply: Reply) -> None:
        stored = StoredResponse(response_id, exchange, reply)
        with self._lock:
            self._entries.put(response_id, stored)

    def get(self, response_id: str) -> StoredResponse | None:
        with self._lock:
            return self._entries.get(response_id)

    def delete(self, response_id: str) -> bool:
        with self._lock:
            return self._entries.pop(response_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._entries
