"""The dashboard's page and the routes it reads: guard, feed, detail, copy as rule, usage."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import httpx
import orjson
import pytest
import yaml
from starlette.testclient import TestClient

from mockserver.admin.feed import COLUMNS, Cursor, row
from mockserver.http.app import MockApp, create_app
from mockserver.journal.journal import Journal
from mockserver.settings import Settings
from tests.conftest import StartServer

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

KEY = "sk-secret-0123456789abcdef"
GREETING = """\
version: 1
rules:
  - name: greeting
    match: {last_user: hello}
    reply: {content: "Hello there."}
  - name: never
    match: {last_user: nobody says this}
    reply: {content: "Unused."}
"""


YAML = {"content-type": "application/yaml"}


def client_for(**options: Any) -> TestClient:
    return TestClient(
        create_app(Settings(**options)),
        base_url="http://localhost",
        headers={
            "authorization": f"Bearer {KEY}",
            "x-api-key": KEY,
            "anthropic-version": "2023-06-01",
        },
    )


def chat(client: TestClient | httpx.Client, text: str, model: str = "gpt-4o") -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


# --- The page and its guard --------------------------------------------------------------------


def test_the_page_and_its_files_are_served_from_the_package_with_a_strict_policy() -> None:
    client = client_for()
    page = client.get("/_mock/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert '<script src="/_mock/ui/dashboard.js"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    script = client.get("/_mock/ui/dashboard.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" not in script.text  # the feed is read with fetch: it sends the token
    assert client.get("/_mock/ui/dashboard.css").status_code == 200


def test_an_unknown_file_names_the_files_there_are() -> None:
    found = client_for().get("/_mock/ui/secrets.txt")
    assert found.status_code == 404
    assert "dashboard.css, dashboard.js" in found.json()["error"]["message"]


def test_with_a_token_the_page_opens_but_every_route_it_reads_needs_the_token() -> None:
    client = TestClient(create_app(Settings(admin_token="t0ken")), base_url="http://localhost")
    assert client.get("/_mock/ui").status_code == 200  # static: no data in it
    for path in ("/_mock/events", "/_mock/requests/1", "/_mock/scenarios/usage", "/_mock/tasks"):
        assert client.get(path).status_code == 401, path
    authorized = {"authorization": "Bearer t0ken"}
    assert client.get("/_mock/scenarios/usage", headers=authorized).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"host": "evil.example:8000"}, {"origin": "http://evil.example"}],
    ids=["rebound-host", "foreign-origin"],
)
def test_the_page_refuses_other_sites_like_the_admin_api(headers: dict[str, str]) -> None:
    client = client_for()
    assert client.get("/_mock/ui", headers=headers).status_code == 403
    assert client.get("/_mock/scenarios/usage", headers=headers).status_code == 403


def test_no_page_on_a_public_bind_without_a_token() -> None:
    client = client_for(host="0.0.0.0")
    assert client.get("/_mock/ui").status_code == 403


# --- One request in detail, and copy as rule ---------------------------------------------------


def test_the_detail_of_a_request_carries_its_body_masked_and_its_near_misses(tmp_path: Any) -> None:
    scenario = tmp_path / "greeting.yaml"
    scenario.write_text(GREETING)
    client = client_for(scenario_paths=[str(scenario)])
    chat(client, f"my key is {KEY}, goodbye")
    detail = client.get("/_mock/requests/1").json()
    assert detail["model"] == "gpt-4o" and detail["rule"] is None and detail["status"] == 200
    assert KEY not in orjson.dumps(detail).decode()
    assert detail["headers"]["authorization"].startswith("Bearer sk-")
    misses = {miss["rule"]: miss["failed"] for miss in detail["near_misses"]}
    got = "got 'my key is sk-***, goodbye'"
    assert misses["greeting"] == [f"last_user: expected to contain 'hello', {got}"]
    missing = client.get("/_mock/requests/99")
    assert missing.status_code == 404 and "#99" in missing.json()["error"]["message"]


CHAT_REQUESTS = [
    (
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": 'say "yes": \n ok'}]},
    ),
    ("/v1/responses", {"model": "gpt-4o", "input": "a responses question"}),
    (
        "/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "bonjour"}]}],
        },
    ),
    (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "a gemini question"}]}]},
    ),
]


@pytest.mark.parametrize(("path", "body"), CHAT_REQUESTS, ids=lambda v: str(v)[:20])
def test_copy_as_rule_yields_a_scenario_the_server_accepts_and_that_matches_again(
    path: str, body: dict[str, Any]
) -> None:
    client = client_for()
    sent = client.post(path, json=body, headers={"x-goog-api-key": KEY})
    assert sent.status_code == 200, sent.text
    copied = client.get("/_mock/requests/1/rule")
    assert copied.headers["content-type"].startswith("application/yaml")
    rule = yaml.safe_load(copied.text)["rules"][0]
    assert rule["name"] == "copied-1"
    assert rule["match"]["model"]
    assert rule["match"]["last_user"]["equals"]
    loaded = client.post(
        "/_mock/scenarios", content=copied.text, headers={"content-type": "application/yaml"}
    )
    assert loaded.status_code == 200, loaded.text
    client.post(path, json=body, headers={"x-goog-api-key": KEY})
    assert client.get("/_mock/requests/2").json()["rule"] == "copied-1"


def test_copy_as_rule_says_so_when_there_is_nothing_to_match_on() -> None:
    client = client_for()
    assert client.post("/v1/chat/completions", json={}).status_code == 400
    refused = client.get("/_mock/requests/1/rule")
    assert refused.status_code == 409
    assert "no model and no user message" in refused.json()["error"]["message"]


PACED = """\
version: 1
rules:
  - name: paced
    match: {model: gpt-4o}
    latency: {ttft: 0.02, tokens_per_second: 2000}
    sequence:
      - fault: {disconnect_after: 3}
      - reply: {content: "one two three four five six seven eight nine ten"}
