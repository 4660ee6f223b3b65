"""Faults, chaos and rate limits met by the official SDKs, against a real server.

Each SDK must react to the emulated failure as it reacts to the vendor's own: retry what it
retries (and honour `retry-after-ms` / `x-should-retry`), raise the exception it raises.
Retries are made fast with `retry_after: 0.01`; nothing here asserts wall-clock timings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from mockserver.http.server_thread import ServerThread
from mockserver.journal.journal import Entry
from tests.conftest import StartServer

CHAT_MODEL = "gpt-4o-mini"
CLAUDE_MODEL = "claude-haiku-4-5-20251001"
GEMINI_MODEL = "gemini-2.0-flash"
OPENAI_KEY = "sk-fault-test"

SCENARIO = """
version: 1
seed: 11
rules:
  - name: flaky
    match: {last_user: flaky}
    fail_times: 2
    fault: {status: 429, retry_after: 0.01}
    reply: {content: "third time lucky"}
  - name: final
    match: {last_user: "do not retry"}
    fault: {status: 503, should_retry: false}
  - name: bad-key
    match: {last_user: "bad key"}
    fault: {preset: invalid_key}
  - name: cut
    match: {last_user: "cut me"}
    fault: {disconnect_after: 3}
  - name: garbled
    match: {last_user: garbled}
    fault: {malformed_event_at: 2}
  - name: busy
    match: {last_user: busy}
    fail_times: 1
    fault: {preset: overloaded, retry_after: 0.01}
    reply: {content: "back again"}
  - name: broken-stream
    match: {last_user: "break the stream"}
    fault: {error_event_after: 2, preset: overloaded}
  - name: unavailable
    match: {last_user: unavailable}
    fault: {preset: overloaded}
  - name: exhausted
    match: {last_user: exhausted}
    fault: {status: 429}
  - name: hello
    reply: {content: "Hello from the mock."}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    from mockserver.http.app import create_app
    from mockserver.settings import Settings

    path = tmp_path_factory.mktemp("faults") / "faults.yaml"
    path.write_text(SCENARIO)
    with ServerThread(create_app(Settings(scenario_paths=[str(path)], port=0))) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(server: ServerThread) -> None:
    state(server).reset()


def state(server: ServerThread) -> Any:
    app: Any = server.app
    return app.state.mock


def entries(server: ServerThread, rule: str | None = None) -> list[Entry]:
    found: list[Entry] = state(server).journal.entries()
    return [e for e in found if rule is None or e.rule == rule]


def openai_client(server: ServerThread, retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=OPENAI_KEY, max_retries=retries)


def ask(client: openai.OpenAI, text: str) -> str | None:
    completion = client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content


# --- openai ----------------------------------------------------------------------------------


def test_openai_retries_429_until_fail_times_is_spent(server: ServerThread) -> None:
    with openai_client(server, retries=2) as client:
        assert ask(client, "flaky") == "third time lucky"

    attempts = entries(server, "flaky")
    assert [e.status for e in attempts] == [429, 429, 200]
    assert len({e.retry_group for e in attempts}) == 1
    fault = attempts[0].fault
    assert fault is not None and fault.pop("at") >= 0  # seconds from arrival to the fault
    assert fault == {"status": 429, "retry_after": 0.01, "source": "rule"}
    assert attempts[2].fault is None
    # The SDK's retries carry retry headers, yet count in the same group; a new call starts over.
    assert attempts[1].headers.get("x-stainless-retry-count") == "1"


def test_openai_new_call_starts_a_fresh_retry_group(server: ServerThread) -> None:
    with openai_client(server) as client:
        with pytest.raises(openai.RateLimitError):
            ask(client, "flaky")
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(
                model=CHAT_MODEL, messages=[{"role": "user", "content": "flaky"}], temperature=0.5
            )
    assert raised.value.response.headers["retry-after-ms"] == "10"
    groups = [e.retry_group for e in entries(server, "flaky")]
    assert len(groups) == 2 and groups[0] != groups[1]


