"""Each record mode, a new episode appended to an existing file, and upstream errors recorded
as faults that replay as such (the upstream is a second mockserver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.conftest import StartServer

KEY = "sk-live-SECRET-modes-0123456789"
ANSWERS = """
version: 1
rules:
  - name: answer
    match: {last_user: {regex: "(?P<q>.+)"}}
    reply: {content: "{{ tag }}: {{ match.q }}"}
"""


def upstream_answering(start_server: StartServer, tag: str) -> ServerThread:
    """An upstream whose answers say which one it is: `<tag>: <question>`."""
    return start_server(ANSWERS.replace("{{ tag }}", tag))


def ask(base: str, question: str) -> httpx.Response:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": question}]}
    headers = {"authorization": f"Bearer {KEY}"}
    return httpx.post(base + "/v1/chat/completions", json=body, headers=headers)


def answer(base: str, question: str) -> str:
    response = ask(base, question)
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


class Proxy:
    """`recording_app` on a real port, stopped at the end of the test."""

    def __init__(self) -> None:
        self.servers: list[ServerThread] = []

    def __call__(self, path: Path, mode: RecordMode, upstream: ServerThread | None) -> str:
        app = recording_app(path, mode, upstream.url if upstream else None)
        server = ServerThread(app).start()
        self.servers.append(server)
        return server.url


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    made = Proxy()
    yield made
    for server in made.servers:
        server.stop()


def rule_questions(path: Path) -> list[str]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [rule["match"]["last_user"]["equals"] for rule in document["rules"]]


def test_record_always_asks_the_upstream_and_starts_the_file_afresh(
    tmp_path: Path, start_server: StartServer, proxy: Proxy
) -> None:
    path = tmp_path / "s.yaml"
    first = proxy(path, RecordMode.RECORD, upstream_answering(start_server, "one"))
    assert answer(first, "hi") == "one: hi"
    second = proxy(path, RecordMode.RECORD, upstream_answering(start_server, "two"))
    assert answer(second, "hi") == "two: hi"  # asked again, though recorded
    assert answer(second, "bye") == "two: bye"
    assert rule_questions(path) == ["hi", "bye"]  # the first session's rule is gone
    assert "two: hi" in path.read_text(encoding="utf-8")


def test_replay_never_asks_and_a_miss_names_the_nearest_rules(
    tmp_path: Path, start_server: StartServer, proxy: Proxy
) -> None:
    path = tmp_path / "s.yaml"
    recording = proxy(path, RecordMode.RECORD, upstream_answering(start_server, "one"))
    assert answer(recording, "hi") == "one: hi"
    replay = proxy(path, RecordMode.REPLAY, None)
    assert answer(replay, "hi") == "one: hi"
    miss = ask(replay, "something else")
    assert miss.status_code == 400
    error = miss.json()["error"]
    assert error["code"] == "mock_no_matching_rule"
    assert "nearest rules: 'hi' failed on last_user" in error["message"]


def test_replay_needs_a_recording(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no recording at"):
        recording_app(tmp_path / "absent.yaml", RecordMode.REPLAY, None)


def test_record_needs_an_upstream(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs an upstream URL"):
        recording_app(tmp_path / "absent.yaml", RecordMode.NEW_EPISODES, None)


def test_once_records_a_new_file_then_only_replays(
    tmp_path: Path, start_server: StartServer, proxy: Proxy
) -> None:
    path = tmp_path / "s.yaml"
    first = proxy(path, RecordMode.ONCE, upstream_answering(start_server, "one"))
    assert answer(first, "hi") == "one: hi"
    assert answer(first, "bye") == "one: bye"
    again = proxy(path, RecordMode.ONCE, upstream_answering(start_server, "two"))
    assert answer(again, "hi") == "one: hi"  # the file exists: replayed
    assert ask(again, "new question").status_code == 400  # and nothing new is recorded
    assert rule_questions(path) == ["hi", "bye"]


def test_new_episodes_replays_what_exists_and_appends_what_is_missing(
    tmp_path: Path, start_server: StartServer, proxy: Proxy
) -> None:
    path = tmp_path / "s.yaml"
    first = proxy(path, RecordMode.NEW_EPISODES, upstream_answering(start_server, "one"))
    assert answer(first, "hi") == "one: hi"
    again = proxy(path, RecordMode.NEW_EPISODES, upstream_answering(start_server, "two"))
    assert answer(again, "hi") == "one: hi"  # recorded: not asked
    assert answer(again, "bye") == "two: bye"  # missing: asked, and appended
    assert rule_questions(path) == ["hi", "bye"]
    offline = proxy(path, RecordMode.REPLAY, None)
    assert [answer(offline, q) for q in ("hi", "bye")] == ["one: hi", "two: bye"]


def test_mode_words() -> None:
    assert [mode.value for mode in RecordMode] == ["record", "replay", "once", "new_episodes"]
    assert RecordMode.parse("once") is RecordMode.ONCE
    with pytest.raises(ValueError, match="expected one of record, replay, once, new_episodes"):
        RecordMode.parse("all")


FLAKY = """
version: 1
rules:
  - name: flaky
    match: {last_user: {contains: flaky}}
    sequence:
      - fault:
          {status: 429, message: "Slow down, please.", retry_after: 0, code: rate_limit_exceeded}
      - reply: {content: "third time lucky"}