"""


def test_a_paced_stream_s_detail_carries_its_timeline_and_where_a_fault_cut_it(
    start_server: StartServer,
) -> None:
    server = start_server(PACED)
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {KEY}"}) as client:
        body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "x"}]}
        for _ in range(2):  # the rule's sequence: cut after 3 events, then whole
            try:
                with client.stream("POST", "/v1/chat/completions", json=body) as response:
                    for _ in response.iter_bytes():
                        pass
            except httpx.HTTPError:  # the cut stream ends without its terminator
                pass
        cut = client.get("/_mock/requests/1").json()
        paced = client.get("/_mock/requests/2").json()
    due = paced["timeline"]
    assert due[0] == 20.0  # the first event due at the rule's ttft
    assert due == sorted(due) and len(due) == paced["events_sent"] > 3
    assert cut["fault"] and cut["events_sent"] == 3, cut
    assert cut["timeline"] == due[:3]  # the same plan, cut where the fault says
    # Measured: when each event left, never before it was due; the response as sent.
    sent = paced["sent_at"]
    assert len(sent) == paced["events_sent"] and sent == sorted(sent)
    assert all(left >= planned - 1.0 for left, planned in zip(sent, due, strict=True))
    assert len(cut["sent_at"]) == 3
    assert paced["response"].endswith("data: [DONE]\n\n")
    assert cut["response"].count("data: ") == 3  # only the three events that went out


def test_the_journal_keeps_each_response_body_as_sent_credentials_masked() -> None:
    client = client_for()
    secret = "sk-" + "x" * 40
    client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": secret}]},
        headers={"authorization": "Bearer " + secret},
    )
    refused = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini"})
    answered, error = client.get("/_mock/requests").json()["requests"]
    assert answered["response"].startswith('{"id":"chatcmpl-')
    assert error["response"] == refused.text  # the error the client got, byte for byte
    assert secret not in str(answered)


# --- Scenarios and tasks -----------------------------------------------------------------------


def test_usage_counts_hits_per_rule_and_lists_rules_never_used(tmp_path: Any) -> None:
    scenario = tmp_path / "greeting.yaml"
    scenario.write_text(GREETING)
    client = client_for(scenario_paths=[str(scenario)])
    chat(client, "hello")
    chat(client, "hello again")
    chat(client, "something else")
    usage = client.get("/_mock/scenarios/usage").json()
    assert usage["scenarios"] == [str(scenario)]
    assert [(r["name"], r["hits"]) for r in usage["rules"]] == [("greeting", 2), ("never", 0)]
    assert usage["unused"] == ["never"]
    assert usage["default_replies"] == 1
    assert usage["rules"][0]["where"].startswith(str(scenario))


def test_usage_shows_a_refused_load_with_its_locations_until_a_load_succeeds() -> None:
    client = client_for()
    assert client.get("/_mock/scenarios/usage").json()["refused"] is None
    bad = (
        "version: 1\nrules:\n  - name: typo\n    match: {modle: gpt-4o}\n    reply: {content: hi}\n"
    )
    refused = client.post("/_mock/scenarios", content=bad, headers=YAML)
    assert refused.status_code == 400
    shown = client.get("/_mock/scenarios/usage").json()["refused"]
    assert shown["message"] == refused.json()["error"]["message"]
    [issue] = shown["issues"]
    assert (issue["line"], issue["column"]) == (4, 13) and "modle" in issue["message"]
    assert "model" in issue["message"]  # the valid alternative named
    good = bad.replace("modle", "model")
    assert client.post("/_mock/scenarios", content=good, headers=YAML).status_code == 200
    assert client.get("/_mock/scenarios/usage").json()["refused"] is None


def test_tasks_lists_submitted_tasks_and_refuses_an_unknown_family() -> None:
    client = client_for()
    made = client.post("/v1/videos", json={"model": "sora-2", "prompt": "a cat"})
    assert made.status_code == 200, made.text
    listed = client.get("/_mock/tasks").json()["tasks"]
    assert [(t["family"], t["prompt"]) for t in listed] == [("video", "a cat")]
    assert listed[0]["previews"] == []  # nothing to show before it succeeds
    refused = client.get("/_mock/tasks?family=cats")
    message = refused.json()["error"]["message"]
    assert refused.status_code == 400 and message.endswith("families with tasks: video")
    assert client.get("/_mock/tasks?colour=red").status_code == 400


def test_a_finished_task_lists_previews_the_server_answers() -> None:
    client = client_for()
    video = client.post("/v1/videos", json={"model": "sora-2", "prompt": "a cat"}).json()
    imagine = client.post("/mj/submit/imagine", json={"prompt": "a dog"}).json()
    for _ in range(8):  # advance-on-poll: each fetch moves a task one step
        client.get(f"/v1/videos/{video['id']}")
        client.get(f"/mj/task/{imagine['result']}/fetch")
    listed = {t["family"]: t for t in client.get("/_mock/tasks").json()["tasks"]}
    assert [p["kind"] for p in listed["video"]["previews"]] == ["video", "image"]
    assert [p["kind"] for p in listed["midjourney"]["previews"]] == ["image"]
    seedance = client.post(
        "/volc/v1/contents/generations/tasks",
        json={
            "model": "doubao-seedance-1-0-pro-250528",
            "content": [{"type": "text", "text": "x"}],
        },
    ).json()
    for _ in range(8):
        client.get(f"/volc/v1/contents/generations/tasks/{seedance['id']}")
    listed = {t["family"]: t for t in client.get("/_mock/tasks").json()["tasks"]}
    assert [p["kind"] for p in listed["doubao"]["previews"]] == ["video"]
    expected = {"video": "video/mp4", "image": "image/"}
    for task in listed.values():
        assert task["status"] == "SUCCESS"
        for preview in task["previews"]:
            served = client.get(preview["url"])
            assert served.status_code == 200, preview
            assert served.headers["content-type"].startswith(expected[preview["kind"]]), preview


def test_balances_say_when_gateway_mode_is_off_and_list_every_key_when_on(tmp_path: Any) -> None:
    from tests.gateway.gateway_scenario import KEYS, SCENARIO

    assert client_for().get("/_mock/gateway/balances").json() == {
        "on": False,
        "keys": [],
        "usage": [],
    }
    scenario = tmp_path / "gateway.yaml"
    scenario.write_text(SCENARIO)
    client = client_for(scenario_paths=[str(scenario)])
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    headers = {"authorization": "Bearer " + KEYS["main"]}
    assert client.post("/v1/chat/completions", json=body, headers=headers).status_code == 200
    found = client.get("/_mock/gateway/balances").json()
    main = found["keys"][0]
    assert main["name"] == "main" and main["spent"] > 0
    assert main["key"] != KEYS["main"] and KEYS["main"] not in orjson.dumps(found).decode()
    assert [(u["key_name"], u["model"]) for u in found["usage"]] == [("main", "gpt-4o-mini")]
    assert client.get("/_mock/requests/1").json()["key_name"] == "main"


# --- The feed ----------------------------------------------------------------------------------


def test_the_cursor_sends_late_closers_once_and_a_reset() -> None:
    journal = Journal(100)
    cursor = Cursor(journal)
    with journal.closing() as slow:
        long_stream = journal.open("POST", "/v1/chat/completions", {})
        with journal.closing():
            quick = journal.open("POST", "/v1/chat/completions", {})
            quick.status = 200
        assert _events(cursor.hello()) == [("hello", {"generation": 0}), ("row", 2)]
        long_stream.status = 200
    assert _events(cursor.poll()) == [("row", 1)]  # #1 closed after #2: still sent
    assert slow.closed == 1
    assert cursor.poll() == b""
    journal.reset()
    assert _events(cursor.poll()) == [("reset", {"generation": 1})]


def test_on_a_memory_journal_a_watched_entry_is_sent_once_answered() -> None:
    """A page open: the entry is in the log from the start, with its status before its stream
    ends; the feed waits for its `done` time. One opened before any page, or outside a
    request, nobody closes: it goes out once it has its status."""
    journal = Journal(100)
    unwatched = journal.open("POST", "/v1/chat/completions", {})
    cursor = Cursor(journal)
    assert _events(cursor.hello()) == [("hello", {"generation": 0})]
    watched = journal.open("POST", "/v1/chat/completions", {})
    watched.watched, watched.status, watched.stream = True, 200, True
    assert cursor.poll() == b""  # streaming still
    unwatched.status = 200
    assert _events(cursor.poll()) == [("row", 1)]
    watched.events_sent = 3
    journal.answered([watched])
    [(name, row)] = _rows(cursor.poll())
    assert (name, row["seq"], row["events_sent"]) == ("row", 2, 3)
    assert row["duration_ms"] is not None and row["duration_ms"] >= 0
    assert cursor.poll() == b""


def test_a_poll_sends_its_rows_in_one_frame_named_by_the_hello_s_columns() -> None:
    journal = Journal(100)
    cursor = Cursor(journal)
    hello = cursor.hello()
    assert _frames(hello) == [("hello", {"generation": 0, "columns": list(COLUMNS)})]
    for model in ("gpt-4o", "gpt-4o-mini", "o3"):
        entry = journal.open("POST", "/v1/chat/completions", {})
        entry.model, entry.status = model, 200
    [(name, payload)] = _frames(cursor.poll())
    assert name == "rows" and isinstance(payload["clock"], float)
    assert [values[COLUMNS.index("model")] for values in payload["rows"]] == [
        "gpt-4o",
        "gpt-4o-mini",
        "o3",
    ]
    assert all(len(values) == len(COLUMNS) for values in payload["rows"])


def test_the_cursor_reads_every_worker_s_entries_on_a_shared_store(tmp_path: Any) -> None:
    from mockserver.store.sqlite import SqliteStore

    store = SqliteStore(str(tmp_path / "state.db"), durable=False)
    try:
        writer = Journal(100, store.log("journal", 100), shared=True)  # another worker's
        reader = Journal(100, store.log("journal", 100), shared=True)
        cursor = Cursor(reader)
        assert _events(cursor.hello()) == [("hello", {"generation": 0})]
        with writer.closing():
            entry = writer.open("POST", "/v1/chat/completions", {"authorization": f"Bearer {KEY}"})
            entry.status, entry.model = 200, "gpt-4o"
        [(name, row)] = _rows(cursor.poll())
        assert name == "row" and row["model"] == "gpt-4o" and row["duration_ms"] is not None
    finally:
        store.close()


def _frames(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The feed's events as sent: (name, payload)."""
    found = []
    for frame in data.decode().split("\n\n"):
        if frame:
            name, payload = frame.split("\n")
            found.append((name.removeprefix("event: "), orjson.loads(payload[len("data: ") :])))
    return found


