from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from mockserver.scenario.model import (
    DEFAULT_CLOCK,
    ChoiceSpec,
    Distribution,
    FakeTokens,
    FaultSpec,
    ReplySpec,
    Rule,
    Scenario,
    TextMatch,
    ToolChoiceName,
    TurnRange,
)
from mockserver.templating import Template, TemplatedValue


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
    ]
    assert "json" in ChoiceSpec.accepted_keys()


def test_text_match_shorthand_means_contains() -> None:
    match = rule(match={"last_user": "weather"}, reply={}).match
    assert match.last_user == TextMatch(contains="weather")


def test_text_match_needs_exactly_one_operator() -> None:
    assert "exactly one of contains, equals, regex; got contains and regex" in str(
        errors(TextMatch, {"contains": "a", "regex": "b"})
    )
    assert "got none" in str(errors(TextMatch, {"ignore_case": True}))


def test_bad_regex_is_a_validation_error_with_position() -> None:
    [(loc, message)] = errors(TextMatch, {"regex": "a(b"})
    assert loc == ("regex",)
    assert "bad regex: missing ), unterminated subpattern at position 1" in message


def test_model_accepts_one_glob_or_a_list() -> None:
    assert rule(match={"model": "gpt-4o*"}, reply={}).match.model == ["gpt-4o*"]
    assert rule(match={"model": ["a", "b"]}, reply={}).match.model == ["a", "b"]


def test_turn_and_tool_choice_shapes() -> None:
    match = rule(match={"turn": 2, "tool_choice": "required"}, reply={}).match
    assert (match.turn, match.tool_choice) == (2, "required")
    match = rule(match={"turn": {"min": 1}, "tool_choice": {"name": "f"}}, reply={}).match
    assert match.turn == TurnRange(min=1)
    assert match.tool_choice == ToolChoiceName(name="f")
    assert "min (3) is greater than max (1)" in str(errors(TurnRange, {"min": 3, "max": 1}))


def test_headers_values_may_be_numbers() -> None:
    match = rule(match={"headers": {"X-Try": 2}}, reply={}).match
    assert match.headers == {"X-Try": "2"}


def test_reply_templates_are_compiled() -> None:
    reply = rule(
        reply={
            "content": "Hi {{ request.model }}",
            "reasoning": {"fake_tokens": 12},
            "tool_calls": [{"name": "f", "arguments": {"city": "{{ match.city }}"}}],
            "json": {"a": ["{{ match.x }}"]},
        }
    ).reply
    assert reply is not None
    assert isinstance(reply.content, Template)
    assert reply.reasoning == FakeTokens(fake_tokens=12)
    assert isinstance(reply.tool_calls[0].arguments, TemplatedValue)
    assert reply.tool_calls[0].arguments.render({"match": {"city": "Rome"}}) == {"city": "Rome"}
    assert isinstance(reply.json_, TemplatedValue)


def test_reply_round_trips_to_yaml_keys() -> None:
    reply = ReplySpec.model_validate({"content": "hi", "json": {"a": 1}})
    dumped = reply.model_dump(by_alias=True, exclude_none=True)
    assert dumped == {"content": "hi", "json": {"a": 1}, "tool_calls": []}


def test_tool_call_arguments_must_be_a_mapping() -> None:
    assert "expected a mapping" in str(
        errors(ReplySpec, {"tool_calls": [{"name": "f", "arguments": "{}"}]})
    )


def test_choices_alone() -> None:
    reply = ReplySpec.model_validate({"choices": [{"content": "a"}, {"refusal": "no"}]})
    assert [c.refusal for c in reply.alternatives()] == [None, Template("no", None)]
    single = ReplySpec.model_validate({"content": "a"})
    assert single.alternatives() == [single]
    assert "choices cannot be combined with content" in str(
        errors(ReplySpec, {"content": "x", "choices": [{"content": "a"}]})
    )


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
    assert "exactly one of reply, fault" in str(
        errors(Rule, {"name": "r", "sequence": [{"reply": {}, "fault": {"status": 500}}]})
    )


def test_fail_times_then_reply() -> None:
    flaky = rule(fault={"preset": "overloaded"}, reply={"content": "ok"}, fail_times=2)
    assert [type(flaky.step(i)).__name__ for i in range(4)] == [
        "FaultSpec",
        "FaultSpec",
        "ReplySpec",
        "ReplySpec",
    ]


def test_fault_needs_an_effect() -> None:
    assert "a fault needs at least one effect" in str(errors(FaultSpec, {"retry_after": 1}))
    assert "stall_for needs stall_after" in str(errors(FaultSpec, {"status": 500, "stall_for": 1}))
    assert FaultSpec.model_validate({"truncate_after": 0}).truncate_after == 0
    assert "greater than or equal to 100" in str(errors(FaultSpec, {"status": 42}))


def test_fault_full_shape() -> None:
    fault = FaultSpec.model_validate(
        {
            "preset": "rate_limit",
            "retry_after": 0.2,
            "headers": {"x-ratelimit-remaining-requests": 0},
            "latency": {"delay": {"lognormal": {"median": 0.1, "sigma": 0.5}}, "ttft": 0.3},
            "connection": "reset",
        }
    )
    assert fault.headers == {"x-ratelimit-remaining-requests": "0"}
    assert fault.latency is not None
    assert isinstance(fault.latency.delay, Distribution)
    assert fault.latency.ttft == 0.3


def test_latency_shapes() -> None:
    slow = rule(reply={}, latency={"delay": {"uniform": [0.1, 0.2]}, "tokens_per_second": 50})
    assert slow.latency is not None
    assert slow.latency.delay == Distribution(uniform=[0.1, 0.2])
    assert "low <= high" in str(errors(Distribution, {"uniform": [2, 1]}))
    assert "exactly one of uniform, lognormal" in str(errors(Distribution, {}))
    assert "latency needs at least one of" in str(errors(Rule, {"name": "r", "latency": {}}))


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
