from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mockserver.core.exchange import (
    Exchange,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
    ToolChoice,
)
from mockserver.engine.content.templates import Template
from mockserver.scenario.matching import Matcher, NearMiss, near_misses
from mockserver.scenario.outcomes import ReplySpec
from mockserver.scenario.predicates import Match
from mockserver.scenario.render_context import template_context


def exchange(*messages: Message, **fields: Any) -> Exchange:
    fields.setdefault("model", "gpt-4o")
    return Exchange(
        dialect="openai",
        endpoint="/v1/chat/completions",
        messages=list(messages) or [user("hello there")],
        body={},
        **fields,
    )


def user(text: str) -> Message:
    return Message(role="user", text=text)


def system(text: str) -> Message:
    return Message(role="system", text=text)


def assistant(text: str = "", *calls: ToolCall) -> Message:
    return Message(role="assistant", text=text, tool_calls=list(calls))


def tool_result(text: str, call_id: str = "call_1", name: str | None = "get_weather") -> Message:
    return Message(role="tool", text=text, tool_call_id=call_id, tool_name=name)


def matcher(**spec: Any) -> Matcher:
    return Matcher(Match.model_validate(spec))


WEATHER_CHAT = exchange(
    system("You are a weather bot."),
    user("What is the weather in Paris?"),
    assistant("", ToolCall("call_1", "get_weather", '{"city": "Paris"}')),
    tool_result("21C, sunny"),
    model="gpt-4o-mini",
    stream=True,
    tools=[Tool("get_weather"), Tool("search")],
    tool_choice=ToolChoice("function", "get_weather"),
    response_format=ResponseFormat("json_schema"),
    headers={"x-test-case": "weather-42", "authorization": "Bearer sk-test"},
)

# (match spec, holds for WEATHER_CHAT?)
CASES: list[tuple[dict[str, Any], bool]] = [
    ({}, True),
    ({"model": "gpt-4o-mini"}, True),
    ({"model": "gpt-4o"}, False),
    ({"model": "gpt-4o*"}, True),
    ({"model": ["claude-*", "gpt-4o-mini"]}, True),
    ({"model": ["claude-*", "gemini-*"]}, False),
    ({"last_user": "weather in"}, True),
    ({"last_user": "WEATHER"}, False),
    ({"last_user": {"contains": "WEATHER", "ignore_case": True}}, True),
    ({"last_user": {"equals": "What is the weather in Paris?"}}, True),
    ({"last_user": {"equals": "What is the weather"}}, False),
    ({"last_user": {"regex": "^What"}}, True),
    ({"last_user": {"regex": "^weather"}}, False),
    ({"any_message": "sunny"}, True),
    ({"any_message": "rainy"}, False),
    ({"system": "weather bot"}, True),
    ({"system": {"equals": "You are a weather bot"}}, False),
    ({"tools": ["get_weather"]}, True),
    ({"tools": ["get_weather", "search"]}, True),
    ({"tools": ["get_weather", "calendar"]}, False),
    ({"tools": ["web_search"]}, False),
    ({"tool_choice": {"name": "get_weather"}}, True),
    ({"tool_choice": {"name": "search"}}, False),
    ({"tool_choice": "auto"}, False),
    ({"tool_result": {}}, True),
    ({"tool_result": {"name": "get_weather"}}, True),
    ({"tool_result": {"name": "search"}}, False),
    ({"tool_result": {"call_id": "call_1", "contains": "sunny"}}, True),
    ({"tool_result": {"call_id": "call_2"}}, False),
    ({"tool_result": {"contains": "rain"}}, False),
    ({"turn": 1}, True),
    ({"turn": 0}, False),
    ({"turn": {"min": 1}}, True),
    ({"turn": {"min": 2}}, False),
    ({"turn": {"max": 0}}, False),
    ({"turn": {"min": 0, "max": 3}}, True),
    ({"stream": True}, True),
    ({"stream": False}, False),
    ({"headers": {"X-Test-Case": "weather-*"}}, True),
    ({"headers": {"x-test-case": "weather"}}, False),
    ({"headers": {"x-missing": "*"}}, False),
    ({"response_format": "json_schema"}, True),
    ({"response_format": "text"}, False),
    ({"model": "gpt-4o-mini", "stream": True, "tools": ["search"], "turn": 1}, True),
    ({"model": "gpt-4o-mini", "stream": False}, False),
]


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_each_predicate(spec: dict[str, Any], expected: bool) -> None:
    compiled = matcher(**spec)
    assert (compiled.match(WEATHER_CHAT) is not None) is expected
    # explain agrees with match: lines exactly when the match fails
    assert (compiled.explain(WEATHER_CHAT) == []) is expected


def test_tool_result_needs_the_last_message_to_be_one() -> None:
    answered = exchange(user("hi"), assistant("x"), tool_result("ok"), user("thanks"))
    assert matcher(tool_result={}).match(answered) is None
    assert matcher(tool_result={}).explain(answered) == [
        "tool_result: expected the last message to be a tool result, got a user message"
    ]


def test_tool_choice_words() -> None:
    required = exchange(tool_choice=ToolChoice("required"))
    assert matcher(tool_choice="required").match(required) == {}
    assert matcher(tool_choice="none").match(exchange()) is None
    assert matcher(tool_choice="auto").match(exchange()) == {}


def test_regex_named_groups_become_variables() -> None:
    compiled = matcher(
        last_user={"regex": r"weather in (?P<city>\w+)(?P<extra>!)?"},
        system={"regex": r"(?P<role>\w+) bot"},
    )
    assert compiled.match(WEATHER_CHAT) == {"city": "Paris", "extra": "", "role": "weather"}