def _expand(name: str, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A `rows` event as the page reads it: one ("row", object) per row, with the request's
    wall time and duration from its monotonic times; any other event as it is."""
    if name != "rows":
        return [(name, payload)]
    found = []
    for values in payload["rows"]:
        row = dict(zip(COLUMNS, values, strict=True))
        row["time"] = payload["clock"] + row["at"]
        done = row["done"]
        row["duration_ms"] = None if done is None else round((done - row["at"]) * 1000, 1)
        found.append(("row", row))
    return found


def _rows(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    return [event for frame in _frames(data) for event in _expand(*frame)]


def _events(data: bytes) -> list[tuple[str, Any]]:
    """The rows by number; other events by payload (the hello without its columns)."""
    found: list[tuple[str, Any]] = []
    for name, value in _rows(data):
        if name == "hello":
            value = {k: v for k, v in value.items() if k != "columns"}
        found.append((name, value["seq"] if name == "row" else value))
    return found


def journal_of(server: ServerThread) -> Journal:
    return cast(MockApp, server.app).mock.journal


def read_events(lines: Iterator[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next `count` events, a `rows` event's rows one by one (`_expand`)."""
    found: list[tuple[str, dict[str, Any]]] = []
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            found += _expand(name, orjson.loads(line.removeprefix("data: ")))
            if len(found) >= count:
                assert len(found) == count, f"expected {count} events, got {found}"
                return found
    raise AssertionError(f"the feed ended after {found}")


def test_the_feed_streams_requests_as_they_close_and_stops_when_the_page_leaves(
    start_server: StartServer,
) -> None:
    server = start_server(GREETING)
    journal = journal_of(server)
    headers = {"authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        chat(client, "hello")  # before the page: sent as the backlog
        with client.stream("GET", "/_mock/events") as feed:
            assert feed.headers["content-type"].startswith("text/event-stream")
            lines = feed.iter_lines()
            hello, backlog = read_events(lines, 2)
            assert hello == ("hello", {"generation": 0, "columns": list(COLUMNS)})
            assert backlog[1]["rule"] == "greeting" and backlog[1]["seq"] == 1
            assert journal.watchers == 1  # the server closes entries for the feed now
            chat(client, "hi there", model="gpt-4o-mini")
            [(name, row)] = read_events(lines, 1)
            assert name == "row"
            assert row["seq"] == 2 and row["model"] == "gpt-4o-mini" and row["rule"] is None
            assert row["status"] == 200 and row["usage"]["completion_tokens"] > 0
            assert row["duration_ms"] is not None and row["duration_ms"] >= 0
            assert row["endpoint"] == "/v1/chat/completions" and row["dialect"] == "openai.chat"
            client.post("/_mock/reset")
            assert read_events(lines, 1) == [("reset", {"generation": 1})]
        for _ in range(200):  # the server notices the page left within a poll or two
            if journal.watchers == 0:
                break
            time.sleep(0.05)
        assert journal.watchers == 0


def test_with_a_page_open_a_memory_journal_only_stamps_each_answer() -> None:
    """A page watching a memory journal: the entry is in the log while the request runs (no
    `closing` block), and gets its `done` time once answered."""
    client = client_for()
    journal = cast(MockApp, client.app).mock.journal
    seen_in_flight: list[bool] = []
    journal.watchers += 1  # what an open feed does
    original = journal.open_raw

    def open_raw(*args: Any) -> Any:
        entry = original(*args)
        seen_in_flight.append(any(e is entry for e in journal.closed()))
        return entry

    journal.open_raw = open_raw  # type: ignore[method-assign]
    chat(client, "hello")
    [entry] = journal.entries()
    assert seen_in_flight == [True]
    assert entry.watched and entry.done is not None and entry.done >= entry.at
    assert entry.finished
    journal.watchers -= 1
    chat(client, "hello")  # the page gone: the short way again
    assert [(e.watched, e.done is None) for e in journal.entries()] == [
        (True, False),
        (False, True),
    ]


def test_without_a_page_requests_take_the_short_way(start_server: StartServer) -> None:
    """Nobody listening: entries are not closed for a feed (no `done` time taken)."""
    server = start_server(GREETING)
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {KEY}"}) as client:
        chat(client, "hello")
    journal = journal_of(server)
    assert journal.watchers == 0
    assert [entry.done for entry in journal.entries()] == [None]


def test_a_row_masks_the_key_a_fault_quotes() -> None:
    key = "sk-live-secret-1234567890"
    entry = Journal().open_raw(
        "POST", "/v1/chat/completions", [(b"authorization", b"Bearer " + key.encode())]
    )
    entry.fault = {"status": 500, "message": f"refused for {key}"}
    fault = dict(zip(COLUMNS, row(entry), strict=True))["fault"]
    assert key not in str(fault)
    assert fault["status"] == 500 and "refused for" in fault["message"]
