"""The memo: a request sent again is answered from what its content always gives, and the
response is byte-identical to one made from scratch."""

from __future__ import annotations

import textwrap
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from mockserver.engine import memo
from mockserver.engine.memo import Memo, Prepared
from mockserver.http.app import create_app
from mockserver.scenario import ScenarioSet, load_text
from mockserver.server_state import MockState
from mockserver.settings import Settings

SCENARIO = """\
version: 1
seed: 3
rules:
  - name: plain
    match: {last_user: {contains: "plain"}}
    reply: {content: "A fixed answer."}
  - name: steps
    match: {last_user: {contains: "steps"}}
    sequence:
      - reply: {content: "first"}
      - reply: {content: "second"}
  - name: flaky
    match: {last_user: {contains: "flaky"}}
    fail_times: 1
    fault: {status: 503}
    reply: {content: "recovered"}
  - name: vip
    match: {last_user: {contains: "who"}, headers: {x-tier: "gold"}}
    reply: {content: "gold"}
  - name: retried
    match: {last_user: {contains: "retry"}, headers: {x-stainless-retry-count: "1"}}
    reply: {content: "second try"}
  - name: fake
    match: {last_user: {contains: "fake"}}
    reply: {content: {fake_tokens: 12}}
"""
AUTH = {"authorization": "Bearer sk-test"}


def state_for(text: str = SCENARIO) -> MockState:
    return MockState(Settings(), ScenarioSet.build([load_text(textwrap.dedent(text), "s.yaml")]))


def chat(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}], **extra}


def send(client: TestClient, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/v1/chat/completions", content=orjson.dumps(body), headers=AUTH | headers)


def test_a_replayed_response_is_byte_identical_to_one_made_from_scratch() -> None:
    # Server A answers the same request three times from its memo; server B is made to miss the
    # memo every time (an extra header is part of the memo key, not of the request's content).
    with (
        TestClient(create_app(state=state_for())) as a,
        TestClient(create_app(state=state_for())) as b,
    ):
        for stream in (False, True):
            body = chat("plain please", stream=stream)
            memoized = [send(a, body) for _ in range(3)]
            fresh = [send(b, body, **{"x-nonce": str(i)}) for i in range(3)]
            assert [r.content for r in memoized] == [r.content for r in fresh]
            assert [r.headers["x-request-id"] for r in memoized] == [
                r.headers["x-request-id"] for r in fresh
            ]


def test_each_occurrence_still_gets_its_own_id_and_created() -> None:
    with TestClient(create_app(state=state_for())) as client:
        replies = [send(client, chat("plain")).json() for _ in range(3)]
    assert len({r["id"] for r in replies}) == 3
    assert [r["created"] - replies[0]["created"] for r in replies] == [0, 1, 2]
    assert {r["choices"][0]["message"]["content"] for r in replies} == {"A fixed answer."}


def test_sequences_and_fail_times_advance_on_the_same_body() -> None:
    with TestClient(create_app(state=state_for())) as client:
        steps = [
            send(client, chat("steps")).json()["choices"][0]["message"]["content"] for _ in "ab"
        ]
        flaky = [send(client, chat("flaky")) for _ in "ab"]
    assert steps == ["first", "second"]
    assert [r.status_code for r in flaky] == [503, 200]
    assert flaky[1].json()["choices"][0]["message"]["content"] == "recovered"


def test_fake_text_changes_between_occurrences() -> None:
    with TestClient(create_app(state=state_for())) as client:
        texts = {
            send(client, chat("fake")).json()["choices"][0]["message"]["content"] for _ in "ab"
        }
        defaults = {send(client, chat("nothing scripted")).json()["id"] for _ in "ab"}
    assert len(texts) == 2
    assert len(defaults) == 2


def test_headers_a_rule_matches_on_are_part_of_the_key() -> None:
    with TestClient(create_app(state=state_for())) as client:
        body = chat("who am i")
        gold = send(client, body, **{"x-tier": "gold"}).json()
        plain = send(client, body, **{"x-tier": "silver"}).json()
        again = send(client, body, **{"x-tier": "gold"}).json()
        # SDK retry counters are left out of the key, unless a rule reads them.
        retried = [
            send(client, chat("retry"), **{"x-stainless-retry-count": n}).json() for n in "01"
        ]
    assert gold["choices"][0]["message"]["content"] == "gold"
    assert plain["choices"][0]["message"]["content"] != "gold"
    assert again["choices"][0]["message"]["content"] == "gold"
    assert retried[1]["choices"][0]["message"]["content"] == "second try"
    assert retried[0]["choices"][0]["message"]["content"] != "second try"


def test_a_fault_header_bypasses_the_memo() -> None:
    with TestClient(create_app(state=state_for())) as client:
        body = chat("plain")
        assert send(client, body).status_code == 200
        assert send(client, body, **{"x-mock-fault": "status=500"}).status_code == 500
        assert send(client, body).status_code == 200


def test_loading_scenarios_starts_a_new_memo() -> None:
    state = state_for()
    with TestClient(create_app(state=state)) as client:
        body = chat("plain")
        assert send(client, body).json()["choices"][0]["message"]["content"] == "A fixed answer."
        state.load(
            ScenarioSet.build(
                [
                    load_text(
                        "version: 1\nrules:\n  - name: all\n    reply: {content: replaced}\n",
                        "t.yaml",
                    )
                ]
            )
        )
        assert send(client, body).json()["choices"][0]["message"]["content"] == "replaced"


def test_replayed_requests_are_journaled_like_any_other() -> None:
    state = state_for()
    with TestClient(create_app(state=state)) as client:
        for _ in range(2):
            send(client, chat("plain"), **{"x-api-key": "sk-secret-value"})
    first, second = state.journal.entries()
    for entry in (first, second):
        assert entry.rule == "plain"
        assert entry.status == 200
        assert entry.body == chat("plain")
        assert entry.usage == first.usage and entry.usage is not None
        assert "secret" not in entry.headers["x-api-key"]
    assert second.retry_group == first.retry_group


def test_a_stored_conversation_is_read_afresh() -> None:
    # `previous_response_id` reads the Responses store: deleting the stored response must show.
    with TestClient(create_app(state=state_for())) as client:
        first = client.post(
            "/v1/responses", json={"model": "gpt-4o-mini", "input": "plain"}, headers=AUTH
        )
        follow = {
            "model": "gpt-4o-mini",
            "input": "plain",
            "previous_response_id": first.json()["id"],
        }
        assert client.post("/v1/responses", json=follow, headers=AUTH).status_code == 200
        assert client.delete(f"/v1/responses/{first.json()['id']}", headers=AUTH).status_code == 200
        gone = client.post("/v1/responses", json=follow, headers=AUTH)
        assert gone.status_code == 400
        assert gone.json()["error"]["param"] == "previous_response_id"


def test_embeddings_are_sent_again_as_they_are() -> None:
    state = state_for()
    with TestClient(create_app(state=state)) as client:
        body = {"model": "text-embedding-3-small", "input": "hello"}
        replies = [client.post("/v1/embeddings", json=body, headers=AUTH) for _ in range(2)]
    assert replies[0].content == replies[1].content
    assert [e.model for e in state.journal.entries()] == ["text-embedding-3-small"] * 2
    assert len(state.memo) == 1


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "MAX_ENTRIES", 2)
    kept = Memo()
    scope = {"path": "/v1/chat/completions", "query_string": b"", "headers": []}
    keys = [kept.key(scope, str(i).encode()) for i in range(3)]
    nothing: Any = None  # the memo only stores what it is given
    for key in keys:
        kept.put(key, Prepared(nothing, nothing, nothing, nothing, 0, "group"))
    assert len(kept) == 2
    assert kept.prepared(keys[0]) is None
    assert kept.prepared(keys[2]) is not None


