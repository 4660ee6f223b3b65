"""What the live APIs accept today, through the official SDKs (raw HTTP where an SDK can't send
it): newer and beta parameters pass, unknown ones pass and are journaled (or get each vendor's
own error under `validation: strict`), and the documented rejections come with the API's words.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.journal.journal import Entry
from mockserver.settings import Settings
from tests.integration.every_dialect import (
    ANTHROPIC_HEADERS,
    CHAT_TOOL,
    GEMINI_HEADERS,
    OPENAI_HEADERS,
    RESPONSES_TOOL,
    Clients,
    journal,
    sdk_clients,
    user,
)

SCENARIO = """\
version: 1
rules:
  - name: shell-call
    match: {last_user: {contains: "out.txt"}, tools: [exec_command], turn: 0}
    reply:
      tool_calls:
        - {name: exec_command, arguments: {cmd: "echo hi > out.txt"}}
  - name: code-mode-call
    match: {last_user: {contains: "code mode"}, tools: [exec], turn: 0}
    reply:
      tool_calls:
        - {name: exec, input: "await tools.exec_command({cmd: 'echo hi'});"}
  - name: shell-answer
    match: {tool_result: {name: exec_command}}
    reply: {content: "Wrote out.txt."}
  - name: code-mode-answer
    match: {tool_result: {name: exec}}
    reply: {content: "Wrote out.txt."}
