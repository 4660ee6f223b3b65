"""The Responses API of the `openai` SDK against a real server running the every-dialect scenario.

Every body and every stream event fetched here is validated against the official OpenAPI spec
(`Response`, `ResponseStreamEvent`, `TokenCountsResource`); the SDK is used for what a client
does with them (`responses.stream()`, `responses.parse()`, stored responses).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from mockserver.http.server_thread import ServerThread
from tests.integration.every_dialect import (
    CHAT_MODEL,
    FORECAST,
    FORECAST_QUESTION,
    OPENAI_HEADERS,
    OPENAI_KEY,
    RESPONSES_TOOL,
    THINK_ANSWER,
    THINK_QUESTION,
    THINKING,
    TOOL_OUTPUT,
    WEATHER_ANSWER,
    WEATHER_ARGUMENTS,
    WEATHER_QUESTION,
    post,
    post_json,
    serve,
    sse_events,
)
from tests.openapi_spec import validate

REASONING_MODEL = "o4-mini"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    # A strict catalog: the tests of each vendor's unknown-model error need one.
    with serve(catalog="strict") as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ServerThread) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.url + "/v1", api_key=OPENAI_KEY, max_retries=0) as made:
        yield made


def create(server: ServerThread, body: dict[str, Any]) -> Any:
    """POST /v1/responses; the body, validated against the spec."""
    response = post_json(server.url + "/v1/responses", OPENAI_HEADERS, body)
    validate("Response", response)
    return response


def stream(server: ServerThread, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /v1/responses with stream: true; every event, validated against the spec."""
    events = sse_events(post(server.url + "/v1/responses", OPENAI_HEADERS, body | {"stream": True}))
    for number, event in enumerate(events):
        assert event.data != "[DONE]", "the Responses stream has no [DONE] terminator"
        assert event.name == event.data["type"]
        assert event.data["sequence_number"] == number
        validate("ResponseStreamEvent", event.data)
    return [event.data for event in events]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    """Event types with runs of the same delta collapsed into one."""
    collapsed: list[str] = []
    for event in events:
        kind = event["type"].removeprefix("response.")
        if not (collapsed and kind.endswith(".delta") and collapsed[-1] == kind):
            collapsed.append(kind)
    return collapsed


def test_text_reply_body_and_stream_follow_the_spec(server: ServerThread) -> None:
    body = create(server, {"model": CHAT_MODEL, "input": FORECAST_QUESTION})
    assert body["status"] == "completed"
    [message] = body["output"]
    assert message["content"][0]["text"] == FORECAST
    assert body["usage"]["total_tokens"] == (
        body["usage"]["input_tokens"] + body["usage"]["output_tokens"]
    )

    events = stream(server, {"model": CHAT_MODEL, "input": FORECAST_QUESTION})
    assert kinds(events) == [
        "created",
        "in_progress",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == FORECAST
    completed = events[-1]["response"]
    validate("Response", completed)
    assert completed["usage"]["output_tokens"] == len(deltas)  # one delta per token
    assert completed["usage"] == body["usage"]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["id"] == completed["id"]


def test_function_call_stream_follows_the_spec_and_the_sdk_accumulates_it(
    server: ServerThread, client: openai.OpenAI
) -> None:
    request = {"model": CHAT_MODEL, "input": WEATHER_QUESTION, "tools": [RESPONSES_TOOL]}
    body = create(server, request)
    [call] = body["output"]
    assert call["type"] == "function_call" and call["call_id"].startswith("call_")
    assert json.loads(call["arguments"]) == WEATHER_ARGUMENTS

    events = stream(server, request)
    assert kinds(events) == [
        "created",
        "in_progress",
        "output_item.added",
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
        "completed",
    ]
    added = events[2]["item"]
    assert (added["status"], added["arguments"]) == ("in_progress", "")
    pieces = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert len(pieces) > 1
    done = events[-3]
    assert "".join(pieces) == done["arguments"]
    assert json.loads(done["arguments"]) == WEATHER_ARGUMENTS

    with client.responses.stream(
        model=CHAT_MODEL, input=WEATHER_QUESTION, tools=[RESPONSES_TOOL]
    ) as sdk_stream:
        finished = [e for e in sdk_stream if e.type == "response.function_call_arguments.done"]
        final = sdk_stream.get_final_response()
    assert [json.loads(e.arguments) for e in finished] == [WEATHER_ARGUMENTS]
    [item] = final.output
    assert item.type == "function_call" and item.name == "get_weather"
    # The second turn, streamed this time, continues the stored response.
    with client.responses.stream(
        model=CHAT_MODEL,
        previous_response_id=final.id,
        input=[{"type": "function_call_output", "call_id": item.call_id, "output": TOOL_OUTPUT}],
    ) as follow_up:
        assert follow_up.get_final_response().output_text == WEATHER_ANSWER


def test_reasoning_summary_in_body_and_stream(server: ServerThread) -> None:
    request = {
        "model": REASONING_MODEL,
        "input": THINK_QUESTION,
        "reasoning": {"effort": "low", "summary": "auto"},
    }
    body = create(server, request)
    reasoning, message = body["output"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["summary"] == [{"type": "summary_text", "text": THINKING}]
    assert message["content"][0]["text"] == THINK_ANSWER
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] > 0

    events = stream(server, request)
    assert kinds(events)[2:8] == [
        "output_item.added",
        "reasoning_summary_part.added",
        "reasoning_summary_text.delta",
        "reasoning_summary_text.done",
        "reasoning_summary_part.done",
        "output_item.done",
    ]
    summary = [e["delta"] for e in events if e["type"] == "response.reasoning_summary_text.delta"]
    assert "".join(summary) == THINKING
    # Without a summary request, the reasoning stays hidden: an item with an empty summary.
    hidden = create(server, {"model": REASONING_MODEL, "input": THINK_QUESTION})
    assert hidden["output"][0] == {
        "id": hidden["output"][0]["id"],
        "type": "reasoning",
        "summary": [],
    }


class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]