"""


def test_upstream_errors_replay_as_faults_then_the_retry_succeeds(
    tmp_path: Path, start_server: StartServer, proxy: Proxy
) -> None:
    path = tmp_path / "s.yaml"
    recording = proxy(path, RecordMode.RECORD, start_server(FLAKY))
    client = openai.OpenAI(base_url=recording + "/v1", api_key=KEY, max_retries=2)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "a flaky call"}]
    )
    assert reply.choices[0].message.content == "third time lucky"
    rule = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"][0]
    fault = rule["sequence"][0]["fault"]
    assert fault["status"] == 429
    assert fault["message"] == "Slow down, please."
    assert fault["code"] == "rate_limit_exceeded"
    assert fault["headers"]["retry-after"] == "0"
    assert rule["sequence"][1]["reply"]["content"] == "third time lucky"

    replay = proxy(path, RecordMode.REPLAY, None)
    failed = ask(replay, "a flaky call")  # no retries: the fault itself
    assert failed.status_code == 429
    assert failed.json()["error"]["message"] == "Slow down, please."
    assert failed.headers["retry-after"] == "0"
    assert answer(replay, "a flaky call") == "third time lucky"
    assert KEY not in path.read_text(encoding="utf-8")


BROKEN_STREAM = """
version: 1
rules:
  - name: broken
    fault: {error_event_after: 4, status: 529, message: "Overloaded now"}
"""
STREAMS = {
    "/v1/chat/completions": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    "/v1/messages": {
        "model": "claude-sonnet-4-5",
        "max_tokens": 60,
        "messages": [{"role": "user", "content": "hi"}],
    },
    "/v1/responses": {"model": "gpt-4o", "input": "hi"},
    "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse": {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}]
    },
}
STREAM_HEADERS = {"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}


def stream_events(base: str, path: str) -> list[str]:
    body = {**STREAMS[path], **({} if "gemini" in path else {"stream": True})}
    response = httpx.post(base + path, json=body, headers=STREAM_HEADERS)
    assert response.status_code == 200, response.text
    return [line for line in response.text.splitlines() if line.startswith("data:")]


@pytest.mark.parametrize("path", list(STREAMS))
def test_a_stream_that_fails_half_way_replays_its_error_event(
    path: str, tmp_path: Path, start_server: StartServer, proxy: Proxy
) -> None:
    recording = tmp_path / "s.yaml"
    through = stream_events(proxy(recording, RecordMode.RECORD, start_server(BROKEN_STREAM)), path)
    rule = yaml.safe_load(recording.read_text(encoding="utf-8"))["rules"][0]
    assert rule["fail_times"] == 1
    assert rule["fault"]["error_event_after"] == 4
    assert rule["fault"]["message"] == "Overloaded now"
    assert "content" in rule["reply"]  # the text streamed before the error (none, for Responses)
    replayed = stream_events(proxy(recording, RecordMode.REPLAY, None), path)
    # The same error event, after the recorded text cut anew into tokens (as many events
    # when the text re-tokenizes as it was streamed, as it does here but for Gemini's).
    assert replayed[-1] == through[-1]
    assert "Overloaded now" in replayed[-1]
