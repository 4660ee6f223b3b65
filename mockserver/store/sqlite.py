"""The SQLite store: one file that every worker process opens (`serve --workers N`, `--state`).

Stdlib `sqlite3` in WAL mode (readers never wait for the writer; a commit doesn't wait for the
disk, `synchronous=NORMAL`, and a temporary file never does, `OFF`), one connection per process
and thread, a busy timeout for the moments another worker holds the write lock. A single
statement is atomic by itself; `update` and `transaction()` run in `BEGIN IMMEDIATE`
transactions, which take the write lock first, so a read-modify-write never has to be
retried. Values and records are msgpack (msgspec), decoded as the type the reader names.

Notices (`notify`, `notices`) are counters in a small file beside the database
(`FILE-notices`), mapped into every process's memory: a worker learns that the scenarios were
published with a memory read instead of a query on every request. A counter moves only after
the transaction that changed its topic has committed.

Capacities are enforced every few writes of a process (`TRIM_EVERY`), so a table holds at
most its capacity plus that many keys per worker; readers of a log see exactly its newest
`capacity` records. A key's last write is timed by the machine's clock in nanoseconds (the
same in every process): what the least recently written keys are.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import sqlite3
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from mockserver.store.base import Log, Store, Table, check_capacity

T = TypeVar("T")

SCHEMA_VERSION = 1
BUSY_TIMEOUT = 10.0  # seconds a worker waits for another's write lock before failing
TRIM_EVERY = 64  # writes of one process between two capacity checks of a table or log
NOTICE_SLOTS = 512
NOTICE_BYTES = NOTICE_SLOTS * 8
_COUNTER = struct.Struct("<Q")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kv (
        tbl TEXT NOT NULL, key TEXT NOT NULL,
        value BLOB, number INTEGER, expires REAL, written INTEGER NOT NULL,
        PRIMARY KEY (tbl, key)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS kv_written ON kv (tbl, written)",
    """CREATE TABLE IF NOT EXISTS logs (
        name TEXT PRIMARY KEY, seq INTEGER NOT NULL, floor INTEGER NOT NULL,
        generation INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS records (
        name TEXT NOT NULL, seq INTEGER NOT NULL, record BLOB NOT NULL,
        PRIMARY KEY (name, seq)) WITHOUT ROWID""",
)
_LIVE = "(expires IS NULL OR expires > :now)"

_encode = msgspec.msgpack.Encoder().encode


_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def _decoder(type: Any) -> msgspec.msgpack.Decoder[Any]:
    """One decoder per type read (a few: the callers name their record types)."""
    decoder = _decoders.get(type)
    if decoder is None:
        decoder = _decoders[type] = msgspec.msgpack.Decoder(type)
    return decoder


class SqliteTable(Table):
    def __init__(self, store: SqliteStore, name: str, capacity: int) -> None:
        check_capacity(name, capacity)
        self.name, self.capacity = name, capacity
        self._store = store
        self._writes = 0
        self._trim_every = max(TRIM_EVERY, capacity // 64)

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % self._trim_every == 0:
            self._trim()

    def _trim(self) -> None:
        """Drop expired keys, and the least recently written past the capacity."""
        params = {"tbl": self.name, "now": self._store.clock(), "keep": self.capacity}
        self._store.execute(
            f"""DELETE FROM kv WHERE tbl = :tbl AND (NOT {_LIVE} OR written <= (
                SELECT written FROM kv WHERE tbl = :tbl
                ORDER BY written DESC LIMIT 1 OFFSET :keep))""",
            params,
        )

    def incr(self, key: str, by: int = 1, ttl: float | None = None) -> int:
        now = self._store.clock()
        row = self._store.execute(
            f"""INSERT INTO kv (tbl, key, number, expires, written)
                VALUES (:tbl, :key, :by, :expires, :written)
                ON CONFLICT (tbl, key) DO UPDATE SET
                    number = CASE WHEN {_LIVE} THEN number + :by ELSE :by END,
                    expires = CASE WHEN {_LIVE} THEN expires ELSE :expires END,
                    written = excluded.written
                RETURNING number""",
            {
                "tbl": self.name,
                "key": key,
                "by": by,
                "now": now,
                "expires": None if ttl is None else now + ttl,
                "written": time.time_ns(),
            },
        ).fetchone()
        self._wrote()
        return int(row[0])

    def count(self, key: str) -> int:
        row = self._store.execute(
            f"SELECT number FROM kv WHERE tbl = :tbl AND key = :key AND {_LIVE}",
            {"tbl": self.name, "key": key, "now": self._store.clock()},
        ).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def counts(self, keys: Sequence[str]) -> list[int]:
        marks = ", ".join("?" * len(keys))
        rows = self._store.execute(
            f"SELECT key, number FROM kv WHERE tbl = ? AND key IN ({marks}) "
            "AND (expires IS NULL OR expires > ?)",
            (self.name, *keys, self._store.clock()),
        ).fetchall()  # one statement: one moment
        found = dict(rows)
        return [int(found.get(key) or 0) for key in keys]

    def incr_many(self, changes: Mapping[str, int]) -> None:
        with self._store.transaction():
            for key, by in changes.items():
                self.incr(key, by)

    def get(self, key: str, type: type[T]) -> T | None:
        row = self._store.execute(
            f"SELECT value FROM kv WHERE tbl = :tbl AND key = :key AND {_LIVE}",
            {"tbl": self.name, "key": key, "now": self._store.clock()},
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return _decoder(type).decode(row[0])  # type: ignore[no-any-return]

    def set(self, key: str, value: object, ttl: float | None = None) -> None:
        now = self._store.clock()
        self._store.execute(
            """INSERT INTO kv (tbl, key, value, number, expires, written)
                VALUES (:tbl, :key, :value, NULL, :expires, :written)
                ON CONFLICT (tbl, key) DO UPDATE SET
                    value = excluded.value, number = NULL, expires = excluded.expires,
                    written = excluded.written""",
            {
                "tbl": self.name,
                "key": key,
                "value": _encode(value),
                "expires": None if ttl is None else now + ttl,
                "written": time.time_ns(),
            },
        )
        self._wrote()

    def update(
        self,
        key: str,
        type: type[T],
        change: Callable[[T | None], T | None],
        ttl: float | None = None,
    ) -> T | None:
        with self._store.transaction():
            new = change(self.get(key, type))
            if new is None:
                self.delete(key)
            else:
                self.set(key, new, ttl)
        return new

    def delete(self, key: str) -> bool:
        row = self._store.execute(
            "DELETE FROM kv WHERE tbl = ? AND key = ? RETURNING expires", (self.name, key)
        ).fetchone()
        return row is not None and (row[0] is None or row[0] > self._store.clock())

    def keys(self) -> list[str]:
        rows = self._store.execute(
            f"SELECT key FROM kv WHERE tbl = :tbl AND {_LIVE} ORDER BY written",
            {"tbl": self.name, "now": self._store.clock()},
        ).fetchall()
        return [row[0] for row in rows]

    def clear(self) -> None:
        self._store.execute("DELETE FROM kv WHERE tbl = :tbl", {"tbl": self.name})

    def __len__(self) -> int:
        row = self._store.execute(
            f"SELECT count(*) FROM kv WHERE tbl = :tbl AND {_LIVE}",
            {"tbl": self.name, "now": self._store.clock()},
        ).fetchone()
        return min(int(row[0]), self.capacity)


class SqliteLog(Log):
    def __init__(self, store: SqliteStore, name: str, capacity: int) -> None:
        check_capacity(name, capacity)
        self.name, self.capacity = name, capacity
        self._store = store
        self._appends = 0
        store.execute(
            "INSERT INTO logs (name, seq, floor, generation) VALUES (?, 0, 0, 0) "
            "ON CONFLICT (name) DO NOTHING",
            (name,),
        )

    def open(self) -> tuple[int, int]:
        row = self._store.execute(
            "UPDATE logs SET seq = seq + 1 WHERE name = ? RETURNING seq, generation", (self.name,)
        ).fetchone()
        return int(row[0]), int(row[1])

    def append(self, seq: int, record: object) -> None:
        self._store.execute(
            """INSERT OR REPLACE INTO records (name, seq, record)
               SELECT :name, :seq, :record FROM logs WHERE name = :name AND :seq > floor""",
            {"name": self.name, "seq": seq, "record": _encode(record)},
        )
        self._appends += 1
        if self._appends % TRIM_EVERY == 0:
            self._store.execute(
                """DELETE FROM records WHERE name = :name AND seq <= (
                    SELECT seq FROM records WHERE name = :name
                    ORDER BY seq DESC LIMIT 1 OFFSET :keep)""",
                {"name": self.name, "keep": self.capacity},
            )

    def records(self, type: type[T], after: int = 0) -> list[T]:
        rows = self._store.execute(
            """SELECT record FROM records WHERE name = :name AND seq > :after
               ORDER BY seq DESC LIMIT :keep""",
            {"name": self.name, "after": after, "keep": self.capacity},
        ).fetchall()
        decode = _decoder(type).decode
        return [decode(row[0]) for row in reversed(rows)]

    def reset(self) -> int:
        with self._store.transaction():
            row = self._store.execute(
                "UPDATE logs SET floor = seq, generation = generation + 1 WHERE name = ? "
                "RETURNING generation",
                (self.name,),
            ).fetchone()
            self._store.execute("DELETE FROM records WHERE name = ?", (self.name,))
        return int(row[0])

    @property
    def generation(self) -> int:
        row = self._store.execute(
            "SELECT generation FROM logs WHERE name = ?", (self.name,)
        ).fetchone()
        return int(row[0])

    def __len__(self) -> int:
        row = self._store.execute(
            "SELECT count(*) FROM records WHERE name = ?", (self.name,)
        ).fetchone()
        return min(int(row[0]), self.capacity)


class _Local(threading.local):
    connection: sqlite3.Connection | None = None
    pid = 0
    depth = 0  # nesting of `transaction()` blocks
    notify: list[str] | None = None  # topics to notify once the transaction commits


class Notices:
    """`NOTICE_SLOTS` counters in a memory-mapped file shared by every process: one per topic
    (by a hash of its name; two topics in one slot only cost extra re-reads)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid = 0
        self._fd = -1
        self._map: mmap.mmap | None = None

    def _mapped(self) -> mmap.mmap:
        if self._map is None or self.pid != os.getpid():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(fd).st_size < NOTICE_BYTES:
                os.ftruncate(fd, NOTICE_BYTES)  # zeros; the same size whoever does it
            self._fd, self._map, self.pid = fd, mmap.mmap(fd, NOTICE_BYTES), os.getpid()
        return self._map

    @staticmethod
    def _offset(topic: str) -> int:
        return (zlib.crc32(topic.encode()) % NOTICE_SLOTS) * 8

    def read(self, topic: str) -> int:
        return int(_COUNTER.unpack_from(self._mapped(), self._offset(topic))[0])

    def bump(self, topic: str) -> None:
        mapped, offset = self._mapped(), self._offset(topic)
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # another process's bump must not be lost
        try:
            _COUNTER.pack_into(mapped, offset, _COUNTER.unpack_from(mapped, offset)[0] + 1)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._map is not None and self.pid == os.getpid():
            self._map.close()
            os.close(self._fd)
        self._map = None


class SqliteStore(Store):
    shared = True

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = BUSY_TIMEOUT,
        durable: bool = True,
    ) -> None:
        self.path = str(path)
        self.clock = clock
        self.timeout = timeout
        # NORMAL: a crash of the machine may lose the last commits, never the file. A file
        # removed at exit needs neither (its checkpoints' fsyncs double the cost of a write).
        self._synchronous = "NORMAL" if durable else "OFF"
        self._local = _Local()
        self._lock = threading.Lock()
        self._tables: dict[str, SqliteTable] = {}
        self._logs: dict[str, SqliteLog] = {}
        self._notices = Notices(self.path + "-notices")
        with self.transaction():
            for statement in SCHEMA:
                self.execute(statement)
            version = self.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise ValueError(
                    f"{self.path}: state file of schema version {version}; this mockserver "
                    f"reads version {SCHEMA_VERSION} (start with a new --state file)"
                )
            self.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one in a forked child)."""
        local = self._local
        connection = local.connection
        if connection is None or local.pid != os.getpid():
            connection = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=True
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            local.connection, local.pid, local.depth = connection, os.getpid(), 0
        return connection

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.connection().execute(sql, params)

    def table(self, name: str, capacity: int) -> SqliteTable:
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = self._tables[name] = SqliteTable(self, name, capacity)
            return table

    def log(self, name: str, capacity: int) -> SqliteLog:
        with self._lock:
            log = self._logs.get(name)
            if log is None:
                log = self._logs[name] = SqliteLog(self, name, capacity)
            return log

    @contextmanager
    def transaction(self) -> Iterator[None]:
        connection = self.connection()
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        connection.execute("BEGIN IMMEDIATE")
        local.depth, local.notify = 1, None
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")
            topics: list[str] = local.notify or []
            for topic in topics:
                self._notices.bump(topic)
        finally:
            local.depth, local.notify = 0, None

    def notify(self, topic: str) -> None:
        local = self._local
        if local.depth:
            local.notify = [*(local.notify or ()), topic]
        else:
            self._notices.bump(topic)

    def notices(self, topic: str) -> int:
        return self._notices.read(topic)

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        connection = self._local.connection
        if connection is not None and self._local.pid == os.getpid():
            connection.close()
        self._local.connection = None
        self._notices.close()
