"""The README's headline scenario does what the README says: a tool call, then the answer."""

from __future__ import annotations

import re
from pathlib import Path

import openai

from tests.conftest import ROOT, StartServer

WEATHER_TOOL: dict[str, object] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def headline_scenario() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Scenarios", 1)[1]
    found = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_headline_tool_agent_calls_once_then_answers(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(headline_scenario())
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    messages: list[dict[str, object]] = [
        {"role": "user", "content": "What's the weather in Paris?"}
    ]
    first = client.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        tools=[WEATHER_TOOL],  # type: ignore[arg-type]
    )
    [call] = first.choices[0].message.tool_calls or []
    assert call.function.arguments == '{"city": "Paris"}'  # type: ignore[union-attr]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "21C"},
    ]
    second = client.chat.completions.create(
        model="gpt-4o",
        messages=messages,
        tools=[WEATHER_TOOL],  # type: ignore[arg-type]
    )
    assert second.choices[0].message.tool_calls is None  # no loop: the answer comes
    assert second.choices[0].message.content == "It is 21°C and sunny."
    client.close()