def test_openai_does_not_retry_when_told_not_to(server: ServerThread) -> None:
    with openai_client(server, retries=2) as client, pytest.raises(openai.InternalServerError):
        ask(client, "do not retry")
    assert [e.status for e in entries(server, "final")] == [503]


def test_openai_401_is_an_authentication_error(server: ServerThread) -> None:
    with openai_client(server) as client, pytest.raises(openai.AuthenticationError) as raised:
        ask(client, "bad key")
    body: Any = raised.value.body
    assert body["code"] == "invalid_api_key"
    assert body["message"].startswith("Incorrect API key provided: sk-*")
    assert OPENAI_KEY not in body["message"]


def test_openai_stream_cut_midway_raises(server: ServerThread) -> None:
    received: list[str] = []
    with openai_client(server) as client, pytest.raises(openai.APIConnectionError):
        stream = client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "cut me"}], stream=True
        )
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert len(received) == 3  # the events before the cut arrived, then the SDK raised
    (entry,) = entries(server, "cut")
    assert entry.events_sent == 3
    assert entry.fault is not None and entry.fault["disconnect_after"] == 3


def test_openai_malformed_event_raises(server: ServerThread) -> None:
    with openai_client(server) as client, pytest.raises(json.JSONDecodeError):
        stream = client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "garbled"}], stream=True
        )
        for _ in stream:
            pass


def test_fault_header_breaks_one_call_without_a_scenario_rule(server: ServerThread) -> None:
    with openai_client(server) as client:
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(
                model=CHAT_MODEL,
                messages=[{"role": "user", "content": "hello"}],
                extra_headers={"x-mock-fault": "preset=rate_limit; retry_after=0.2"},
            )
        assert ask(client, "hello") == "Hello from the mock."
    assert raised.value.response.headers["retry-after-ms"] == "200"
    first, second = entries(server, "hello")
    assert first.fault is not None and first.fault["source"] == "header"
    assert second.fault is None


def test_bad_fault_header_is_a_400_naming_the_key(server: ServerThread) -> None:
    with openai_client(server) as client, pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model=CHAT_MODEL,
            messages=[{"role": "user", "content": "hello"}],
            extra_headers={"x-mock-fault": "stauts=503"},
        )
    body: Any = raised.value.body
    assert body["param"] == "x-mock-fault"
    assert "unknown key 'stauts' (did you mean 'status'?)" in body["message"]


# --- anthropic -------------------------------------------------------------------------------


def anthropic_client(server: ServerThread, retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-fault", max_retries=retries)


def test_anthropic_retries_529_overloaded_then_succeeds(server: ServerThread) -> None:
    with anthropic_client(server, retries=2) as client:
        message = client.messages.create(
            model=CLAUDE_MODEL, max_tokens=100, messages=[{"role": "user", "content": "busy"}]
        )
    assert message.content[0].type == "text" and message.content[0].text == "back again"
    assert [e.status for e in entries(server, "busy")] == [529, 200]


def test_anthropic_in_stream_error_event_raises_with_its_type(server: ServerThread) -> None:
    with (
        anthropic_client(server) as client,
        pytest.raises(anthropic.APIStatusError) as raised,
        client.messages.stream(
            model=CLAUDE_MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "break the stream"}],
        ) as stream,
    ):
        for _ in stream:
            pass
    body: Any = raised.value.body
    assert body["error"] == {"type": "overloaded_error", "message": "Overloaded"}


# --- google-genai ----------------------------------------------------------------------------


@pytest.fixture
def gemini(server: ServerThread) -> Iterator[genai.Client]:
    client = genai.Client(api_key="gemini-key", http_options=types.HttpOptions(base_url=server.url))
    yield client
    client.close()


def test_gemini_503_is_a_server_error(gemini: genai.Client) -> None:
    with pytest.raises(genai_errors.ServerError) as raised:
        gemini.models.generate_content(model=GEMINI_MODEL, contents="unavailable")
    assert raised.value.code == 503
    assert raised.value.status == "UNAVAILABLE"