"""
STRICT = "version: 1\nvalidation: strict\n"
EXEC_COMMAND: dict[str, Any] = {
    "type": "function",
    "name": "exec_command",
    "description": "Run a shell command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
    "strict": False,
}
BETA = {"anthropic-beta": "mid-conversation-system-2026-04-07,context-management-2025-06-27"}


def serve(folder: Path, text: str) -> ServerThread:
    path = folder / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return ServerThread(create_app(Settings(scenario_paths=[str(path)], port=0))).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = serve(tmp_path_factory.mktemp("lenient"), SCENARIO)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    running = serve(tmp_path_factory.mktemp("strict"), STRICT)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def clients(server: ServerThread) -> Iterator[Clients]:
    with sdk_clients(server) as made:
        yield made


@pytest.fixture(scope="module")
def strict_clients(strict_server: ServerThread) -> Iterator[Clients]:
    with sdk_clients(strict_server) as made:
        yield made


def last(server: ServerThread) -> Entry:
    return journal(server)[-1]


# --- Chat Completions ------------------------------------------------------------------------


def test_chat_takes_the_current_sdk_parameters(clients: Clients) -> None:
    completion = clients.openai.chat.completions.create(
        model="gpt-5.1",
        messages=[{"role": "developer", "content": "be brief"}, *user("weather?")],
        tools=[CHAT_TOOL, {"type": "custom", "custom": {"name": "grep", "description": "search"}}],
        tool_choice={
            "type": "allowed_tools",
            "allowed_tools": {
                "mode": "required",
                "tools": [{"type": "function", "function": {"name": "get_weather"}}],
            },
        },
        verbosity="low",
        reasoning_effort="minimal",
        prompt_cache_key="thread-1",
        prompt_cache_retention="24h",
        safety_identifier="user-1",
        service_tier="flex",
        store=True,
        metadata={"k": "v"},
        modalities=["text"],
        prediction={"type": "content", "content": "x"},
        parallel_tool_calls=False,
        max_completion_tokens=500,
    )
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]


def test_chat_unknown_fields_parts_and_tools_pass_and_are_journaled(
    clients: Clients, server: ServerThread
) -> None:
    completion = clients.openai.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "input_video", "video_url": "https://example.invalid/v.mp4"},
                ],
                "cache_control": {"type": "ephemeral"},
            }
        ],
        tools=[CHAT_TOOL, {"type": "web_search_2099"}],  # type: ignore[list-item]
        extra_body={"future_knob": {"on": True}},
    )
    assert completion.choices[0].message.content
    assert last(server).notes == [
        "unknown field 'future_knob'",
        "unknown field 'messages[0].cache_control'",
        "unknown content part type 'input_video' at messages[0].content[1]",
        "unknown tool type 'web_search_2099' at tools[1]",
    ]


def test_chat_strict_validation_refuses_with_openais_words(strict_clients: Clients) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        strict_clients.openai.chat.completions.create(
            model="gpt-4o", messages=user("hi"), extra_body={"future_knob": 1}
        )
    assert error.value.body["message"] == (  # type: ignore[index]
        "Unrecognized request argument supplied: future_knob"
    )
    with pytest.raises(openai.BadRequestError) as part:
        strict_clients.openai.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": [{"type": "input_video"}]}],  # type: ignore[list-item]
        )
    assert part.value.code == "invalid_value"
    assert part.value.param == "messages[0].content[0].type"


@pytest.mark.parametrize(
    ("model", "params", "message", "param", "code"),
    [
        (
            "gpt-5",
            {"max_tokens": 100},
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        ),
        (
            "o3-mini",
            {"max_tokens": 100},
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        ),
        (
            "o3",
            {"temperature": 0.2},
            "Unsupported value: 'temperature' does not support 0.2 with this model. Only the "
            "default (1) value is supported.",
            "temperature",
            "unsupported_value",
        ),
        (
            "gpt-5.1",
            {"temperature": 0},
            "Unsupported value: 'temperature' does not support 0 with this model. Only the "
            "default (1) value is supported.",
            "temperature",
            "unsupported_value",
        ),
        (
            "gpt-4o",
            {"reasoning_effort": "low"},
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            "reasoning_effort",
            "unsupported_parameter",
        ),
        (
            "gpt-4.1",
            {"reasoning_effort": "high"},
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            "reasoning_effort",
            "unsupported_parameter",
        ),
    ],
)
def test_chat_documented_rejections(
    clients: Clients,
    model: str,
    params: dict[str, Any],
    message: str,
    param: str | None,
    code: str | None,
) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        clients.openai.chat.completions.create(model=model, messages=user("hi"), **params)
    body: Any = error.value.body
    assert (body["message"], error.value.param, error.value.code) == (message, param, code)


def test_what_the_rejections_leave_alone(clients: Clients) -> None:
    # temperature 1 on a reasoning model, max_tokens on others, Claude through the gateway.
    clients.openai.chat.completions.create(model="o3", messages=user("hi"), temperature=1)
    clients.openai.chat.completions.create(model="gpt-4o", messages=user("hi"), max_tokens=5)
    clients.openai.chat.completions.create(
        model="claude-sonnet-4-5", messages=user("hi"), max_tokens=5, temperature=0.3
    )


# --- Responses -------------------------------------------------------------------------------


def test_responses_tools_offered_in_an_additional_tools_item(clients: Clients) -> None:
    response = clients.openai.responses.create(
        model="gpt-6.2-sol",
        input=[
            {  # type: ignore[list-item]
                "type": "additional_tools",
                "id": "at_1",
                "role": "developer",
                "tools": [{"type": "namespace", "name": "functions", "tools": [EXEC_COMMAND]}],
            },
            {"type": "message", "role": "user", "content": "Create out.txt please"},
        ],
        reasoning={"effort": "low", "summary": "auto"},
        text={"verbosity": "low"},
        include=["reasoning.encrypted_content"],
        prompt_cache_key="thread-1",
        store=False,
        parallel_tool_calls=False,
        context_management=[{"type": "compaction", "compact_threshold": 1000}],
        extra_body={"client_metadata": {"x-codex-installation-id": "abc"}},
    )
    [call] = [item for item in response.output if item.type == "function_call"]
    assert call.name == "exec_command"


def test_responses_custom_tool_call_and_its_output(clients: Clients, server: ServerThread) -> None:
    exec_tool: Any = {
        "type": "custom",
        "name": "exec",
        "description": "Run JavaScript",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
    }
    with clients.openai.responses.stream(
        model="gpt-6.2-sol", input="Do it in code mode", tools=[exec_tool]
    ) as stream:
        events = [event.type for event in stream]
        response = stream.get_final_response()
    [call] = [item for item in response.output if item.type == "custom_tool_call"]
    assert call.name == "exec"
    assert call.input == "await tools.exec_command({cmd: 'echo hi'});"
    assert "response.custom_tool_call_input.delta" in events
    assert "response.custom_tool_call_input.done" in events
    follow_up = clients.openai.responses.create(
        model="gpt-6.2-sol",
        tools=[exec_tool],
        input=[
            {"role": "user", "content": "Do it in code mode"},
            {
                "type": "custom_tool_call",
                "id": call.id,
                "call_id": call.call_id,
                "name": "exec",
                "input": call.input,
            },
            {
                "type": "custom_tool_call_output",
                "call_id": call.call_id,
                "output": [  # type: ignore[typeddict-item]
                    {"type": "input_text", "text": "Script completed"},
                    {"type": "input_text", "text": "exit 0"},
                ],
            },
        ],
    )
    assert follow_up.output_text == "Wrote out.txt."
    assert last(server).rule == "code-mode-answer"


def test_responses_unknown_items_pass_and_are_journaled(
    clients: Clients, server: ServerThread
) -> None:
    response = clients.openai.responses.create(
        model="gpt-5",
        input=[
            {"type": "future_item", "payload": 1},  # type: ignore[list-item]
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        ],
        extra_body={"future_knob": True},
    )
    assert response.output_text
    assert last(server).notes == [
        "unknown field 'future_knob'",
        "unknown input item type 'future_item' at input[0]",
    ]


def test_responses_strict_validation_refuses_with_openais_words(strict_clients: Clients) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        strict_clients.openai.responses.create(
            model="gpt-5", input="hi", extra_body={"future_knob": True}
        )
    body: Any = error.value.body
    assert (body["message"], error.value.param, error.value.code) == (
        "Unknown parameter: 'future_knob'.",
        "future_knob",
        "unknown_parameter",
    )
    with pytest.raises(openai.BadRequestError) as item:
        strict_clients.openai.responses.create(
            model="gpt-5",
            input=[{"type": "future_item"}],  # type: ignore[list-item]
        )
    assert item.value.param == "input[0].type"


def test_responses_documented_rejections(clients: Clients) -> None:
    with pytest.raises(openai.BadRequestError) as effort:
        clients.openai.responses.create(model="gpt-4.1", input="hi", reasoning={"effort": "low"})
    assert (effort.value.body["message"], effort.value.code) == (  # type: ignore[index]
        "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
        "unsupported_parameter",
    )
    with pytest.raises(openai.BadRequestError) as temperature:
        clients.openai.responses.create(model="o4-mini", input="hi", temperature=0.5)
    assert temperature.value.body["message"] == (  # type: ignore[index]
        "Unsupported parameter: 'temperature' is not supported with this model."
    )


# --- Anthropic -------------------------------------------------------------------------------


def test_anthropic_system_messages_under_the_beta(clients: Clients) -> None:
    message = clients.anthropic.beta.messages.create(
        model="claude-opus-4-8",
        max_tokens=4096,
        betas=["mid-conversation-system-2026-04-07", "some-beta-from-next-year"],
        system=[{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": "hi"},
            {  # type: ignore[list-item, misc]
                "role": "system",
                "content": [{"type": "text", "text": "# Environment\ncwd: /tmp"}],
                "output_config": {"effort": "medium"},
            },
        ],
        thinking={"type": "adaptive"},  # type: ignore[typeddict-item]
        output_config={"effort": "high"},
        context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        tools=[
            {
                "name": "Write",
                "description": "Write a file",
                "input_schema": {
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "type": "object",
                    "properties": {"file_path": {"type": "string"}},
                    "additionalProperties": False,
                },
                "defer_loading": True,
            }
        ],
    )
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text"]  # adaptive thinking thinks
    assert message.usage.output_tokens > 0


def test_anthropic_system_messages_without_the_beta_are_refused(clients: Clients) -> None:
    with pytest.raises(anthropic.BadRequestError) as error:
        clients.anthropic.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=16,
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "system", "content": "x"},  # type: ignore[typeddict-item]
            ],
        )
    assert 'Unexpected role "system"' in error.value.message


def test_anthropic_unknown_fields_and_blocks_pass_and_are_journaled(server: ServerThread) -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "future_knob": 1,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi", "citations_v2": []},
                    {"type": "hologram", "data": "..."},
                ],
            }
        ],
        "tools": [{"type": "teleport_20991231_x", "name": "t"}],
    }
    headers = {**ANTHROPIC_HEADERS, "anthropic-beta": "not-a-beta-anyone-knows"}
    answered = httpx.post(server.url + "/v1/messages", headers=headers, json=body, timeout=10)
    assert answered.status_code == 200, answered.text
    assert last(server).notes == [
        "unknown field 'future_knob'",
        "unknown field 'messages.0.content.0.text.citations_v2'",
        "unknown content block type 'hologram' at messages.0.content.1",
        "unknown tool type 'teleport_20991231_x' at tools.0",
    ]


def test_anthropic_strict_validation_refuses_with_anthropics_words(
    strict_clients: Clients,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as error:
        strict_clients.anthropic.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=16,
            messages=user("hi"),
            extra_body={"future_knob": 1},
        )
    assert error.value.body["error"]["message"] == (  # type: ignore[index]
        "future_knob: Extra inputs are not permitted"
    )


def test_anthropic_thinking_on_a_claude_without_it(clients: Clients) -> None:
    with pytest.raises(anthropic.BadRequestError) as error:
        clients.anthropic.messages.create(
            model="claude-3-5-sonnet-20241022",
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=user("hi"),
        )
    assert error.value.body["error"]["message"] == (  # type: ignore[index]
        "'claude-3-5-sonnet-20241022' does not support thinking."
    )


# --- Gemini ----------------------------------------------------------------------------------


def test_gemini_enum_values_in_any_case(server: ServerThread) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "weather?"}]}],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "parameters": {
                            "type": "object",
                            "properties": {"city": {"type": "string"}},
                            "required": ["city"],
                        },
                    }
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "any"}},
        "generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}},
    }
    url = server.url + "/v1beta/models/gemini-3-flash:generateContent"
    answered = httpx.post(url, headers=GEMINI_HEADERS, json=body, timeout=10)
    assert answered.status_code == 200, answered.text
    parts = answered.json()["candidates"][0]["content"]["parts"]
    assert parts[-1]["functionCall"]["name"] == "get_weather"
    embed = httpx.post(
        server.url + "/v1beta/models/gemini-embedding-001:embedContent",
        headers=GEMINI_HEADERS,
        json={"content": {"parts": [{"text": "x"}]}, "taskType": "retrieval_query"},
        timeout=10,
    )
    assert embed.status_code == 200, embed.text


def test_the_responses_tool_shape_still_works(clients: Clients) -> None:
    response = clients.openai.responses.create(
        model="gpt-4o", input="weather?", tools=[RESPONSES_TOOL], tool_choice="required"
    )
    assert response.output[-1].type == "function_call"
    assert OPENAI_HEADERS  # the shared headers module stays in use
