"""State that every worker process must agree on: counters, values, logs — all bounded.

    store = open_store(settings)             # MemoryStore, or SqliteStore(settings.state_file)
    occurrences = store.table("occurrences", capacity=10_000)
    occurrences.incr(group)                  # 1, 2, 3... atomically, whichever worker asks
    responses = store.table("responses", capacity=1_000)
    responses.set(response_id, stored)       # any msgspec-encodable value; `ttl=` to expire
    responses.get(response_id, StoredResponse)
    buckets.update(key, Buckets, refill_and_take)   # read-modify-write in one atomic step
    journal = store.log("journal", capacity=1_000)
    seq, generation = journal.open()         # reserve a number when a request arrives...
    journal.append(seq, entry)               # ...append the entry when it is answered
    with store.transaction(): ...            # several operations as one

Two backends share one interface (`mockserver.store.base`) and one test suite:
- `MemoryStore` (the default: one process) keeps the objects themselves in `OrderedDict`s and
  `deque`s under one lock: nothing is encoded, nothing touches a disk.
- `SqliteStore` (one file; `serve --workers N` uses a temporary one, `--state FILE` a lasting
  one) encodes values as msgpack; every process and thread has its own connection.

Every table and log is bounded by a capacity taken from the settings (`counters_size`,
`responses_size`, `journal_size`): past it the least recently written keys (the oldest
records) are forgotten, so unique traffic can't grow memory or the file without bound.

What the server keeps here (see `MockState`): the journal (log "journal"); the scenarios
loaded through the admin API (table "scenarios": their sources and a generation number each
worker compares with its own on every request); occurrence counters, sequence cursors and
`fail_times` attempts (tables "occurrences", "cursors", "attempts"); rate-limit buckets
(table "ratelimit"); stored Responses for `previous_response_id` (table "responses"). Chaos
keeps nothing: its draws are seeded by the request and its occurrence number.

What a restart on the same `--state FILE` keeps: the journal (its newest `journal_size`
entries), the scenarios published through the admin API (loaded again after the scenario files
given at this start; if they no longer fit together, the error is logged and the files alone
are served), occurrence counters, sequence cursors and `fail_times` attempts (a request repeated
after the restart is its next occurrence: new ids, as if the server had never stopped),
rate-limit buckets (refilled for the time that passed) and stored Responses. What it doesn't:
each process's caches (the memo, hashed key prefixes), scenarios loaded in-process by the pytest
plugin (`MockState.load`, this process's alone), and the entries of requests that were still
being answered when the server stopped. `POST /_mock/reset` forgets journal, counters and
responses; `DELETE /_mock/scenarios` goes back to the files given at start.

What the next capabilities need, and how they map onto it:
- Gateway keys and quotas: a table of key records (`set`/`get`), sized above the number of
  keys configured so none is ever forgotten; a quota is a value charged before answering with an
  `update` that refuses to go below zero (it returns the old value unchanged) and refunded with
  another once the usage is known; a `transaction()` charges a key and its user together.
  Counters (`incr`, which may go negative) suit what is only reported, such as used quota.
- Async tasks: a table of task records by id (`set` with a `ttl` so finished tasks age out;
  `update` to advance a task's stage atomically when two workers poll it at once), and a log
  when tasks must be listed in submission order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.store.base import Log, Store, Table
from mockserver.store.memory import MemoryStore

if TYPE_CHECKING:
    from mockserver.settings import Settings

__all__ = ["Log", "MemoryStore", "Store", "Table", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings ask for: SQLite at `state_file` when set, else memory."""
    if settings.state_file is None:
        return MemoryStore()
    from mockserver.store.sqlite import SqliteStore  # sqlite3 only for those who use it

    return SqliteStore(settings.state_file, durable=not settings.state_temporary)
