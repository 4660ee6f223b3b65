"""Shared by the every-dialect integration tests: a server for `scenarios/every_dialect.yaml`,
what the scenario answers, each vendor's credentials, tool declaration and SDK client, the
server's journal, and a raw SSE reader (the SDKs hide the wire, so bodies and events are fetched
with httpx for validation).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx
import openai
from google import genai
from google.genai import types

from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.journal.journal import Entry
from mockserver.settings import Settings
from tests.conftest import SCENARIOS

SCENARIO = SCENARIOS / "every_dialect.yaml"

# One model per vendor (none the SDKs warn about as deprecated, none that reasons unasked).
CHAT_MODEL = "gpt-4o"
INSTRUCT_MODEL = "gpt-3.5-turbo-instruct"
CLAUDE_MODEL = "claude-haiku-4-5-20251001"
GEMINI_MODEL = "gemini-2.0-flash"

# What the scenario's rules answer, whichever dialect asks.
FORECAST_QUESTION = "What's the forecast for tomorrow?"
FORECAST = "Tomorrow will be sunny, 21 degrees, with a light breeze from the west."
WEATHER_QUESTION = "What's the weather in Paris?"
WEATHER_ARGUMENTS = {"city": "Paris", "unit": "celsius"}
TOOL_OUTPUT = "18C, cloudy"
WEATHER_ANSWER = "In Paris it is 18 degrees and cloudy."
THINK_QUESTION = "Which route should I take? Please think it over."
THINKING = "Two routes are possible. The coastal one is longer but avoids the roadworks."
THINK_ANSWER = "Take the coastal route."

OPENAI_KEY = "sk-test"
ANTHROPIC_HEADERS = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": f"Bearer {OPENAI_KEY}"}
GEMINI_HEADERS = {"x-goog-api-key": "gemini-test-key"}

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city"],
}
CHAT_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": WEATHER_SCHEMA,
    },
}
RESPONSES_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": WEATHER_SCHEMA,
    "strict": False,
}
ANTHROPIC_TOOL: Any = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": WEATHER_SCHEMA,
}


@contextmanager
def serve(**options: Any) -> Iterator[ServerThread]:
    """A real uvicorn server on a free port, serving the every-dialect scenario."""
    settings = Settings(scenario_paths=[str(SCENARIO)], port=0, **options)
    with ServerThread(create_app(settings)) as server:
        yield server


def journal(server: ServerThread) -> list[Entry]:
    """What the server recorded: per request, the dialect that parsed it and the rule that
    answered it (in-process: the server runs in a thread of the test process)."""
    app: Any = server.app
    entries: list[Entry] = app.state.mock.journal.entries()
    return entries


def user(text: str) -> list[Any]:
    """A one-message conversation, in the shape Chat Completions and Messages share."""
    return [{"role": "user", "content": text}]


@dataclass(frozen=True, slots=True)
class Clients:
    openai: openai.OpenAI
    anthropic: anthropic.Anthropic
    genai: genai.Client


@dataclass(frozen=True, slots=True)
class AsyncClients:
    openai: openai.AsyncOpenAI
    anthropic: anthropic.AsyncAnthropic
    genai: genai.Client  # its `.aio` side


def gemini_client(server: ServerThread) -> genai.Client:
    """google-genai 3.x calls `{base_url}/v1/...` (test_gemini_sdk also tries v1beta)."""
    options = types.HttpOptions(base_url=server.url)
    return genai.Client(api_key="gemini-test-key", http_options=options)


@contextmanager
def sdk_clients(server: ServerThread) -> Iterator[Clients]:
    """Each vendor's official sync client, pointed at `server`, no retries."""
    made = Clients(
        openai.OpenAI(base_url=server.url + "/v1", api_key=OPENAI_KEY, max_retries=0),
        anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0),
        gemini_client(server),
    )
    try:
        yield made
    finally:
        made.openai.close()
        made.anthropic.close()
        made.genai.close()


@asynccontextmanager
async def async_sdk_clients(server: ServerThread) -> AsyncIterator[AsyncClients]:
    """Each vendor's official async client, pointed at `server`, no retries."""
    made = AsyncClients(
        openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=OPENAI_KEY, max_retries=0),
        anthropic.AsyncAnthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0),
        gemini_client(server),
    )
    try:
        yield made
    finally:
        await made.openai.close()
        await made.anthropic.close()
        await made.genai.aio.aclose()


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its `event:` name (None when absent) and its JSON data."""

    name: str | None
    data: Any


def sse_events(response: httpx.Response) -> list[Event]:
    """Every event of an SSE body, as a client reads it (CRLF or LF line ends)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    text = response.text.replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
        events.append(Event(name, "\n".join(data)))
    return [Event(e.name, e.data if e.data == "[DONE]" else json.loads(e.data)) for e in events]


def post(url: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url, json=body, headers=headers, timeout=10)


def post_json(url: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    """POST and return the JSON body of a 200 answer (failing with the body otherwise)."""
    response = post(url, headers, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()
