from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from mockserver.scenario.model import DEFAULT_CLOCK, Rule, Scenario
from mockserver.scenario.outcomes import ChoiceSpec, FaultSpec, ReplySpec


def scenario(**data: Any) -> Scenario:
    return Scenario.model_validate({"version": 1, **data})


def rule(**data: Any) -> Rule:
    return Rule.model_validate({"name": "r", **data})


def errors(model: type[Any], data: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_defaults() -> None:
    loaded = scenario()
    assert (loaded.seed, loaded.clock, loaded.strict) == (0, DEFAULT_CLOCK, False)
    assert (loaded.rules, loaded.models, loaded.chaos, loaded.rate_limits) == ([], [], [], [])


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        (1700000000, 1700000000),
        ("2025-01-01T00:00:00Z", 1735689600),
        ("2025-01-01T01:00:00+01:00", 1735689600),
        ("2025-01-01T00:00:00", 1735689600),
        (datetime(2025, 1, 1), 1735689600),  # YAML turns unquoted timestamps into datetimes
        (date(2025, 1, 2), 1735776000),
    ],
)
def test_clock_accepts_unix_seconds_and_iso_8601(clock: Any, expected: int) -> None:
    assert scenario(clock=clock).clock == expected


def test_values_are_not_coerced() -> None:
    assert errors(Scenario, {"version": 1, "seed": "42"}) == [
        (("seed",), "Input should be a valid integer")
    ]
    assert errors(Scenario, {"version": 1, "strict": 1})[0][0] == ("strict",)


def test_other_versions_are_rejected_with_instructions() -> None:
    [(loc, message)] = errors(Scenario, {"version": 2})
    assert loc == ("version",)
    assert "reads version 1 only" in message
    assert "`version: 1`" in message


def test_rule_keys_in_yaml_order() -> None:
    assert Rule.accepted_keys() == [
        "name",
        "match",
        "reply",
        "sequence",
        "fault",
        "fail_times",
        "latency",
        "task",
    ]
    assert "json" in ChoiceSpec.accepted_keys()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"reply": {}}, "reply"),
        ({"fault": {"status": 503}}, "fault"),
        ({"sequence": [{"fault": {"status": 503}}, {"reply": {}}]}, "sequence"),
        ({"fault": {"status": 503}, "reply": {}, "fail_times": 2}, "fail_times"),
    ],
)
def test_rule_kinds(data: dict[str, Any], kind: str) -> None:
    assert rule(**data).kind == kind


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "got none"),
        ({"reply": {}, "fault": {"status": 500}}, "got reply and fault"),
        ({"reply": {}, "sequence": [{"reply": {}}]}, "got reply and sequence"),
        ({"fault": {"status": 500}, "fail_times": 1}, "fail_times needs fault"),
        ({"sequence": [{"reply": {}}], "fail_times": 1}, "got sequence"),
    ],
)
def test_rule_needs_one_outcome(data: dict[str, Any], message: str) -> None:
    assert message in str(errors(Rule, {"name": "r", **data}))


def test_sequence_steps_and_last_step_repeats() -> None:
    flaky = rule(sequence=[{"fault": {"status": 503}}, {"reply": {"content": "ok"}}])
    assert isinstance(flaky.step(0), FaultSpec)
    assert isinstance(flaky.step(1), ReplySpec)
    assert flaky.step(5) is flaky.step(1)
    assert "exactly one of reply, fault, task" in str(
        errors(Rule, {"name": "r", "sequence": [{"reply": {}, "fault": {"status": 500}}]})
    )
    tasks = rule(sequence=[{"task": {"id": "a"}}, {"task": {"id": "b"}}])
    assert [getattr(tasks.step(i), "id", None) for i in range(3)] == ["a", "b", "b"]


def test_fail_times_then_reply() -> None:
    flaky = rule(fault={"preset": "overloaded"}, reply={"content": "ok"}, fail_times=2)
    assert [type(flaky.step(i)).__name__ for i in range(4)] == [
        "FaultSpec",
        "FaultSpec",
        "ReplySpec",
        "ReplySpec",
    ]


def test_models_chaos_and_rate_limits() -> None:
    loaded = scenario(
        models=[{"id": "my-model", "reasoning": True}],
        chaos=[{"probability": 0.1, "fault": {"preset": "server_error"}}],
        rate_limits=[{"key": "sk-*", "rpm": 3}],
    )
    model = loaded.models[0]
    assert (model.owned_by, model.context_window, model.encoding) == (
        "mockserver",
        128000,
        "o200k_base",
    )
    assert loaded.chaos[0].match.model_fields_set == set()
    assert loaded.rate_limits[0].tpm is None
    assert "rate limit needs rpm, tpm or both" in str(
        errors(Scenario, {"version": 1, "rate_limits": [{"model": "x"}]})
    )
    assert "less than or equal to 1" in str(
        errors(Scenario, {"version": 1, "chaos": [{"probability": 2, "fault": {"status": 500}}]})
    )
    assert ("models", 0, "colour") in [
        loc for loc, _ in errors(Scenario, {"version": 1, "models": [{"id": "m", "colour": 1}]})
    ]
