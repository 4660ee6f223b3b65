"""`mockserver serve --workers 2`: both workers serve one state — rules POSTed once, one
journal, Responses chains, sequences, occurrence counts — and `--state FILE` keeps it across a
restart. Each request goes on a new connection, so the kernel spreads them over the workers;
the journal's `worker` field says which answered."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.testclient import TestClient

from mockserver.http.app import create_app
from mockserver.settings import Settings
from tests.integration.served import Served, serve

LIMIT = 100  # requests a test sends at most while waiting for both workers to answer one
KEY = "sk-worker-test-0123456789"
AUTH = {"authorization": f"Bearer {KEY}"}
PING = """\
version: 1
rules:
  - name: ping
    match: {last_user: {contains: ping}}
    reply: {content: pong}
"""
STEPS = """\
version: 1
rules:
  - name: steps
    match: {last_user: {contains: step}}
    sequence:
"""
STEPS += "".join(f'      - reply: {{content: "s{n}"}}\n' for n in range(1, 9))
TURNS = """\
version: 1
rules:
  - name: turns
    match: {last_user: {contains: turn}}
    reply: {content: "turn {{ request.turn }}"}
"""


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    logs = tmp_path_factory.mktemp("two-workers")
    with serve("--workers", "2", "--log-level", "info", logs=logs) as served:
        yield served


@pytest.fixture
def server(two_workers: Served) -> Served:
    """The two-worker server with the start-up scenarios and an empty state."""
    with two_workers.client() as client:
        assert client.delete("/_mock/scenarios").status_code == 200
        assert client.post("/_mock/reset").status_code == 200
    return two_workers


def chat(client: httpx.Client, text: str, model: str = "gpt-4o-mini") -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return client.post("/v1/chat/completions", json=body, headers=AUTH)


def content(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def journal(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/_mock/requests", params=filters).json()["requests"]
    return found


def workers_of(entries: list[dict[str, Any]]) -> set[int]:
    return {entry["worker"] for entry in entries}


def until_both_workers(client: httpx.Client, send: Callable[[int], object], at_least: int) -> int:
    """`send(0)`, `send(1)`... at least `at_least` times and until the journal shows both
    workers answered (the kernel usually alternates, but nothing promises it); how many."""
    for count in range(1, LIMIT + 1):
        send(count - 1)
        if count >= at_least and len(workers_of(journal(client))) == 2:
            return count
    raise AssertionError(f"one worker took all {LIMIT} requests")


def test_a_rule_posted_once_answers_every_request_whichever_worker_takes_it(
    server: Served,
) -> None:
    with server.client() as client:
        assert client.post("/_mock/scenarios", content=PING).status_code == 200
        replies: list[str] = []
        sent = until_both_workers(
            client, lambda n: replies.append(content(chat(client, f"ping {n}"))), 20
        )
        entries = journal(client)
    assert replies == ["pong"] * sent
    assert [entry["rule"] for entry in entries] == ["ping"] * sent


def test_the_journal_shows_every_request_exactly_once(server: Served) -> None:
    sent = []
    with server.client() as client:
        for n in range(12):
            sent.append(f"marker-{n}-chat")
            chat(client, sent[-1])
            sent.append(f"marker-{n}-messages")
            body = {
                "model": "claude-sonnet-4-0",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": sent[-1]}],
            }
            client.post("/v1/messages", json=body, headers={"x-api-key": KEY})
        # Each worker answers the journal in turn: both see all of it.
        views = [journal(client) for _ in range(4)]
    for entries in views:
        assert [e["body"]["messages"][0]["content"] for e in entries] == sent
        assert len({e["seq"] for e in entries}) == len(sent)
        assert len(workers_of(entries)) == 2
        assert KEY not in str(entries)


def test_a_responses_chain_continues_on_whichever_worker(server: Served) -> None:
    with server.client() as http:
        assert http.post("/_mock/scenarios", content=TURNS).status_code == 200
        sdk = openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, http_client=http)
        said: list[str] = []
        previous: list[str] = []

        def next_turn(n: int) -> None:
            response = sdk.responses.create(
                model="gpt-4o-mini",
                input="next turn",
                previous_response_id=previous[-1] if previous else openai.NOT_GIVEN,
            )
            said.append(response.output_text)
            previous.append(response.id)

        turns = until_both_workers(http, next_turn, 8)
        kept = sdk.responses.retrieve(previous[-1])
    assert said == [f"turn {n}" for n in range(turns)]  # each turn saw every earlier one
    assert kept.output_text == f"turn {turns - 1}"


def test_a_sequence_advances_once_per_request(server: Served) -> None:
    with server.client() as client:
        assert client.post("/_mock/scenarios", content=STEPS).status_code == 200
        replies: list[str] = []
        sent = until_both_workers(
            client, lambda n: replies.append(content(chat(client, "step"))), 9
        )
    assert replies == [f"s{n}" for n in range(1, 9)] + ["s8"] * (sent - 8)


def test_two_workers_answer_byte_for_byte_like_one(server: Served) -> None:
    texts = ["alpha", "beta", "alpha", "gamma", "beta", "alpha"]  # repeats: occurrences count
    two: list[bytes] = []
    with server.client() as client:
        sent = until_both_workers(
            client, lambda n: two.append(chat(client, texts[n % 6]).content), 6
        )
    with TestClient(create_app(Settings())) as alone:
        one = [chat(alone, texts[n % 6]).content for n in range(sent)]
    assert two == one
    assert len(set(two)) == len(two)


def test_info_logs_one_line_per_request_and_never_the_key(server: Served) -> None:
    with server.client() as client:
        sent = until_both_workers(client, lambda n: chat(client, f"logged {n}", "gpt-4.1"), 4)
    deadline = time.monotonic() + 10  # each worker writes its own lines
    while server.stderr().count("model=gpt-4.1 ") < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in server.stderr().splitlines() if "model=gpt-4.1 " in line]
    assert len(lines) == sent
    assert all(
        re.search(
            r"POST /v1/chat/completions model=gpt-4.1 rule=- status=200 usage=\d+\+\d+ ", line
        )
        for line in lines
    )
    assert KEY[3:12] not in server.stderr()


def test_a_restart_on_the_state_file_keeps_what_it_should(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    args = ("--workers", "2", "--state", str(state))
    with serve(*args, logs=tmp_path / "first") as first, first.client() as client:
        assert client.post("/_mock/scenarios", content=STEPS).status_code == 200
        assert [content(chat(client, "step")) for _ in range(2)] == ["s1", "s2"]
        stored = client.post(
            "/v1/responses", json={"model": "gpt-4o-mini", "input": "keep me"}, headers=AUTH
        ).json()
        repeated = chat(client, "same words").content
    assert "state: " in (tmp_path / "first" / "stdout.txt").read_text()
    with serve(*args, logs=tmp_path / "second") as second, second.client() as client:
        assert content(chat(client, "step")) == "s3"  # sequence state and the rule survive
        found = client.get(f"/v1/responses/{stored['id']}", headers=AUTH)
        assert found.json() == stored
        again = chat(client, "same words").content
        entries = journal(client)
    assert again != repeated  # its second occurrence: counted across the restart
    assert [e["endpoint"] for e in entries][:4] == [
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/chat/completions",
    ]
    assert state.exists()


def test_a_prompt_cached_by_one_worker_is_read_by_the_other(server: Served) -> None:
    handbook = "Every employee reads the security policy before the first day. " * 160
    body = {
        "model": "claude-sonnet-4-0",
        "max_tokens": 16,
        "system": [{"type": "text", "text": handbook, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Summarise."}],
    }
    usages: list[dict[str, Any]] = []
    with server.client() as client:

        def send(_: int) -> None:
            headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
            response = client.post("/v1/messages", json=body, headers=headers)
            assert response.status_code == 200, response.text
            usages.append(response.json()["usage"])

        until_both_workers(client, send, 4)
    written = usages[0]["cache_creation_input_tokens"]
    assert written > 1024 and usages[0]["cache_read_input_tokens"] == 0
    assert all(u["cache_read_input_tokens"] == written for u in usages[1:])
    assert all(u["cache_creation_input_tokens"] == 0 for u in usages[1:])


def test_a_gemini_cache_made_on_one_worker_is_read_on_every_worker(server: Served) -> None:
    gemini = {"x-goog-api-key": KEY}
    handbook = "Section: every employee reads the security policy first. " * 150
    cache_body = {
        "model": "models/gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": handbook}]}],
        "ttl": "600s",
    }
    counts: list[int] = []
    with server.client() as client:
        created = client.post("/v1beta/cachedContents", json=cache_body, headers=gemini)
        assert created.status_code == 200, created.text
        cache = created.json()

        def generate(n: int) -> None:
            body = {
                "contents": [{"role": "user", "parts": [{"text": f"question {n}"}]}],
                "cachedContent": cache["name"],
            }
            path = "/v1beta/models/gemini-2.5-flash:generateContent"
            answer = client.post(path, json=body, headers=gemini)
            assert answer.status_code == 200, answer.text
            counts.append(answer.json()["usageMetadata"]["cachedContentTokenCount"])

        until_both_workers(client, generate, 4)
        listed = client.get("/v1beta/cachedContents", headers=gemini).json()
    assert set(counts) == {cache["usageMetadata"]["totalTokenCount"]}
    assert [c["name"] for c in listed["cachedContents"]] == [cache["name"]]
