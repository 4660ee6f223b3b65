from __future__ import annotations

from typing import Any

from mockserver.core.exchange import Exchange, Message, Tool, ToolCall
from mockserver.engine.content.templates import CONTEXT_NAMES
from mockserver.scenario.render_context import template_context


def exchange(*messages: Message, **fields: Any) -> Exchange:
    fields.setdefault("model", "gpt-4o")
    return Exchange(
        dialect="openai",
        endpoint="/v1/chat/completions",
        messages=list(messages) or [Message(role="user", text="hello there")],
        body={},
        **fields,
    )


WEATHER_CHAT = exchange(
    Message(role="system", text="You are a weather bot."),
    Message(role="user", text="What is the weather in Paris?"),
    Message(
        role="assistant",
        text="",
        tool_calls=[ToolCall("call_1", "get_weather", '{"city": "Paris"}')],
    ),
    Message(role="tool", text="21C, sunny", tool_call_id="call_1", tool_name="get_weather"),
    model="gpt-4o-mini",
    stream=True,
    tools=[Tool("get_weather"), Tool("search")],
)


def test_template_context() -> None:
    context = template_context(WEATHER_CHAT, {"city": "Paris"})
    assert set(context) == CONTEXT_NAMES
    assert context["match"] == {"city": "Paris"}
    request = context["request"]
    assert request["model"] == "gpt-4o-mini"
    assert request["last_user"] == "What is the weather in Paris?"
    assert request["system"] == "You are a weather bot."
    assert (request["turn"], request["stream"], request["n"], request["max_tokens"]) == (
        1,
        True,
        1,
        None,
    )
    assert request["tools"] == ["get_weather", "search"]
    assert request["messages"][0] == {
        "role": "system",
        "text": "You are a weather bot.",
        "name": None,
    }
    assert context["tool_result"] == {
        "name": "get_weather",
        "call_id": "call_1",
        "content": "21C, sunny",
    }
    assert template_context(exchange(), {})["tool_result"] is None
