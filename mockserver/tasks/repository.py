"""Where tasks live: every read and change of a task goes through `TaskRepository`, over two
tables (the tasks by id; counters for submission order and the task clock), so that handing it
the shared store's tables makes every worker see the same tasks.

The task clock is scenario time: it starts at 0 and moves only when a test advances it
(`advance_clock`), never with the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable

from mockserver.store import MemoryStore, Table
from mockserver.tasks import lifecycle
from mockserver.tasks.task import Task

CAPACITY = 10_000  # live tasks kept; the least recently changed go first past it
CLOCK_KEY, SEQ_KEY = "clock_ms", "seq"


class TaskRepository:
    """Tasks on the store's tables `tasks` and `task_counters` (a private memory store's when
    none are given)."""

    def __init__(
        self,
        tasks: Table | None = None,
        counters: Table | None = None,
        on_change: Callable[[Task], None] | None = None,
        on_finish: Callable[[Task], None] | None = None,
    ) -> None:
        if tasks is None or counters is None:
            store = MemoryStore()
            tasks = tasks if tasks is not None else store.table("tasks", CAPACITY)
            counters = counters if counters is not None else store.table("task_counters", 16)
        self.tasks: Table = tasks
        self.counters: Table = counters
        # told of every change of a task that has a callback URL (`mockserver.tasks.callbacks`)
        self.on_change = on_change
        # told once when a change ends a task, by whichever worker made it (refunds)
        self.on_finish = on_finish

    # --- The task clock ------------------------------------------------------------------

    def now(self) -> float:
        """Seconds the task clock has been advanced since the server (or the test) started."""
        return self.counters.count(CLOCK_KEY) / 1000

    def advance_clock(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"the task clock only moves forward; got {seconds} seconds")
        now = self.counters.incr(CLOCK_KEY, round(seconds * 1000)) / 1000
        if self.on_change is not None or self.on_finish is not None:
            # clock-driven tasks with callbacks or a charge change now (not at their next poll)
            for task_id in self.tasks.keys():  # noqa: SIM118 (a store table, not a dict)
                task = self.tasks.get(task_id, Task)
                if task is None or task.advance != "clock" or task.finished:
                    continue
                if task.callback_url or task.bill is not None:
                    self._move(task_id, lambda task: lifecycle.current(task, now))
        return now

    # --- Tasks ---------------------------------------------------------------------------

    def add(self, task: Task) -> Task:
        task.seq = self.counters.incr(SEQ_KEY)
        task.clock_start = self.now()
        self.tasks.set(task.id, task)
        return task

    def get(self, task_id: str, family: str | None = None) -> Task | None:
        """The task as it stands (a clock-driven one where the clock has taken it); None when
        unknown or of another family."""
        task = self.tasks.get(task_id, Task)
        if task is None or (family is not None and task.family != family):
            return None
        return lifecycle.current(task, self.now())

    def poll(self, task_id: str, family: str | None = None) -> Task | None:
        """The task after one more fetch (`lifecycle.polled`), moved atomically. A poll that
        moves nothing (a finished or held task, a clock-driven one still in its stage) is one
        read: no write, and the clock read only for clock-driven tasks."""
        task = self.tasks.get(task_id, Task)
        if task is None or (family is not None and task.family != family):
            return None
        now = self.now() if task.advance == "clock" else 0.0
        moved = lifecycle.polled(task, now)
        if moved.step == task.step and moved.held == task.held:
            return moved
        return self._move(task_id, lambda task: lifecycle.polled(task, now))

    def _move(self, task_id: str, move: Callable[[Task], Task]) -> Task | None:
        """Apply `move` atomically; tell `on_change` when the task has a callback URL and
        changed stage (or was released from a hold)."""
        changed: list[Task] = []

        def change(task: Task | None) -> Task | None:
            changed.clear()  # (a backend may run this again on a retried transaction)
            if task is None:
                return None
            moved = move(task)
            if moved.step != task.step or moved.held != task.held:
                changed.append(moved)
            return moved

        result = self.tasks.update(task_id, Task, change)
        if changed and changed[0].callback_url and self.on_change is not None:
            self.on_change(changed[0])
        if changed and changed[0].finished and self.on_finish is not None:
            self.on_finish(changed[0])  # this update ended it: no other worker's did
        return result

    def release(self, task_id: str) -> Task | None:
        """Let a held task (`Task.held`) start its life."""
        now = self.now()
        return self._move(task_id, lambda task: lifecycle.released(task, now))

    def cancel(self, task_id: str, reason: str = "cancelled") -> Task | None:
        """Stop an unfinished task (`lifecycle.cancelled`): it reads FAILURE, code "cancelled"."""
        now = self.now()  # where the clock has taken it, first
        return self._move(
            task_id, lambda task: lifecycle.cancelled(lifecycle.current(task, now), reason)
        )

    def everything(self) -> list[Task]:
        """Every family's tasks in submission order."""
        now = self.now()
        found = []
        for task_id in self.tasks.keys():  # noqa: SIM118 (a store table, not a dict)
            task = self.tasks.get(task_id, Task)
            if task is not None:
                found.append(lifecycle.current(task, now))
        return sorted(found, key=lambda task: task.seq)

    def list(self, family: str) -> list[Task]:
        """The family's tasks in submission order."""
        return [task for task in self.everything() if task.family == family]

    def delete(self, task_id: str) -> bool:
        return self.tasks.delete(task_id)

    def reset(self) -> None:
        """Forget every task and set the clock back to 0."""
        self.tasks.clear()
        self.counters.clear()
