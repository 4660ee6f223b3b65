"""The chat-completions fields gateway clients read: `reasoning_content` for thinking models
that aren't OpenAI's (message and stream deltas), and the legacy `functions` shape answered as
`message.function_call` — through the official OpenAI SDK."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings
from tests.integration.every_dialect import user

SCENARIO = """\
version: 1
rules:
  - name: route
    match: {last_user: {contains: "route"}}
    reply:
      reasoning: "The coastal road avoids the roadworks."
      content: "Take the coastal road."
  - name: weather-call
    match: {last_user: {regex: "weather in (?P<city>[A-Z][a-z]+)"}, tools: [get_weather], turn: 0}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: "{{ match.city }}"}}
  - name: weather-answer
    match: {tool_result: {name: get_weather}}
    reply: {content: "It is 18 degrees."}
"""
FUNCTION: Any = {
    "name": "get_weather",
    "description": "Current weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    path = tmp_path_factory.mktemp("gateway") / "scenario.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    settings = Settings(scenario_paths=[str(path)], port=0)
    with ServerThread(create_app(settings)) as server:
        made = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
        yield made
        made.close()


def reasoning_of(message: Any) -> str | None:
    extra = message.model_extra or {}
    return extra.get("reasoning_content")


@pytest.mark.parametrize(
    "model",
    ["deepseek-reasoner", "deepseek-r1", "qwen3-32b", "claude-sonnet-4-5-thinking"],
)
def test_thinking_models_show_reasoning_content(client: openai.OpenAI, model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=user("hi"))
    message = completion.choices[0].message
    assert reasoning_of(message)
    assert message.content
    assert completion.usage is not None and completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens > 0


def test_a_scripted_reasoning_appears_in_reasoning_content(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="deepseek-reasoner", messages=user("Which route?")
    )
    message = completion.choices[0].message
    assert reasoning_of(message) == "The coastal road avoids the roadworks."
    assert message.content == "Take the coastal road."
    # Claude and Gemini through the gateway think when asked.
    for model in ("claude-sonnet-4-5", "gemini-2.5-pro"):
        asked = client.chat.completions.create(
            model=model, messages=user("Which route?"), reasoning_effort="high"
        )
        assert reasoning_of(asked.choices[0].message) == "The coastal road avoids the roadworks."


def test_reasoning_content_streams_before_the_answer(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="deepseek-reasoner",
        messages=user("Which route?"),
        stream=True,
        stream_options={"include_usage": True},
    )
    reasoning, content, order = "", "", []
    for chunk in stream:
        for choice in chunk.choices:
            piece = (choice.delta.model_extra or {}).get("reasoning_content")
            if piece:
                reasoning += piece
                order.append("reasoning")
            if choice.delta.content:
                content += choice.delta.content
                order.append("content")
    assert reasoning == "The coastal road avoids the roadworks."
    assert content == "Take the coastal road."
    assert order.index("content") > order.index("reasoning")
    assert order[-1] == "content" and "reasoning" not in order[order.index("content") :]


def test_thinking_can_be_switched_off_the_gateways_way(client: openai.OpenAI) -> None:
    for extra in ({"enable_thinking": False}, {"thinking": {"type": "disabled"}}):
        completion = client.chat.completions.create(
            model="qwen3-32b", messages=user("hi"), extra_body=extra
        )
        assert reasoning_of(completion.choices[0].message) is None
    enabled = client.chat.completions.create(
        model="qwen-plus", messages=user("hi"), extra_body={"enable_thinking": True}
    )
    assert reasoning_of(enabled.choices[0].message)


def test_openai_models_keep_their_reasoning_hidden(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="o3", messages=user("Which route?"), max_completion_tokens=2000
    )
    assert reasoning_of(completion.choices[0].message) is None
    assert completion.choices[0].message.content == "Take the coastal road."


def test_legacy_functions_get_a_function_call(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=user("What's the weather in Paris?"),
        functions=[FUNCTION],
        function_call="auto",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.tool_calls is None
    assert choice.message.function_call is not None
    assert choice.message.function_call.name == "get_weather"
    assert choice.message.function_call.arguments == '{"city": "Paris"}'
    # The result goes back as a `function` message; the scenario's tool_result rule answers.
    answer = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            *user("What's the weather in Paris?"),
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"role": "function", "name": "get_weather", "content": "18C"},
        ],
        functions=[FUNCTION],
    )
    assert answer.choices[0].message.content == "It is 18 degrees."
    assert answer.choices[0].finish_reason == "stop"


def test_legacy_functions_stream_and_a_forced_call(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=user("anything"),
        functions=[FUNCTION],
        function_call={"name": "get_weather"},
        stream=True,
    )
    name, arguments, finish = "", "", None
    for chunk in stream:
        delta = chunk.choices[0].delta
        assert delta.tool_calls is None
        if delta.function_call is not None:
            name += delta.function_call.name or ""
            arguments += delta.function_call.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert name == "get_weather"
    assert isinstance(__import__("json").loads(arguments), dict)
    assert finish == "function_call"
