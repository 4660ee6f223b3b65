"""The responses the Responses dialect produced, kept so `previous_response_id` can continue them.

The live API stores every response created with `store: true` (the default) and lets a later
request continue it by id. Here the responses live in a bounded table of the server's store
(`mockserver.store`): every worker finds them, `--state FILE` keeps them across restarts, and
the least recently stored are forgotten first. Entries hold the neutral `Exchange` and `Reply`
(no re-rendering on the hot path), without the request's headers, which hold its key; the
conversation a follow-up continues is derived from them on demand.
"""

from __future__ import annotations

from msgspec import Struct
from msgspec.structs import replace

from mockserver.core.exchange import Exchange, Message
from mockserver.core.reply import Reply
from mockserver.store import MemoryStore, Table

DEFAULT_CAPACITY = 1_000


class StoredResponse(Struct, frozen=True, gc=False):
    """One stored response: a Struct, made in C (one per response, on the hot path), and out
    of the cyclic collector's sight (a full in-memory store holds a thousand of them; none can
    be part of a reference cycle, as nothing it refers to refers back to it)."""

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
    """Response id -> `StoredResponse`, on a store table (a private in-memory one by default)."""

    def __init__(self, table: Table | None = None, *, capacity: int = DEFAULT_CAPACITY) -> None:
        self.table = table if table is not None else MemoryStore().table("responses", capacity)

    @property
    def capacity(self) -> int:
        return self.table.capacity

    def put(self, response_id: str, exchange: Exchange, reply: Reply) -> None:
        # Neither the headers (the caller's key) nor what a dialect derived while rendering
        # (per-process caches) are kept.
        kept = replace(exchange, headers={}, derived={})
        self.table.set(response_id, StoredResponse(response_id, kept, reply))

    def get(self, response_id: str) -> StoredResponse | None:
        return self.table.get(response_id, StoredResponse)

    def delete(self, response_id: str) -> bool:
        return self.table.delete(response_id)

    def clear(self) -> None:
        self.table.clear()

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, response_id: object) -> bool:
        return isinstance(response_id, str) and self.get(response_id) is not None
