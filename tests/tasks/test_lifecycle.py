from __future__ import annotations

import textwrap

import pytest

from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_text
from mockserver.scenario.outcomes import TaskSpec
from mockserver.tasks import lifecycle
from mockserver.tasks.task import Stage, Task

VIDEO = ("QUEUED", "IN_PROGRESS")


def spec(**data: object) -> TaskSpec:
    return TaskSpec.model_validate(data)


def task(stages: list[Stage], advance: str = "poll") -> Task:
    return Task(
        id="t", family="video", action="generate", model="m", prompt="p", key="k",
        created=1000, stages=stages, advance=advance,
    )  # fmt: skip


def test_defaults_plan_success_after_the_familys_stages() -> None:
    assert lifecycle.plan(None, VIDEO) == [
        Stage("QUEUED", 20, 0.0),
        Stage("IN_PROGRESS", 50, 5.0),
        Stage("SUCCESS", 100, 10.0),
    ]


def test_fail_at_cuts_the_plan_after_that_stage() -> None:
    stages = lifecycle.plan(spec(fail_at="QUEUED", stage_seconds=2), VIDEO)
    assert stages == [Stage("QUEUED", 20, 0.0), Stage("FAILURE", 100, 2.0)]


def test_fail_at_a_stage_the_family_lacks_fails_after_the_last() -> None:
    stages = lifecycle.plan(spec(fail_at="NOT_START"), VIDEO)
    assert [s.status for s in stages] == ["QUEUED", "IN_PROGRESS", "FAILURE"]


def test_several_running_stages_spread_their_progress() -> None:
    planned = spec(stages=["SUBMITTED", "IN_PROGRESS", "IN_PROGRESS", {"status": "IN_PROGRESS"}])
    progress = [s.progress for s in lifecycle.plan(planned, VIDEO)]
    assert progress == [10, 30, 60, 90, 100]


def test_stage_seconds_and_progress_can_be_given() -> None:
    planned = spec(stages=[{"status": "IN_PROGRESS", "progress": 77, "seconds": 3}])
    assert lifecycle.plan(planned, VIDEO) == [
        Stage("IN_PROGRESS", 77, 0.0),
        Stage("SUCCESS", 100, 3.0),
    ]


def test_polls_move_one_stage_and_stop_at_the_end() -> None:
    polled = task(lifecycle.plan(None, VIDEO))
    statuses = []
    for _ in range(4):
        polled = lifecycle.polled(polled, now=0)
        statuses.append(polled.status)
    assert statuses == ["IN_PROGRESS", "SUCCESS", "SUCCESS", "SUCCESS"]
    assert (polled.started_at, polled.finished_at) == (1005, 1010)


def test_the_clock_moves_a_clock_task_and_polls_dont() -> None:
    clocked = task(lifecycle.plan(None, VIDEO), advance="clock")
    assert lifecycle.polled(clocked, now=4.9).status == "QUEUED"
    assert lifecycle.current(clocked, now=5).status == "IN_PROGRESS"
    assert lifecycle.current(clocked, now=60).status == "SUCCESS"


def test_a_fail_at_outside_the_given_stages_is_a_load_error() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            task: {stages: [QUEUED], fail_at: IN_PROGRESS}
    """
    with pytest.raises(ScenarioError) as caught:
        load_text(textwrap.dedent(text), "x.yaml")
    [issue] = caught.value.issues
    assert str(issue).startswith("x.yaml:4:")
    assert "fail_at IN_PROGRESS is not one of this task's stages (QUEUED)" in str(issue)


def test_an_unknown_stage_names_the_valid_ones() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            task: {stages: [RUNNING]}
    """
    with pytest.raises(ScenarioError) as caught:
        load_text(textwrap.dedent(text), "x.yaml")
    message = str(caught.value.issues[0])
    assert "RUNNING" in message and "IN_PROGRESS" in message


def test_a_task_rule_is_an_outcome_of_its_own() -> None:
    text = """\
        version: 1
        rules:
          - name: a
            task: {}
            reply: {content: hi}
    """
    with pytest.raises(ScenarioError) as caught:
        load_text(textwrap.dedent(text), "x.yaml")
    assert "got reply and task" in str(caught.value.issues[0])


def test_a_cancelled_task_fails_where_it_stands_and_stays_there() -> None:
    running = lifecycle.polled(task(lifecycle.plan(None, VIDEO)), now=0)
    cancelled = lifecycle.cancelled(running, "by the user")
    assert (cancelled.status, cancelled.code, cancelled.reason) == (
        "FAILURE", "cancelled", "by the user",
    )  # fmt: skip
    assert cancelled.finished_at == 1005  # when it was stopped, not when it would have ended
    assert lifecycle.polled(cancelled, now=0).status == "FAILURE"
    clocked = lifecycle.cancelled(task(lifecycle.plan(None, VIDEO), advance="clock"), "x")
    assert lifecycle.current(clocked, now=60).status == "FAILURE"
    done = lifecycle.polled(lifecycle.polled(running, now=0), now=0)
    assert lifecycle.cancelled(done, "too late") is done