def test_gemini_429_is_a_client_error(gemini: genai.Client) -> None:
    with pytest.raises(genai_errors.ClientError) as raised:
        gemini.models.generate_content(model=GEMINI_MODEL, contents="exhausted")
    assert raised.value.code == 429
    assert raised.value.status == "RESOURCE_EXHAUSTED"


# --- chaos and rate limits -------------------------------------------------------------------

CHAOS = """
version: 1
seed: 5
chaos:
  - probability: 0.4
    match: {model: "gpt-4o*"}
    fault: {status: 503}
rules:
  - name: anything
    reply: {content: "fine"}
"""


def chaos_run(server: ServerThread) -> list[int]:
    headers = {"authorization": f"Bearer {OPENAI_KEY}"}
    statuses = []
    for index in [*range(12), 0, 0]:  # the repeats are retries of request 0: they roll afresh
        body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": f"q{index}"}]}
        response = httpx.post(server.url + "/v1/chat/completions", json=body, headers=headers)
        statuses.append(response.status_code)
    return statuses


def test_seeded_chaos_fails_the_same_requests_on_every_run(start_server: StartServer) -> None:
    first = chaos_run(start_server(CHAOS))
    second = chaos_run(start_server(CHAOS))
    other_seed = chaos_run(start_server(CHAOS.replace("seed: 5", "seed: 6")))

    assert first == second
    assert set(first) == {200, 503}
    assert other_seed != first


RATE_LIMITED = """
version: 1
rate_limits:
  - {key: "sk-limited-*", model: "gpt-4o*", rpm: 3}
  - {model: "claude-*", rpm: 2, tpm: 100000}
rules:
  - name: anything
    reply: {content: "fine"}
"""


def test_rpm_burst_gets_429_at_the_right_request(start_server: StartServer) -> None:
    server = start_server(RATE_LIMITED)
    body = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"authorization": "Bearer sk-limited-1"}
    responses = [
        httpx.post(server.url + "/v1/chat/completions", json=body, headers=headers)
        for _ in range(4)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-limit-requests"] for r in responses] == ["3"] * 4
    assert [r.headers["x-ratelimit-remaining-requests"] for r in responses] == ["2", "1", "0", "0"]
    error = responses[3].json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert "on requests per min (RPM): Limit 3, Used 3, Requested 1." in error["message"]
    wait = int(responses[3].headers["retry-after-ms"]) / 1000
    assert 0 < wait <= 20  # one request comes back every 60 s / 3
    assert f"Please try again in {wait:.3f}".rstrip("0") in error["message"]
    assert int(responses[3].headers["retry-after"]) == -(-wait // 1)

    # Another key is not limited by that entry: no headers, no refusal.
    other = httpx.post(
        server.url + "/v1/chat/completions",
        json=body,
        headers={"authorization": "Bearer sk-free"},
    )
    assert other.status_code == 200 and "x-ratelimit-limit-requests" not in other.headers
    assert "sk-limited-1" not in str([e.to_dict() for e in state(server).journal.entries()])


def test_anthropic_rate_limit_headers_and_429(start_server: StartServer) -> None:
    server = start_server(RATE_LIMITED)
    with anthropic_client(server) as client:
        raw = [
            client.messages.with_raw_response.create(
                model=CLAUDE_MODEL, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
            )
            for _ in range(2)
        ]
        with pytest.raises(anthropic.RateLimitError) as raised:
            client.messages.create(
                model=CLAUDE_MODEL, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
            )

    remaining = [r.headers["anthropic-ratelimit-requests-remaining"] for r in raw]
    assert remaining == ["1", "0"]
    assert raw[0].headers["anthropic-ratelimit-requests-limit"] == "2"
    assert raw[0].headers["anthropic-ratelimit-tokens-limit"] == "100000"
    used = 100000 - int(raw[0].headers["anthropic-ratelimit-tokens-remaining"])
    assert used > 50  # the prompt plus max_tokens
    assert raw[0].headers["anthropic-ratelimit-requests-reset"].endswith("Z")
    message = raised.value.body["error"]["message"]  # type: ignore[index]
    assert "of 2 requests per minute" in message
    assert raised.value.response.headers["x-should-retry"] == "true"