def test_big_bodies_and_fault_headers_have_no_key() -> None:
    kept = Memo()
    scope = {"path": "/p", "query_string": b"", "headers": [(b"x-mock-fault", b"status=500")]}
    assert kept.key(scope, b"{}") is None
    assert kept.key({**scope, "headers": []}, b"x" * (memo.MAX_BODY_BYTES + 1)) is None


def test_near_misses_are_journaled_for_every_occurrence() -> None:
    state = state_for()
    with TestClient(create_app(state=state)) as client:
        for _ in range(2):
            send(client, chat("nothing scripted"))
    first, second = state.journal.entries()
    assert first.rule is None and first.near_misses
    assert second.near_misses == first.near_misses


def test_a_paced_rule_is_replayed_with_its_latency() -> None:
    paced = """\
    version: 1
    rules:
      - name: paced
        latency: {ttft: 0.01, tokens_per_second: 2000}
        reply: {content: "Slow and steady."}
    """
    state = state_for(paced)
    with (
        TestClient(create_app(state=state)) as a,
        TestClient(create_app(state=state_for(paced))) as b,
    ):
        body = chat("anything", stream=True)
        replayed = [send(a, body).content for _ in range(2)]
        fresh = [send(b, body, **{"x-nonce": str(i)}).content for i in range(2)]
    assert replayed == fresh
    (prepared,) = [p for p in state.memo._entries.values() if isinstance(p, Prepared)]
    assert prepared.static is not None
    assert prepared.static.latency is not None and prepared.static.latency.ttft == 0.01
