"""The neutral task record every family renders: who asked for what, its planned stages and
where it is in them.

Statuses are the gateway's (new-api's) words: NOT_START, SUBMITTED, QUEUED, IN_PROGRESS, then
SUCCESS or FAILURE. Times are unix seconds derived from the scenario clock, never the wall
clock: a stage starts `stage.start` seconds after `created`.
"""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct, field

Status = Literal["NOT_START", "SUBMITTED", "QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE"]
TERMINAL = ("SUCCESS", "FAILURE")
NOT_STARTED = ("NOT_START", "SUBMITTED", "QUEUED")


class Stage(Struct, frozen=True, array_like=True):
    status: str
    progress: int  # percent shown while in this stage
    start: float  # seconds after submission


class Bill(Struct, frozen=True, array_like=True):
    """What a task's submission was charged in gateway mode (`mockserver.tasks.billing`):
    given back once if the task ends in FAILURE."""

    token_id: int
    user_id: int
    token_name: str
    quota: int


class Task(Struct, kw_only=True):
    """One submitted task. `params` holds what its family needs to render it (seconds and size
    of a video, the parent and index of a Midjourney action...)."""

    id: str
    family: str  # "video", "midjourney", "suno"
    action: str  # "generate", "remix", "IMAGINE", "UPSCALE", "MUSIC"...
    model: str
    prompt: str
    key: str  # seeds the task's artifacts
    created: int
    stages: list[Stage]  # the planned life, its terminal stage last
    step: int = 0
    advance: str = "poll"  # "poll" or "clock"
    clock_start: float = 0.0  # the task clock when it was submitted
    reason: str = ""
    code: str = ""
    poll_after_ms: int = 0
    seq: int = 0  # submission order, for listings
    held: bool = False  # waits for more input (Midjourney's MODAL) before its life begins
    callback_url: str | None = None  # where each change is POSTed (scripted `callbacks: true`)
    callback_retries: int = 0
    rule: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    bill: Bill | None = None  # gateway mode: the submission's charge

    @property
    def stage(self) -> Stage:
        return self.stages[self.step]

    @property
    def status(self) -> str:
        return self.stage.status

    @property
    def progress(self) -> int:
        return self.stage.progress

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def started_at(self) -> int | None:
        """When it left the queue (its first stage past NOT_START/SUBMITTED/QUEUED), if yet."""
        for stage in self.stages[: self.step + 1]:
            if stage.status not in NOT_STARTED:
                return self.created + int(stage.start)
        return None

    @property
    def finished_at(self) -> int | None:
        return self.created + int(self.stage.start) if self.finished else None

    @property
    def updated_at(self) -> int:
        return self.created + int(self.stage.start)