def test_parse_returns_the_scripted_json_as_a_pydantic_model(
    server: ServerThread, client: openai.OpenAI
) -> None:
    question = "Alice and Bob go to the science fair on Friday"
    parsed = client.responses.parse(model=CHAT_MODEL, input=question, text_format=CalendarEvent)
    assert parsed.output_parsed == CalendarEvent(
        name="Science Fair", date="Friday", participants=["Alice", "Bob"]
    )
    schema = CalendarEvent.model_json_schema() | {"additionalProperties": False}
    body = create(
        server,
        {
            "model": CHAT_MODEL,
            "input": question,
            "text": {"format": {"type": "json_schema", "name": "event", "schema": schema}},
        },
    )
    assert body["text"]["format"]["type"] == "json_schema"
    assert json.loads(body["output"][0]["content"][0]["text"])["participants"] == ["Alice", "Bob"]


def test_input_tokens_endpoint_equals_the_usage_of_the_same_request(
    server: ServerThread, client: openai.OpenAI
) -> None:
    request: dict[str, Any] = {
        "model": CHAT_MODEL,
        "instructions": "Answer in one sentence.",
        "input": WEATHER_QUESTION,
        "tools": [RESPONSES_TOOL],
    }
    counted = post_json(server.url + "/v1/responses/input_tokens", OPENAI_HEADERS, request)
    validate("TokenCountsResource", counted)
    assert counted["object"] == "response.input_tokens"
    sdk_count = client.responses.input_tokens.count(**request)
    usage = create(server, request)["usage"]
    streamed = stream(server, request)[-1]["response"]["usage"]
    assert counted["input_tokens"] == sdk_count.input_tokens == usage["input_tokens"]
    assert streamed["input_tokens"] == usage["input_tokens"]
    # The tool declaration and the instructions are counted.
    bare = client.responses.input_tokens.count(model=CHAT_MODEL, input=WEATHER_QUESTION)
    assert bare.input_tokens < sdk_count.input_tokens


def test_stored_responses_are_retrieved_continued_and_deleted(client: openai.OpenAI) -> None:
    first = client.responses.create(model=CHAT_MODEL, input=FORECAST_QUESTION)
    again = client.responses.retrieve(first.id)
    assert again.model_dump() == first.model_dump()
    follow_up = client.responses.create(
        model=CHAT_MODEL, previous_response_id=first.id, input="And the forecast after that?"
    )
    assert follow_up.output_text == FORECAST
    # The stored conversation is counted: the follow-up's input includes the first exchange.
    assert follow_up.usage is not None and first.usage is not None
    assert follow_up.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens

    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model=CHAT_MODEL, previous_response_id=first.id, input="hi")
    assert error.value.code == "previous_response_not_found"
    unstored = client.responses.create(model=CHAT_MODEL, input=FORECAST_QUESTION, store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_errors_follow_the_spec(server: ServerThread) -> None:
    unknown = post(server.url + "/v1/responses", OPENAI_HEADERS, {"model": "gpt-x", "input": "hi"})
    assert unknown.status_code == 404
    validate("ErrorResponse", unknown.json())
    assert unknown.json()["error"]["code"] == "model_not_found"
    chat_shaped = post(
        server.url + "/v1/responses",
        OPENAI_HEADERS,
        {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat_shaped.status_code == 400
    validate("ErrorResponse", chat_shaped.json())
    assert chat_shaped.json()["error"]["param"] == "messages"
