"""How to: record a real session once, replay it in CI.

`record_mode="once"` gives the test its own recording, `recordings/test_record_replay/
test_the_agent_replays_its_recorded_session.yaml` next to this file. It was made once with
`pytest tests/examples/test_record_replay.py --mockserver-upstream URL` (here the URL was a
second mockserver; with a real API, your own key is used and never written) and is committed:
every run since replays it, strictly, with no upstream. Re-record with
`--mockserver-record-mode=record`; make CI refuse to record with `--mockserver-record-mode=replay`.
"""

from __future__ import annotations

import json

import openai
import pytest


def plan_trip(city: str) -> str:
    """The code under test: an agent that calls a tool, then answers."""
    client = openai.OpenAI()
    tools: list[dict[str, object]] = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    messages: list[dict[str, object]] = [
        {"role": "user", "content": f"Should I pack an umbrella for {city}?"}
    ]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)  # type: ignore[arg-type]
    call = (first.choices[0].message.tool_calls or [])[0]
    forecast = {"city": json.loads(call.function.arguments)["city"], "rain": "80%"}  # type: ignore[union-attr]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps(forecast)},
    ]
    answer = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)  # type: ignore[arg-type]
    return answer.choices[0].message.content or ""


@pytest.mark.mockserver(record_mode="once")
def test_the_agent_replays_its_recorded_session() -> None:
    assert plan_trip("Paris") == "Yes: 80% chance of rain in Paris."
