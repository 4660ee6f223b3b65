"""One server's state: dialects made on first use, and what a reset forgets."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.admin.published import Conflict, Source
from mockserver.http.app import create_app
from mockserver.scenario import ScenarioSet, load_text
from mockserver.server_state import Dialects, MockState
from mockserver.settings import Settings

AUTH = {"authorization": "Bearer sk-test"}


def test_dialects_are_made_once_on_first_use() -> None:
    dialects = Dialects()
    assert "gemini" not in vars(dialects)
    assert dialects.gemini is dialects.gemini
    assert dialects.for_path("/v1/messages") is dialects.anthropic
    assert dialects.for_path("/v1/chat/completions") is dialects.chat
    assert "mockserver.protocols.gemini.generate" in sys.modules


def test_a_reset_forgets_stored_responses_and_makes_no_dialect() -> None:
    state = MockState(Settings(), ScenarioSet())
    state.reset()
    assert "responses" not in vars(state.dialects)  # nothing to forget: not made for it
    with TestClient(create_app(state=state)) as client:
        first = client.post(
            "/v1/responses", json={"model": "gpt-4o-mini", "input": "hi"}, headers=AUTH
        ).json()
        found = client.get(f"/v1/responses/{first['id']}", headers=AUTH)
        assert found.status_code == 200
        state.reset()
        gone = client.get(f"/v1/responses/{first['id']}", headers=AUTH)
        assert gone.status_code == 404


# --- Two workers on one state file (in one process: two states, two connections) -------------

SEQUENCE = """\
version: 1
rules:
  - name: steps
    match: {last_user: {contains: step}}
    sequence:
      - reply: {content: "one"}
      - reply: {content: "two"}
      - reply: {content: "three"}
"""


def chat(client: TestClient, text: str) -> Any:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    return client.post("/v1/chat/completions", json=body, headers=AUTH)


def content(response: Any) -> str:
    return str(response.json()["choices"][0]["message"]["content"])


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps, each with its own store object on one SQLite file, as two workers have."""
    settings = Settings(state_file=str(tmp_path / "state.sqlite"))
    with (
        TestClient(create_app(settings), base_url="http://localhost") as first,
        TestClient(create_app(settings), base_url="http://localhost") as second,
    ):
        yield first, second


def test_a_rule_published_by_one_worker_answers_on_the_other(
    workers: tuple[TestClient, TestClient],
) -> None:
    first, second = workers
    assert first.post("/_mock/scenarios", content=SEQUENCE).status_code == 200
    replies = [content(chat(client, "step")) for client in (second, first, second, second)]
    assert replies == ["one", "two", "three", "three"]  # one cursor, advanced once a request
    listed = second.get("/_mock/scenarios").json()
    assert [rule["name"] for rule in listed["rules"]] == ["steps"]
    assert first.delete("/_mock/scenarios").status_code == 200
    assert content(chat(second, "step")) != "one"  # back to the default reply


def test_the_journal_and_stored_responses_are_the_same_on_both(
    workers: tuple[TestClient, TestClient],
) -> None:
    first, second = workers
    chat(first, "a")
    chat(second, "b")
    for client in workers:
        journal = client.get("/_mock/requests").json()
        assert [r["body"]["messages"][0]["content"] for r in journal["requests"]] == ["a", "b"]
    turn = first.post("/v1/responses", json={"model": "gpt-4o-mini", "input": "hi"}, headers=AUTH)
    follow_up = {"model": "gpt-4o-mini", "input": "and?", "previous_response_id": turn.json()["id"]}
    assert second.post("/v1/responses", json=follow_up, headers=AUTH).status_code == 200
    assert second.get(f"/v1/responses/{turn.json()['id']}", headers=AUTH).json() == turn.json()
    first.post("/_mock/reset")
    assert second.get("/_mock/requests").json()["count"] == 0
    assert second.get(f"/v1/responses/{turn.json()['id']}", headers=AUTH).status_code == 404


def test_repeated_requests_count_their_occurrences_across_workers(
    tmp_path: Path, workers: tuple[TestClient, TestClient]
) -> None:
    first, second = workers
    alternating = [chat(client, "same").content for client in (first, second, first, second)]
    with TestClient(create_app(Settings()), base_url="http://localhost") as alone:
        single = [chat(alone, "same").content for _ in range(4)]
    assert alternating == single  # byte for byte
    assert len(set(single)) == 4  # each occurrence gets its own ids


def test_publishing_on_stale_scenarios_is_refused(tmp_path: Path) -> None:
    settings = Settings(state_file=str(tmp_path / "state.sqlite"))
    first, second = MockState(settings, ScenarioSet()), MockState(settings, ScenarioSet())
    rules = ScenarioSet.build([load_text(SEQUENCE, "a.yaml")])
    first.publish(rules, [Source("a.yaml", text=SEQUENCE)])
    with pytest.raises(Conflict):
        second.publish(rules, [Source("a.yaml", text=SEQUENCE)])
    second.sync()
    assert [rule.name for rule in second.scenarios.rules] == ["steps"]


def test_a_restart_on_the_state_file_keeps_rules_journal_responses_and_cursors(
    tmp_path: Path,
) -> None:
    settings = Settings(state_file=str(tmp_path / "state.sqlite"))
    with TestClient(create_app(settings), base_url="http://localhost") as before:
        before.post("/_mock/scenarios", content=SEQUENCE)
        assert content(chat(before, "step")) == "one"
        turn = before.post("/v1/responses", json={"model": "gpt-4o", "input": "x"}, headers=AUTH)
    with TestClient(create_app(settings), base_url="http://localhost") as after:
        assert content(chat(after, "step")) == "two"
        assert after.get(f"/v1/responses/{turn.json()['id']}", headers=AUTH).status_code == 200
        journal = after.get("/_mock/requests").json()
        assert [r["endpoint"] for r in journal["requests"]] == [
            "/v1/chat/completions",
            "/v1/responses",
            "/v1/chat/completions",
        ]
        assert [rule["where"] for rule in after.get("/_mock/scenarios").json()["rules"]] == [
            "<POST /_mock/scenarios>:3:5"
        ]


def test_memory_stays_bounded_by_the_settings() -> None:
    state = MockState(Settings(counters_size=5, responses_size=2, journal_size=3), ScenarioSet())
    with TestClient(create_app(state=state)) as client:
        for n in range(20):
            chat(client, f"unique {n}")
            client.post("/v1/responses", json={"model": "gpt-4o", "input": f"{n}"}, headers=AUTH)
    assert len(state.counters.occurrences) == 5
    assert len(state.dialects.response_store) == 2
    assert len(state.journal.entries()) == 3


def test_the_journal_has_a_request_before_its_last_byte_is_sent(tmp_path: Path) -> None:
    """A client that has the whole response may ask another worker for the journal at once."""
    settings = Settings(state_file=str(tmp_path / "state.sqlite"))
    first, second = create_app(settings), MockState.from_settings(settings)
    body = orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    seen_at_the_end: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            seen_at_the_end.append(len(second.journal.entries()))

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "query_string": b"",
        "headers": [(b"authorization", b"Bearer sk-test")],
    }
    asyncio.run(first(scope, receive, send))
    assert seen_at_the_end == [1]
