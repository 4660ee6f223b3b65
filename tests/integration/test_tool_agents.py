"""A two-turn tool agent in every dialect, from one pair of scenario rules.

`ask-for-weather` answers the first turn with a get_weather call, `answer-from-weather` answers
the tool's result (`tool_result: {name: get_weather, contains: "18"}`). Each SDK runs the loop its
own way: a `tool` message (Chat Completions), a `function_call_output` item with the whole
conversation or with `previous_response_id` (Responses), a `tool_result` block (Anthropic), a
`functionResponse` part, by hand or by the SDK's automatic function calling (Gemini). All must
see the same call and the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.genai import types

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import (
    ANTHROPIC_TOOL,
    CHAT_MODEL,
    CHAT_TOOL,
    CLAUDE_MODEL,
    GEMINI_MODEL,
    RESPONSES_TOOL,
    TOOL_OUTPUT,
    WEATHER_ANSWER,
    WEATHER_ARGUMENTS,
    WEATHER_QUESTION,
    WEATHER_SCHEMA,
    Clients,
    journal,
    sdk_clients,
    serve,
    user,
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def clients(server: ServerThread) -> Iterator[Clients]:
    with sdk_clients(server) as made:
        yield made


def chat_agent(c: Clients) -> tuple[dict[str, Any], str]:
    history: list[Any] = user(WEATHER_QUESTION)
    first = c.openai.chat.completions.create(model=CHAT_MODEL, messages=history, tools=[CHAT_TOOL])
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls" and message.tool_calls
    call = message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    history.append(message.model_dump(exclude_none=True))
    history.append({"role": "tool", "tool_call_id": call.id, "content": TOOL_OUTPUT})
    second = c.openai.chat.completions.create(model=CHAT_MODEL, messages=history, tools=[CHAT_TOOL])
    return json.loads(call.function.arguments), second.choices[0].message.content or ""


def responses_agent(c: Clients) -> tuple[dict[str, Any], str]:
    """The whole conversation sent again, the tool's result as a function_call_output item."""
    first = c.openai.responses.create(
        model=CHAT_MODEL, input=WEATHER_QUESTION, tools=[RESPONSES_TOOL], store=False
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    history: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append(
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": TOOL_OUTPUT}
    )
    second = c.openai.responses.create(
        model=CHAT_MODEL, input=history, tools=[RESPONSES_TOOL], store=False
    )
    return json.loads(calls[0].arguments), second.output_text


def responses_previous_id_agent(c: Clients) -> tuple[dict[str, Any], str]:
    """Only the new item sent: the server continues the stored response."""
    first = c.openai.responses.create(
        model=CHAT_MODEL, input=WEATHER_QUESTION, tools=[RESPONSES_TOOL]
    )
    call = next(item for item in first.output if item.type == "function_call")
    second = c.openai.responses.create(
        model=CHAT_MODEL,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": TOOL_OUTPUT}],
        tools=[RESPONSES_TOOL],
    )
    assert second.previous_response_id == first.id
    return json.loads(call.arguments), second.output_text


def anthropic_agent(c: Clients) -> tuple[dict[str, Any], str]:
    history: list[Any] = user(WEATHER_QUESTION)
    first = c.anthropic.messages.create(
        model=CLAUDE_MODEL, max_tokens=256, messages=history, tools=[ANTHROPIC_TOOL]
    )
    assert first.stop_reason == "tool_use"
    uses = [block for block in first.content if block.type == "tool_use"]
    assert len(uses) == 1 and uses[0].name == "get_weather"
    history.append({"role": "assistant", "content": first.content})
    history.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": TOOL_OUTPUT}],
        }
    )
    second = c.anthropic.messages.create(
        model=CLAUDE_MODEL, max_tokens=256, messages=history, tools=[ANTHROPIC_TOOL]
    )
    assert second.stop_reason == "end_turn"
    text = "".join(block.text for block in second.content if block.type == "text")
    return dict(uses[0].input), text


GEMINI_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Current weather for a city",
            parameters_json_schema=WEATHER_SCHEMA,
        )
    ]
)


def gemini_agent(c: Clients) -> tuple[dict[str, Any], str]:
    config = types.GenerateContentConfig(tools=[GEMINI_TOOL])
    history = [types.Content(role="user", parts=[types.Part(text=WEATHER_QUESTION)])]
    first = c.genai.models.generate_content(model=GEMINI_MODEL, contents=history, config=config)
    calls = first.function_calls or []
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert first.candidates and first.candidates[0].content
    history.append(first.candidates[0].content)
    answer = types.Part.from_function_response(name="get_weather", response={"result": TOOL_OUTPUT})
    assert answer.function_response is not None
    answer.function_response.id = calls[0].id
    history.append(types.Content(role="user", parts=[answer]))
    second = c.genai.models.generate_content(model=GEMINI_MODEL, contents=history, config=config)
    return dict(calls[0].args or {}), second.text or ""


def gemini_automatic_agent(c: Clients) -> tuple[dict[str, Any], str]:
    """The SDK runs the loop itself (automatic function calling with a Python function)."""
    received: list[dict[str, Any]] = []

    def get_weather(city: str, unit: str = "celsius") -> str:
        """Current weather for a city."""
        received.append({"city": city, "unit": unit})
        return TOOL_OUTPUT

    config = types.GenerateContentConfig(tools=[get_weather])
    response = c.genai.models.generate_content(
        model=GEMINI_MODEL, contents=WEATHER_QUESTION, config=config
    )
    assert len(received) == 1
    history = response.automatic_function_calling_history or []
    assert [content.role for content in history] == ["user", "model", "user"]
    return received[0], response.text or ""


AGENTS: dict[str, Callable[[Clients], tuple[dict[str, Any], str]]] = {
    f.__name__: f
    for f in (
        chat_agent,
        responses_agent,
        responses_previous_id_agent,
        anthropic_agent,
        gemini_agent,
        gemini_automatic_agent,
    )
}


@pytest.mark.parametrize("agent", AGENTS.values(), ids=AGENTS.keys())
def test_two_turn_tool_agent_in_every_dialect(
    server: ServerThread,
    clients: Clients,
    agent: Callable[[Clients], tuple[dict[str, Any], str]],
) -> None:
    arguments, answer = agent(clients)
    assert arguments == WEATHER_ARGUMENTS
    assert answer == WEATHER_ANSWER
    turns = journal(server)[-2:]
    assert [entry.rule for entry in turns] == ["ask-for-weather", "answer-from-weather"]


def test_a_tool_result_that_fails_the_predicate_gets_no_scripted_answer(clients: Clients) -> None:
    """`tool_result: {contains: "18"}` is a real test: another result falls to the default."""
    history: list[Any] = [
        *user(WEATHER_QUESTION),
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "unknown"},
    ]
    completion = clients.openai.chat.completions.create(
        model=CHAT_MODEL, messages=history, tools=[CHAT_TOOL]
    )
    assert completion.choices[0].message.content not in (None, "", WEATHER_ANSWER)
