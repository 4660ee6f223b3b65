"""Both store backends pass one suite: counters, values with expiry, atomic updates, capacities,
logs with generations, transactions, and concurrent writers (threads; processes for SQLite)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from mockserver.store import MemoryStore, Store
from mockserver.store.sqlite import TRIM_EVERY, SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Point(msgspec.Struct, frozen=True):
    x: int
    label: str = ""


@pytest.fixture(params=["memory", "sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(backend: str, tmp_path: Path, clock: Clock) -> Iterator[Store]:
    made: Store = (
        MemoryStore(clock=clock)
        if backend == "memory"
        else SqliteStore(tmp_path / "state.sqlite", clock=clock)
    )
    yield made
    made.close()


# --- Counters ---------------------------------------------------------------------------------


def test_incr_counts_each_key_from_zero_and_returns_the_new_value(store: Store) -> None:
    table = store.table("occurrences", 100)
    assert [table.incr("a"), table.incr("a"), table.incr("b"), table.incr("a", 5)] == [1, 2, 1, 7]
    assert (table.count("a"), table.count("b"), table.count("never")) == (7, 1, 0)
    assert table.incr("a", -7) == 0  # a refund


def test_several_counters_are_read_and_added_to_in_one_step(store: Store) -> None:
    table = store.table("spent", 100)
    table.incr("t1", 5)
    table.incr_many({"t1": 10, "u1": 10, "r1": 1})
    table.incr_many({"t1": -3, "u1": -3})  # a refund
    assert table.counts(["u1", "never", "t1", "r1"]) == [7, 0, 12, 1]
    assert table.counts([]) == []


def test_incr_many_keeps_a_window_and_the_capacity(store: Store, clock: Clock) -> None:
    table = store.table("mixed", 2)
    table.incr("w", ttl=60)
    table.incr_many({"w": 1, "a": 1})
    clock.now += 61
    assert table.counts(["w", "a"]) == [0, 1]  # the window kept its end, and expired
    small = store.table("small", 2)
    small.incr_many({"a": 1, "b": 1})
    small.incr_many({"c": 1})
    if isinstance(store, MemoryStore):  # SQLite trims every few writes, not at once
        assert small.keys() == ["b", "c"]


def test_a_counter_with_a_ttl_is_a_fixed_window(store: Store, clock: Clock) -> None:
    table = store.table("windows", 100)
    assert table.incr("k", ttl=60) == 1
    clock.now += 30
    assert table.incr("k", ttl=60) == 2  # the window keeps its end
    clock.now += 31
    assert table.count("k") == 0  # expired
    assert table.incr("k", ttl=60) == 1  # a new window


# --- Values -----------------------------------------------------------------------------------


def test_values_round_trip_as_the_type_the_reader_names(store: Store) -> None:
    table = store.table("values", 100)
    table.set("p", Point(3, "three"))
    table.set("d", {"a": [1, 2.5, "x", None]})
    assert table.get("p", Point) == Point(3, "three")
    assert table.get("d", dict) == {"a": [1, 2.5, "x", None]}
    assert table.get("absent", Point) is None


def test_set_replaces_and_delete_says_whether_the_key_was_there(store: Store) -> None:
    table = store.table("values", 100)
    table.set("k", "one")
    table.set("k", "two")
    assert table.get("k", str) == "two"
    assert table.delete("k") is True
    assert table.delete("k") is False
    assert table.get("k", str) is None


def test_a_value_expires_after_its_ttl(store: Store, clock: Clock) -> None:
    table = store.table("values", 100)
    table.set("short", "s", ttl=10)
    table.set("long", "l")
    clock.now += 9.9
    assert table.get("short", str) == "s"
    clock.now += 0.2
    assert table.get("short", str) is None
    assert table.delete("short") is False
    assert table.keys() == ["long"] and len(table) == 1


def test_update_reads_and_writes_in_one_step_and_none_deletes(store: Store) -> None:
    table = store.table("values", 100)
    seen: list[Point | None] = []

    def grow(old: Point | None) -> Point:
        seen.append(old)
        return Point(1) if old is None else Point(old.x + 1)

    assert table.update("p", Point, grow) == Point(1)
    assert table.update("p", Point, grow) == Point(2)
    assert seen == [None, Point(1)]
    assert table.update("p", Point, lambda old: None) is None
    assert table.get("p", Point) is None


def test_compare_and_set_is_an_update_that_keeps_what_it_does_not_expect(store: Store) -> None:
    table = store.table("values", 100)
    table.set("owner", "a")

    def claim(old: str | None) -> str | None:
        return "b" if old == "a" else old

    assert table.update("owner", str, claim) == "b"
    assert table.update("owner", str, claim) == "b"  # not "a" any more: kept


# --- Capacities -------------------------------------------------------------------------------


def test_a_table_forgets_its_least_recently_written_keys_past_its_capacity(store: Store) -> None:
    capacity = 10
    table = store.table("bounded", capacity)
    for n in range(3 * TRIM_EVERY):
        table.incr(f"k{n}")
        table.incr("hot")  # written all along: never the least recent
    keys = table.keys()
    assert capacity <= len(keys) <= capacity + TRIM_EVERY
    assert table.count("hot") == 3 * TRIM_EVERY
    assert keys[-1] == "hot" and keys[-2] == f"k{3 * TRIM_EVERY - 1}"
    assert table.count("k0") == 0  # forgotten: counts from zero again


def test_keys_list_least_recently_written_first_and_a_read_is_no_use(store: Store) -> None:
    table = store.table("order", 100)
    for key in ("a", "b", "c"):
        table.set(key, key)
    table.get("a", str)
    table.set("b", "again")
    assert table.keys() == ["a", "c", "b"]


def test_tables_are_separate_and_one_object_per_name(store: Store) -> None:
    first, second = store.table("one", 10), store.table("two", 10)
    first.incr("k")
    assert second.count("k") == 0
    assert store.table("one", 10) is first
    first.clear()
    assert first.count("k") == 0 and len(first) == 0


def test_a_capacity_below_one_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1; got 0"):
        store.table("none", 0)
    with pytest.raises(ValueError, match="capacity must be at least 1; got 0"):
        store.log("none", 0)


# --- Logs -------------------------------------------------------------------------------------


def test_a_log_lists_records_by_reserved_number_whenever_they_were_appended(store: Store) -> None:
    log = store.log("journal", 10)
    (first, generation), (second, _) = log.open(), log.open()
    assert (first, second, generation) == (1, 2, 0)
    log.append(second, Point(2))
    log.append(first, Point(1))
    assert log.records(Point) == [Point(1), Point(2)]
    assert log.records(Point, after=first) == [Point(2)]
    assert len(log) == 2


def test_a_log_keeps_its_newest_records(store: Store) -> None:
    log = store.log("journal", 5)
    for n in range(2 * TRIM_EVERY):
        seq, _ = log.open()
        log.append(seq, Point(n))
    assert log.records(Point) == [Point(n) for n in range(2 * TRIM_EVERY - 5, 2 * TRIM_EVERY)]
    assert len(log) == 5


def test_a_reset_drops_records_and_late_records_reserved_before_it(store: Store) -> None:
    log = store.log("journal", 10)
    done, _ = log.open()
    log.append(done, Point(1))
    in_flight, _ = log.open()
    assert log.reset() == 1 and log.generation == 1
    log.append(in_flight, Point(2))  # began before the reset, finished after it
    fresh, generation = log.open()
    log.append(fresh, Point(3))
    assert (fresh, generation) == (3, 1)
    assert log.records(Point) == [Point(3)]


# --- Transactions and concurrency -----------------------------------------------------------


def test_a_transaction_spans_tables(store: Store) -> None:
    quota, spent = store.table("quota", 10), store.table("spent", 10)
    quota.incr("user", 100)
    with store.transaction():
        quota.incr("user", -30)
        spent.incr("user", 30)
        with store.transaction():  # nested: part of the same
            spent.incr("user", 0)
    assert (quota.count("user"), spent.count("user")) == (70, 30)


def test_threads_counting_at_once_lose_nothing(store: Store) -> None:
    table = store.table("shared", 100)
    per_thread, threads = 200, 4

    def count() -> None:
        for _ in range(per_thread):
            table.incr("k")
            table.update("v", int, lambda old: (old or 0) + 1)

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert table.count("k") == per_thread * threads
    assert table.get("v", int) == per_thread * threads


def test_sqlite_rolls_a_failed_transaction_back(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite")
    table = store.table("t", 10)
    table.incr("k")
    with pytest.raises(RuntimeError), store.transaction():
        table.incr("k")
        raise RuntimeError("undone")
    assert table.count("k") == 1


def _count_in_another_process(path: str, times: int) -> None:
    store = SqliteStore(path)
    table, log = store.table("shared", 100), store.log("journal", 10_000)
    for _ in range(times):
        table.incr("k")
        seq, _ = log.open()
        log.append(seq, seq)


def test_sqlite_processes_counting_at_once_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite")
    SqliteStore(path).close()
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_count_in_another_process, args=(path, 150)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = SqliteStore(path)
    assert store.table("shared", 100).count("k") == 300
    assert store.log("journal", 10_000).records(int) == list(range(1, 301))


def test_sqlite_state_outlives_the_store_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = SqliteStore(path)
    first.table("t", 10).set("k", Point(1))
    seq, _ = first.log("journal", 10).open()
    first.log("journal", 10).append(seq, Point(2))
    first.close()
    again = SqliteStore(path)
    assert again.table("t", 10).get("k", Point) == Point(1)
    assert again.log("journal", 10).records(Point) == [Point(2)]
    assert again.log("journal", 10).open() == (2, 0)
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_refuses_a_state_file_of_another_schema(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(ValueError, match="schema version 99; this mockserver reads version 1"):
        SqliteStore(path)


# --- Notices ----------------------------------------------------------------------------------


def test_a_notice_moves_once_its_transaction_has_committed(store: Store) -> None:
    before = store.notices("scenarios")
    other = store.notices("tasks")
    with store.transaction():
        store.notify("scenarios")
        if store.shared:  # other processes must not look before the change is there to read
            assert store.notices("scenarios") == before
    assert store.notices("scenarios") != before
    assert store.notices("tasks") == other
    moved = store.notices("scenarios")
    store.notify("scenarios")  # outside a transaction: at once
    assert store.notices("scenarios") != moved


def test_a_rolled_back_notice_never_moves(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite")
    before = store.notices("scenarios")
    with pytest.raises(RuntimeError), store.transaction():
        store.notify("scenarios")
        raise RuntimeError("undone")
    assert store.notices("scenarios") == before


def _notify_in_another_process(path: str, times: int) -> None:
    store = SqliteStore(path)
    for _ in range(times):
        store.notify("scenarios")


def test_sqlite_notices_reach_every_store_on_the_file_and_none_is_lost(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite")
    watcher = SqliteStore(path)
    assert watcher.notices("scenarios") == 0
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_notify_in_another_process, args=(path, 200)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert watcher.notices("scenarios") == 400  # read from the shared map, no query
