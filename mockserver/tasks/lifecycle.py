"""A task's scripted life: the stages a scenario's `task:` plans (or a family's defaults), and
how a task moves through them — one stage per poll, or by the task clock.

    plan(TaskSpec(fail_at="IN_PROGRESS"), ("QUEUED", "IN_PROGRESS"))
    -> [Stage("QUEUED", 20, 0), Stage("IN_PROGRESS", 50, 5), Stage("FAILURE", 100, 10)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from msgspec.structs import replace

from mockserver.tasks.task import Stage, Task

if TYPE_CHECKING:
    from mockserver.scenario.outcomes import TaskSpec

# new-api's progress strings for each status ("0%", "10%", "20%", "30%"+, "100%").
DEFAULT_PROGRESS = {"NOT_START": 0, "SUBMITTED": 10, "QUEUED": 20, "IN_PROGRESS": 50}
DEFAULT_SECONDS = 5.0


def plan(spec: TaskSpec | None, defaults: Sequence[str]) -> list[Stage]:
    """The stages a task goes through, its terminal stage (SUCCESS or FAILURE) last."""
    wanted: list[tuple[str, int | None, float | None]]
    if spec is not None and spec.stages is not None:
        wanted = [(s.status, s.progress, s.seconds) for s in spec.stages]
    else:
        wanted = [(status, None, None) for status in defaults]
    fail_at = spec.fail_at if spec is not None else None
    if fail_at is not None:
        statuses = [status for status, _, _ in wanted]
        if fail_at in statuses:  # leaves that stage for FAILURE (else fails after the last)
            wanted = wanted[: statuses.index(fail_at) + 1]
    step_seconds = spec.stage_seconds if spec is not None else DEFAULT_SECONDS
    running = [i for i, (status, _, _) in enumerate(wanted) if status == "IN_PROGRESS"]
    stages: list[Stage] = []
    start = 0.0
    for index, (status, progress, seconds) in enumerate(wanted):
        if progress is None:
            progress = DEFAULT_PROGRESS[status]
            if status == "IN_PROGRESS" and len(running) > 1:  # 30% ... 90%, evenly
                progress = 30 + 60 * running.index(index) // (len(running) - 1)
        stages.append(Stage(status, progress, start))
        start += step_seconds if seconds is None else seconds
    stages.append(Stage("FAILURE" if fail_at is not None else "SUCCESS", 100, start))
    return stages


def step_at(task: Task, now: float) -> int:
    """The stage a clock-driven task is in at task-clock time `now` (never earlier than the
    stage it has reached)."""
    elapsed = now - task.clock_start
    step = task.step
    for index, stage in enumerate(task.stages):
        if stage.start <= elapsed:
            step = max(step, index)
    return step


def current(task: Task, now: float) -> Task:
    """The task as it stands now, without a poll moving it."""
    if task.advance != "clock" or task.held:
        return task
    step = step_at(task, now)
    return task if step == task.step else replace(task, step=step)


def polled(task: Task, now: float) -> Task:
    """The task after one more fetch: one stage on when polls drive it, else as the clock says."""
    if task.advance == "clock":
        return current(task, now)
    if task.finished or task.held:
        return task
    return replace(task, step=task.step + 1)


def released(task: Task, now: float) -> Task:
    """A held task let go: its life starts now (a clock-driven one, from the clock's now)."""
    return replace(task, held=False, clock_start=now)


def cancelled(task: Task, reason: str) -> Task:
    """A task cancelled where it stands: FAILURE at once, with `code` "cancelled" (a finished
    task stays as it is)."""
    if task.finished:
        return task
    stop = Stage("FAILURE", 100, task.stage.start)
    stages = [*task.stages[: task.step + 1], stop]
    return replace(task, stages=stages, step=len(stages) - 1, held=False, reason=reason,
                   code="cancelled")  # fmt: skip
