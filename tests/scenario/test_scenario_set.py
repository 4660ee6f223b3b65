from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.core.exchange import Exchange, Message
from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_data, load_text
from mockserver.scenario.outcomes import FaultSpec, ReplySpec
from mockserver.scenario.scenario_set import ScenarioSet

GOOD = (Path(__file__).parent / "good.yaml").read_text()


def ask(text: str, **fields: object) -> Exchange:
    return Exchange(
        dialect="openai",
        endpoint="/v1/chat/completions",
        model="gpt-4o",
        messages=[Message(role="user", text=text)],
        body={},
        **fields,  # type: ignore[arg-type]
    )


def test_compiled_rule_reads_its_outcome() -> None:
    loaded = ScenarioSet.build([load_text(GOOD, "good.yaml")])
    tool_call, flaky = loaded.rules
    assert tool_call.kind == "reply"
    assert isinstance(tool_call.reply, ReplySpec)
    assert tool_call.sequence is None and tool_call.fault is None and tool_call.fail_times is None
    assert flaky.kind == "sequence"
    assert flaky.sequence is not None and len(flaky.sequence) == 3
    assert isinstance(flaky.step(1), FaultSpec)
    assert isinstance(flaky.step(9), ReplySpec)


def test_first_match_and_near_misses() -> None:
    loaded = ScenarioSet.build([load_text(GOOD, "good.yaml")])
    found = loaded.first_match(ask("this is flaky"))
    assert found is not None
    assert (found[0].name, found[1]) == ("flaky", {})
    assert loaded.first_match(ask("weather in Rome")) is None  # no get_weather tool offered
    [miss, other] = loaded.near_misses(ask("weather in Rome"))
    assert miss.rule_name == "weather-tool-call"
    assert miss.failed == [
        "tools: expected get_weather offered; missing get_weather (offered: none)"
    ]
    assert other.rule_name == "flaky"


def test_build_rejects_duplicates_from_data() -> None:
    first = load_data({"version": 1, "rules": [{"name": "r", "reply": {}}]}, "test_a")
    second = load_data({"version": 1, "rules": [{"name": "r", "reply": {}}]}, "test_b")
    with pytest.raises(ScenarioError) as caught:
        ScenarioSet.build([first, second])
    assert str(caught.value) == (
        "test_b: duplicate rule name 'r': first defined at test_a; "
        "rule names must be unique across all loaded files"
    )
