"""How to: load a scenario file for one test with the marker.

Paths are relative to the test file's folder, else to the rootdir. With `strict=True` a request
no rule matches gets a 400 naming the nearest rules, and the test fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.testing.handle import MockServer

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.mark.mockserver("scenarios/tool_agent.yaml", strict=True)
def test_the_agent_calls_the_tool_then_answers(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    messages: Any = [{"role": "user", "content": "What is the weather in Paris?"}]

    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18°C, cloudy"},
    ]
    second = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])

    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert second.choices[0].message.content == "The weather in Paris: 18°C, cloudy"
