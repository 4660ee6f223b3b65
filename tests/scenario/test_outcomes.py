from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mockserver.engine.content.templates import Template, TemplatedValue
from mockserver.scenario.outcomes import (
    Distribution,
    FakeTokens,
    FaultSpec,
    LatencySpec,
    ReplySpec,
)


def errors(model: type[Any], data: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_reply_templates_are_compiled() -> None:
    reply = ReplySpec.model_validate(
        {
            "content": "Hi {{ request.model }}",
            "reasoning": {"fake_tokens": 12},
            "tool_calls": [{"name": "f", "arguments": {"city": "{{ match.city }}"}}],
            "json": {"a": ["{{ match.x }}"]},
        }
    )
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
    slow = LatencySpec.model_validate({"delay": {"uniform": [0.1, 0.2]}, "tokens_per_second": 50})
    assert slow.delay == Distribution(uniform=[0.1, 0.2])
    assert "low <= high" in str(errors(Distribution, {"uniform": [2, 1]}))
    assert "exactly one of uniform, lognormal" in str(errors(Distribution, {}))
    assert "latency needs at least one of" in str(errors(LatencySpec, {}))
