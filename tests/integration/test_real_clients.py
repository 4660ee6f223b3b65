"""Claude Code and Codex CLI, replayed: every request the real CLIs sent (captured, their long
texts cut to placeholders: tests/data/clients/) is accepted, answered in the shape the CLI reads,
and the scripted tool turns work — without the CLIs. `make e2e-agents` runs the CLIs themselves.

Each request is also replayed under `validation: strict`: the server knows every field, item,
content-part and tool type these clients send (a new client version that sends more is then a
note in the journal, and a failing test here once its capture is refreshed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anthropic.types.beta import BetaMessage, BetaRawMessageStreamEvent
from pydantic import TypeAdapter

from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings
from tests.integration.every_dialect import Event, journal, sse_events
from tests.openapi_spec import validate

CLIENTS = Path(__file__).resolve().parents[1] / "data" / "clients"
SCENARIO = CLIENTS / "agents.yaml"
CLAUDE = sorted((CLIENTS / "claude-code").glob("*.json"))
CODEX = sorted((CLIENTS / "codex").glob("*.json"))
# Claude Code calls the beta endpoint (`?beta=true`): the beta models read its answers.
STREAM_EVENT: TypeAdapter[Any] = TypeAdapter(BetaRawMessageStreamEvent)
EXEC_INPUT = (
    'const r = await tools.exec_command({cmd: "echo hi > out.txt"});\n'
    'text(r.output ?? "");\ntext("exit " + r.exit_code);\n'
)


@pytest.fixture(scope="module", params=["lenient", "strict"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    settings = Settings(scenario_paths=[str(SCENARIO)], port=0, validation=request.param)
    with ServerThread(create_app(settings)) as running:
        yield running


def replay(server: ServerThread, fixture: Path) -> httpx.Response:
    """The captured request, sent again as the CLI sent it."""
    captured = json.loads(fixture.read_text())
    query = f"?{captured['query']}" if captured["query"] else ""
    return httpx.request(
        captured["method"],
        server.url + captured["path"] + query,
        headers=captured["headers"],
        json=captured["body"],
        timeout=30,
    )


def named(fixtures: list[Path], prefix: str) -> Path:
    [found] = [f for f in fixtures if f.name.startswith(prefix)]
    return found


# --- Claude Code --------------------------------------------------------------------------------


def claude_stream(response: httpx.Response) -> tuple[list[Event], list[dict[str, Any]]]:
    """The stream's events, each validated by the SDK's own model, and its content blocks
    assembled as Claude Code assembles them."""
    events = sse_events(response)
    blocks: list[dict[str, Any]] = []
    for event in events:
        if event.name == "ping":  # keep-alive: the SDK skips it
            continue
        STREAM_EVENT.validate_python(event.data)
        data = event.data
        if event.name == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif event.name == "content_block_delta":
            delta = data["delta"]
            block = blocks[data["index"]]
            if delta["type"] == "text_delta":
                block["text"] = block.get("text", "") + delta["text"]
            elif delta["type"] == "input_json_delta":
                block["partial"] = block.get("partial", "") + delta["partial_json"]
    names = [event.name for event in events]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert "content_block_stop" in names  # without it Claude Code shows nothing
    [usage] = [event.data["usage"] for event in events if event.name == "message_delta"]
    assert usage["output_tokens"] > 0
    return events, blocks


@pytest.mark.parametrize("fixture", CLAUDE, ids=[f.stem for f in CLAUDE])
def test_every_claude_code_request_is_accepted(server: ServerThread, fixture: Path) -> None:
    response = replay(server, fixture)
    entry = journal(server)[-1]
    if fixture.name.startswith("05_"):  # HEAD /api/hello, a connectivity check: any answer
        assert response.status_code < 500
        return
    assert response.status_code == 200, response.text
    assert entry.notes == []  # every field it sends is known
    if json.loads(fixture.read_text())["body"].get("stream"):
        claude_stream(response)
    else:
        BetaMessage.model_validate(response.json())


@pytest.mark.parametrize("prefix", ["01_", "06_", "08_", "09_", "10_"])
def test_claude_code_gets_its_answer(server: ServerThread, prefix: str) -> None:
    _, blocks = claude_stream(replay(server, named(CLAUDE, prefix)))
    assert [block["text"] for block in blocks if block["type"] == "text"] == ["4"]


def test_claude_code_write_turn(server: ServerThread) -> None:
    events, blocks = claude_stream(replay(server, named(CLAUDE, "02_")))
    [call] = [block for block in blocks if block["type"] == "tool_use"]
    assert call["name"] == "Write"
    assert json.loads(call["partial"]) == {
        "file_path": "/tmp/cc_work/hello.txt",
        "content": "hello from mockserver\n",
    }
    [stop] = [
        event.data["delta"]["stop_reason"] for event in events if event.name == "message_delta"
    ]
    assert stop == "tool_use"
    for prefix in ("03_", "04_", "11_"):  # the result (or its refusal) goes back: the answer
        _, answer = claude_stream(replay(server, named(CLAUDE, prefix)))
        assert [block.get("text") for block in answer if block["type"] == "text"] == [
            "I created the file."
        ]


def test_claude_code_non_streaming_fallback(server: ServerThread) -> None:
    response = replay(server, named(CLAUDE, "07_"))
    message = BetaMessage.model_validate(response.json())
    assert [block.text for block in message.content if block.type == "text"] == ["4"]


# --- Codex CLI ----------------------------------------------------------------------------------


def codex_stream(response: httpx.Response) -> dict[str, Any]:
    """The stream's events, each valid under the spec; Codex takes the items of
    `response.output_item.done`, then needs `response.completed`."""
    events = sse_events(response)
    for event in events:
        validate("ResponseStreamEvent", event.data)
    names = [event.name for event in events]
    assert names[-1] == "response.completed"
    completed: dict[str, Any] = events[-1].data["response"]
    done = [event.data["item"] for event in events if event.name == "response.output_item.done"]
    assert [item["type"] for item in done] == [item["type"] for item in completed["output"]]
    assert completed["usage"]["output_tokens"] > 0
    return completed


@pytest.mark.parametrize("fixture", CODEX, ids=[f.stem for f in CODEX])
def test_every_codex_request_is_accepted(server: ServerThread, fixture: Path) -> None:
    response = replay(server, fixture)
    assert response.status_code == 200, response.text
    assert journal(server)[-1].notes == []
    codex_stream(response)


def message_text(completed: dict[str, Any]) -> list[str]:
    return [
        part["text"]
        for item in completed["output"]
        if item["type"] == "message"
        for part in item["content"]
    ]


@pytest.mark.parametrize("prefix", ["01_", "04_", "07_"])
def test_codex_gets_its_answer(server: ServerThread, prefix: str) -> None:
    assert message_text(codex_stream(replay(server, named(CODEX, prefix)))) == ["4"]


def test_codex_code_mode_turn(server: ServerThread) -> None:
    """The default model's shell is the freeform tool `exec`, offered in an `additional_tools`
    input item: the scenario's call comes back as a `custom_tool_call`."""
    completed = codex_stream(replay(server, named(CODEX, "02_")))
    [call] = [item for item in completed["output"] if item["type"] == "custom_tool_call"]
    assert (call["name"], call["input"]) == ("exec", EXEC_INPUT)
    answer = codex_stream(replay(server, named(CODEX, "03_")))
    assert message_text(answer) == ["Wrote out.txt."]


def test_codex_function_tool_turn(server: ServerThread) -> None:
    completed = codex_stream(replay(server, named(CODEX, "05_")))
    [call] = [item for item in completed["output"] if item["type"] == "function_call"]
    assert call["name"] == "exec_command"
    assert json.loads(call["arguments"]) == {"cmd": "echo hi > out.txt"}
    answer = codex_stream(replay(server, named(CODEX, "06_")))
    assert message_text(answer) == ["Wrote out.txt."]