def test_any_message_groups_come_from_the_first_matching_message() -> None:
    compiled = matcher(any_message={"regex": r"(?P<temp>\d+)C"})
    assert compiled.match(WEATHER_CHAT) == {"temp": "21"}


def test_regex_ignore_case() -> None:
    assert matcher(last_user={"regex": "paris", "ignore_case": True}).match(WEATHER_CHAT) == {}
    assert matcher(last_user={"regex": "paris"}).match(WEATHER_CHAT) is None


def test_glob_is_anchored_and_case_sensitive() -> None:
    assert matcher(model="4o*").match(WEATHER_CHAT) is None
    assert matcher(model="GPT-4o*").match(WEATHER_CHAT) is None
    assert matcher(model="gpt-?o-mini").match(WEATHER_CHAT) == {}


def test_no_system_prompt_reads_as_empty() -> None:
    assert matcher(system="bot").explain(exchange()) == [
        "system: expected to contain 'bot', got ''"
    ]


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        ({"last_user": "weather"}, "last_user: expected to contain 'weather', got 'hello there'"),
        (
            {"last_user": {"equals": "Hi", "ignore_case": True}},
            "last_user: expected to equal 'Hi' (ignoring case), got 'hello there'",
        ),
        (
            {"last_user": {"regex": "^bye"}},
            "last_user: expected to match /^bye/, got 'hello there'",
        ),
        ({"model": ["gpt-5*", "o3"]}, "model: expected 'gpt-5*' or 'o3', got 'gpt-4o'"),
        (
            {"any_message": "weather"},
            "any_message: expected a message to contain 'weather', got none of 1 message",
        ),
        (
            {"tools": ["get_weather", "search"]},
            "tools: expected get_weather, search offered; missing get_weather, search "
            "(offered: none)",
        ),
        ({"tool_choice": {"name": "f"}}, "tool_choice: expected {name: f}, got 'auto'"),
        ({"turn": 2}, "turn: expected 2 assistant messages so far, got 0"),
        (
            {"turn": {"min": 1, "max": 3}},
            "turn: expected between 1 and 3 assistant messages so far, got 0",
        ),
        ({"turn": {"min": 1}}, "turn: expected at least 1 assistant messages so far, got 0"),
        ({"stream": True}, "stream: expected true, got false"),
        (
            {"headers": {"X-Case": "a*"}},
            "headers: expected header x-case matching 'a*', got none",
        ),
        ({"response_format": "json_object"}, "response_format: expected 'json_object', got 'text'"),
    ],
)
def test_explain_lines(spec: dict[str, Any], line: str) -> None:
    assert matcher(**spec).explain(exchange()) == [line]


def test_explain_names_the_wrong_tool_result_fields() -> None:
    compiled = matcher(tool_result={"name": "search", "call_id": "call_9"})
    assert compiled.explain(WEATHER_CHAT) == [
        "tool_result: expected name 'search', got 'get_weather'; "
        "expected call_id 'call_9', got 'call_1'"
    ]


def test_explain_header_value() -> None:
    compiled = matcher(headers={"x-test-case": "rain-*"})
    assert compiled.explain(WEATHER_CHAT) == [
        "headers: expected x-test-case to match 'rain-*', got 'weather-42'"
    ]


def test_explain_truncates_long_text() -> None:
    [line] = matcher(last_user="needle").explain(exchange(user("x" * 500)))
    assert line == f"last_user: expected to contain 'needle', got '{'x' * 59}…'"


def test_explain_lists_every_failing_predicate_in_key_order() -> None:
    compiled = matcher(stream=True, model="o3", last_user="weather", turn=0)
    assert [line.split(":")[0] for line in compiled.explain(exchange())] == [
        "model",
        "last_user",
        "stream",
    ]


@dataclass
class FakeRule:
    name: str
    matcher: Matcher


def test_near_misses_ranked_by_fewest_failures() -> None:
    rules = [
        FakeRule("three-off", matcher(model="o3", stream=True, last_user="bye")),
        FakeRule("one-off-first", matcher(last_user="weather")),
        FakeRule("matches", matcher(model="gpt-4o")),
        FakeRule("two-off", matcher(model="o3", stream=True)),
        FakeRule("one-off-second", matcher(stream=True)),
    ]
    misses = near_misses(rules, exchange())
    assert [m.rule_name for m in misses] == ["one-off-first", "one-off-second", "two-off"]
    assert misses[0] == NearMiss(
        "one-off-first", ["last_user: expected to contain 'weather', got 'hello there'"]
    )
    assert [m.rule_name for m in near_misses(rules, exchange(), limit=1)] == ["one-off-first"]
    assert str(misses[1]) == "rule 'one-off-second': stream: expected true, got false"


def test_near_misses_of_nothing() -> None:
    assert near_misses([], exchange()) == []


def test_matched_variables_render_a_reply() -> None:
    compiled = matcher(last_user={"regex": r"weather in (?P<city>\w+)"})
    reply = ReplySpec.model_validate(
        {
            "content": "It is sunny in {{ match.city }} ({{ request.model }}).",
            "tool_calls": [{"name": "get_weather", "arguments": {"city": "{{ match.city }}"}}],
        }
    )
    variables = compiled.match(WEATHER_CHAT)
    assert variables is not None
    context = template_context(WEATHER_CHAT, variables)
    assert isinstance(reply.content, Template)
    assert reply.content.render(context) == "It is sunny in Paris (gpt-4o-mini)."
    assert reply.tool_calls[0].arguments.render(context) == {"city": "Paris"}


def test_tools_sees_hosted_tools_by_neutral_name() -> None:
    searching = exchange(tools=[Tool("get_weather")], server_tools=["web_search"])

    assert matcher(tools=["web_search", "get_weather"]).match(searching) == {}
    assert "offered: get_weather, web_search" in matcher(tools=["calendar"]).explain(searching)[0]
