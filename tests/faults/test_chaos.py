"""Seeded chaos and faults imposed on one request, as the engine decides them."""

from __future__ import annotations

from typing import Any

from mockserver.core.exchange import Exchange, Message
from mockserver.engine.decide import Engine, reply_of
from mockserver.faults import Chaos, summarize
from mockserver.faults.chaos import roll
from mockserver.scenario import ChaosEntry, FaultSpec, ScenarioSet, load_data

FAULT = FaultSpec(status=503)


def exchange(text: str, model: str = "gpt-4o") -> Exchange:
    return Exchange(
        dialect="openai.chat",
        endpoint="/v1/chat/completions",
        model=model,
        messages=[Message(role="user", text=text)],
        body={"model": model, "messages": [{"role": "user", "content": text}]},
    )


def engine(data: dict[str, Any]) -> Engine:
    return Engine(ScenarioSet.build([load_data({"version": 1, **data}, "test.yaml")]))


def chaos(probability: float, match: dict[str, Any] | None = None, seed: int = 1) -> Chaos:
    entry = ChaosEntry.model_validate(
        {"probability": probability, "fault": {"status": 503}, "match": match or {}}
    )
    return Chaos([entry], seed)


def fired(source: Chaos, count: int = 200) -> list[bool]:
    return [source.draw(exchange(f"q{i}"), f"group{i}", 0) is not None for i in range(count)]


def test_the_same_requests_fail_on_every_run() -> None:
    assert fired(chaos(0.3)) == fired(chaos(0.3))
    assert fired(chaos(0.3)) != fired(chaos(0.3, seed=2))


def test_probability_is_the_share_that_fails() -> None:
    assert not any(fired(chaos(0)))
    assert all(fired(chaos(1)))
    share = sum(fired(chaos(0.3), 2000)) / 2000
    assert 0.25 < share < 0.35


def test_a_retry_rolls_afresh() -> None:
    rolls = {roll(1, 0, "group", occurrence) for occurrence in range(5)}
    assert len(rolls) == 5


def test_chaos_only_hits_what_it_matches() -> None:
    limited = chaos(1, {"model": "claude-*"})
    assert limited.draw(exchange("x"), "g", 0) is None
    hit = limited.draw(exchange("x", model="claude-haiku-4-5"), "g", 0)
    assert hit is not None and hit.index == 0 and hit.fault == FAULT


def test_engine_draws_chaos_per_retry_group_and_occurrence() -> None:
    data = {
        "seed": 3,
        "chaos": [{"probability": 0.5, "fault": {"status": 503}}],
        "rules": [{"name": "ok", "reply": {"content": "fine"}}],
    }
    first, second = engine(data), engine(data)
    run = [first.decide(exchange(f"q{i % 6}")).fault_source for i in range(18)]
    assert run == [second.decide(exchange(f"q{i % 6}")).fault_source for i in range(18)]
    assert set(run) == {None, "chaos[0]"}
    decision = next(d for d in (first.decide(exchange(f"r{i}")) for i in range(50)) if d.fault)
    assert decision.rule == "ok" and decision.reply is not None  # chaos keeps the rule's reply


def test_a_forced_fault_leaves_the_rules_counters_alone() -> None:
    eng = engine(
        {
            "rules": [
                {
                    "name": "flaky",
                    "fail_times": 1,
                    "fault": {"status": 500},
                    "reply": {"content": "ok"},
                }
            ]
        }
    )
    forced = eng.decide(exchange("x"), FaultSpec(disconnect_after=1))
    assert (forced.fault, forced.fault_source) == (FaultSpec(disconnect_after=1), "header")
    assert forced.reply is not None  # the rule's reply, to be cut
    assert eng.decide(exchange("x")).fault == FaultSpec(status=500)  # still the first attempt
    assert eng.decide(exchange("x")).fault is None


def test_a_forced_fault_applies_without_a_matching_rule_even_in_strict_mode() -> None:
    eng = engine(
        {
            "strict": True,
            "rules": [{"name": "r", "match": {"last_user": "zzz"}, "reply": {"content": "z"}}],
        }
    )
    decision = eng.decide(exchange("x"), FAULT)
    assert decision.rule is None and decision.fault == FAULT


def test_a_rule_fault_keeps_the_reply_it_would_cut() -> None:
    eng = engine(
        {
            "rules": [
                {
                    "name": "seq",
                    "sequence": [{"fault": {"truncate_after": 2}}, {"reply": {"content": "b"}}],
                }
            ]
        }
    )
    decision = eng.decide(exchange("x"))
    assert decision.fault_source == "rule"
    assert decision.reply is not None and reply_of(eng.rules[0]) is decision.reply


def test_summary_records_the_source() -> None:
    assert summarize(FAULT, "chaos[0]") == {"status": 503, "source": "chaos[0]"}
    assert summarize(FAULT) == {"status": 503}
