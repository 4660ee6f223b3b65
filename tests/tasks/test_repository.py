from __future__ import annotations

import threading

import pytest

from mockserver.store import MemoryStore
from mockserver.tasks import lifecycle
from mockserver.tasks.repository import TaskRepository
from mockserver.tasks.task import Task


def make(task_id: str, family: str = "video", advance: str = "poll") -> Task:
    return Task(
        id=task_id, family=family, action="generate", model="m", prompt="p", key=task_id,
        created=1000, stages=lifecycle.plan(None, ("QUEUED", "IN_PROGRESS")), advance=advance,
    )  # fmt: skip


def test_get_is_scoped_to_a_family_and_does_not_move_the_task() -> None:
    tasks = TaskRepository()
    tasks.add(make("a"))
    assert tasks.get("a", "video") is not None
    assert tasks.get("a", "midjourney") is None
    assert tasks.get("a") is not None and tasks.get("a").status == "QUEUED"  # type: ignore[union-attr]
    assert tasks.get("missing") is None


def test_polls_advance_and_are_kept() -> None:
    tasks = TaskRepository()
    tasks.add(make("a"))
    assert tasks.poll("a").status == "IN_PROGRESS"  # type: ignore[union-attr]
    assert tasks.get("a").status == "IN_PROGRESS"  # type: ignore[union-attr]
    assert tasks.poll("missing") is None


def test_concurrent_polls_each_move_one_stage() -> None:
    tasks = TaskRepository()
    stages = lifecycle.plan(None, ["IN_PROGRESS"] * 50)
    task = make("a")
    task.stages = stages
    tasks.add(task)
    threads = [threading.Thread(target=lambda: tasks.poll("a")) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tasks.get("a").step == 40  # type: ignore[union-attr]


def test_listing_is_in_submission_order_and_delete_forgets() -> None:
    tasks = TaskRepository()
    for name in ("a", "b", "c"):
        tasks.add(make(name))
    tasks.add(make("m", family="midjourney"))
    tasks.poll("a")  # a write doesn't reorder the listing
    assert [t.id for t in tasks.list("video")] == ["a", "b", "c"]
    assert tasks.delete("b") and not tasks.delete("b")
    assert [t.id for t in tasks.list("video")] == ["a", "c"]


def test_the_clock_moves_only_forward_and_reset_restarts_it() -> None:
    tasks = TaskRepository()
    tasks.add(make("a", advance="clock"))
    assert tasks.advance_clock(5) == 5
    assert tasks.get("a").status == "IN_PROGRESS"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="only moves forward"):
        tasks.advance_clock(-1)
    tasks.reset()
    assert tasks.now() == 0 and tasks.get("a") is None


def test_a_task_submitted_later_starts_at_that_clock() -> None:
    tasks = TaskRepository()
    tasks.advance_clock(100)
    tasks.add(make("late", advance="clock"))
    assert tasks.get("late").status == "QUEUED"  # type: ignore[union-attr]
    tasks.advance_clock(5)
    assert tasks.get("late").status == "IN_PROGRESS"  # type: ignore[union-attr]


def test_the_table_is_bounded() -> None:
    table = MemoryStore().table("tasks", capacity=2)
    tasks = TaskRepository(table)
    for name in ("a", "b", "c"):
        tasks.add(make(name))
    assert tasks.get("a") is None and len(table) == 2
