from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockserver.http.app import create_app
from mockserver.settings import Settings

GREETING = """\
version: 1
rules:
  - name: greeting
    match: {last_user: hello}
    reply: {content: "Hello there."}
"""
WEATHER = """\
version: 1
rules:
  - name: weather
    match: {last_user: weather}
    reply: {content: "Sunny."}
"""
KEY = "sk-secret-0123456789abcdef"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "greeting.yaml").write_text(GREETING)
    (scenarios / "extra").mkdir()
    (scenarios / "extra" / "weather.yaml").write_text(WEATHER)
    (tmp_path / "outside.yaml").write_text(WEATHER)
    return scenarios


def client_for(*paths: Path, **options: Any) -> TestClient:
    settings = Settings(scenario_paths=[str(p) for p in paths], **options)
    return TestClient(
        create_app(settings),
        base_url="http://localhost",  # the admin API answers loopback names only
        headers={"authorization": f"Bearer {KEY}"},
    )


@pytest.fixture
def client(folder: Path) -> TestClient:
    return client_for(folder / "greeting.yaml", folder / "extra")


def chat(client: TestClient, text: str, model: str = "gpt-4o") -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return client.post("/v1/chat/completions", json=body)


def rule_names(client: TestClient) -> list[str]:
    return [rule["name"] for rule in client.get("/_mock/scenarios").json()["rules"]]


def test_health_counts_what_is_loaded(client: TestClient) -> None:
    chat(client, "hello")

    assert client.get("/_mock/health").json() == {
        "status": "ok",
        "scenarios": 2,
        "rules": 2,
        "requests": 1,
        "journal_size": 1000,
    }


def test_a_posted_yaml_scenario_is_appended_and_answers(client: TestClient) -> None:
    posted = """\
    version: 1
    rules:
      - name: joke
        match: {last_user: joke}
        reply: {content: "Knock knock."}
    """
    response = client.post("/_mock/scenarios", content=textwrap.dedent(posted))

    assert response.status_code == 200
    assert response.json()["added"] == ["<POST /_mock/scenarios>"]
    assert rule_names(client) == ["greeting", "weather", "joke"]
    assert chat(client, "tell me a joke").json()["choices"][0]["message"]["content"] == (
        "Knock knock."
    )


def test_a_json_scenario_with_replace_drops_the_others(client: TestClient) -> None:
    scenario = {
        "version": 1,
        "rules": [{"name": "only", "match": {"last_user": "x"}, "reply": {"content": "y"}}],
    }
    response = client.post("/_mock/scenarios?replace=true", json=scenario)

    assert response.status_code == 200
    assert rule_names(client) == ["only"]


def test_a_bad_scenario_is_rejected_with_line_and_column_and_nothing_changes(
    client: TestClient,
) -> None:
    before = client.get("/_mock/scenarios").json()
    bad = "version: 1\nrules:\n  - name: oops\n    mach: {last_user: hi}\n    reply: {content: x}\n"

    response = client.post("/_mock/scenarios?replace=true", content=bad)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "scenario_error"
    assert error["issues"] == [
        {
            "file": "<POST /_mock/scenarios>",
            "line": 4,
            "column": 5,
            "path": "rules[0].mach",
            "message": error["issues"][0]["message"],
        }
    ]
    assert "did you mean 'match'?" in error["message"]
    assert error["message"].startswith("<POST /_mock/scenarios>:4:5: unknown key 'mach'")
    assert client.get("/_mock/scenarios").json() == before


def test_a_duplicate_rule_name_is_rejected_and_nothing_changes(client: TestClient) -> None:
    response = client.post("/_mock/scenarios", content=GREETING)

    assert response.status_code == 400
    assert "duplicate rule name 'greeting'" in response.json()["error"]["message"]
    assert rule_names(client) == ["greeting", "weather"]


def test_invalid_json_is_located(client: TestClient) -> None:
    response = client.post(
        "/_mock/scenarios",
        content=b'{"version": 1,\n "rules": [}',
        headers={"content-type": "application/json"},
    )

    issue = response.json()["error"]["issues"][0]
    assert response.status_code == 400
    assert (issue["line"], issue["column"]) == (2, 12)
    assert issue["message"].startswith("invalid JSON")


def test_an_empty_body_is_rejected(client: TestClient) -> None:
    response = client.post("/_mock/scenarios", content=b"  ")

    assert response.status_code == 400
    assert "the body is empty" in response.json()["error"]["message"]


def test_delete_goes_back_to_the_startup_scenarios_or_to_none(client: TestClient) -> None:
    client.post("/_mock/scenarios?replace=true", json={"version": 1})
    assert rule_names(client) == []

    assert client.delete("/_mock/scenarios").status_code == 200
    assert rule_names(client) == ["greeting", "weather"]

    client.delete("/_mock/scenarios?all=true")
    assert rule_names(client) == []


def test_reset_forgets_the_journal_and_keeps_the_scenarios(client: TestClient) -> None:
    chat(client, "hello")
    response = client.post("/_mock/reset")

    assert response.json()["reset"] is True
    assert client.get("/_mock/requests").json() == {"count": 0, "requests": []}
    assert rule_names(client) == ["greeting", "weather"]


# --- The journal -------------------------------------------------------------------------------


@pytest.fixture
def traffic(client: TestClient) -> TestClient:
    chat(client, "hello")
    chat(client, "weather please", model="gpt-4o-mini")
    chat(client, "something else")
    chat(client, "hello", model="no-such-model")
    return client


@pytest.mark.parametrize(
    ("query", "texts"),
    [
        ("", ["hello", "weather please", "something else", "hello"]),
        ("?rule=greeting", ["hello"]),
        ("?model=gpt-4o-*", ["weather please"]),
        ("?status=404", ["hello"]),
        (
            "?dialect=openai.chat&endpoint=/v1/chat/*&status=200",
            ["hello", "weather please", "something else"],
        ),
        ("?dialect=anthropic.*", []),
        ("?matched=true", ["hello", "weather please"]),
    ],
)
def test_journal_filters(traffic: TestClient, query: str, texts: list[str]) -> None:
    found = traffic.get("/_mock/requests" + query).json()

    assert [r["body"]["messages"][0]["content"] for r in found["requests"]] == texts
    assert found["count"] == len(texts)


def test_limit_keeps_the_newest_and_count_says_how_many_there_were(traffic: TestClient) -> None:
    found = traffic.get("/_mock/requests?limit=2").json()

    assert found["count"] == 4
    assert [r["body"]["messages"][0]["content"] for r in found["requests"]] == [
        "something else",
        "hello",
    ]


def test_unmatched_requests_carry_their_near_misses(traffic: TestClient) -> None:
    found = traffic.get("/_mock/requests/unmatched").json()

    assert found["count"] == 1
    (request,) = found["requests"]
    assert request["body"]["messages"][0]["content"] == "something else"
    assert [miss["rule"] for miss in request["near_misses"]] == ["greeting", "weather"]
    assert request["near_misses"][0]["failed"] == [
        "last_user: expected to contain 'hello', got 'something else'"
    ]


def test_a_strict_miss_is_journaled_with_its_near_misses(folder: Path) -> None:
    client = client_for(folder / "greeting.yaml", strict=True)

    response = chat(client, "bye")
    (request,) = client.get("/_mock/requests/unmatched").json()["requests"]

    assert response.status_code == 400
    assert request["strict_miss"] is True
    assert request["status"] == 400
    assert request["near_misses"][0]["rule"] == "greeting"


def test_the_journal_json_holds_no_api_key(traffic: TestClient) -> None:
    traffic.post(
        "/v1/messages",
        json={"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []},
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
    )

    text = traffic.get("/_mock/requests").text

    assert KEY not in text
    assert KEY[6:] not in text
    assert '"authorization":"Bearer sk-***"' in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?colour=red", "unknown query parameter 'colour' for /_mock/requests; valid: rule,"),
        ("?status=ok", "status: expected an integer; got 'ok'"),
        ("?matched=maybe", "matched: expected true or false; got 'maybe'"),
    ],
)
def test_bad_queries_are_named(client: TestClient, query: str, message: str) -> None:
    response = client.get("/_mock/requests" + query)

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


# --- The admin token ---------------------------------------------------------------------------

ADMIN_CALLS = [
    ("GET", "/_mock/health"),
    ("GET", "/_mock/scenarios"),
    ("POST", "/_mock/scenarios"),
    ("DELETE", "/_mock/scenarios"),
    ("GET", "/_mock/requests"),
    ("GET", "/_mock/requests/unmatched"),
    ("POST", "/_mock/reset"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
def test_with_a_token_every_admin_call_needs_it(folder: Path, method: str, path: str) -> None:
    client = client_for(folder, admin_token="t0ken")

    missing = client.request(method, path, headers={"authorization": ""})
    wrong = client.request(method, path, headers={"authorization": "Bearer nope"})
    right = client.request(method, path, headers={"authorization": "Bearer t0ken"})

    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer <token>" in missing.json()["error"]["message"]
    assert wrong.status_code == 401
    assert right.status_code in (200, 400)  # 400: the POST has no body


def test_with_a_token_generation_routes_stay_open(folder: Path) -> None:
    client = client_for(folder, admin_token="t0ken")

    assert chat(client, "hello").status_code == 200


# --- Loading by path ---------------------------------------------------------------------------


def test_a_file_inside_a_startup_directory_loads_by_path(folder: Path) -> None:
    client = client_for(folder)
    client.delete("/_mock/scenarios?all=true")

    response = client.post("/_mock/scenarios?path=extra/weather.yaml")

    assert response.status_code == 200
    assert rule_names(client) == ["weather"]


def test_a_startup_file_reloads_by_its_name(folder: Path) -> None:
    client = client_for(folder / "greeting.yaml")
    client.delete("/_mock/scenarios?all=true")

    assert client.post("/_mock/scenarios?path=greeting.yaml").status_code == 200
    assert rule_names(client) == ["greeting"]


@pytest.mark.parametrize(
    "escape",
    ["../outside.yaml", "extra/../../outside.yaml", "{tmp}/outside.yaml", "/etc/passwd"],
)
def test_a_path_outside_the_startup_directories_is_refused(folder: Path, escape: str) -> None:
    client = client_for(folder)
    before = rule_names(client)

    response = client.post("/_mock/scenarios", params={"path": escape.format(tmp=folder.parent)})

    assert response.status_code == 403
    assert "outside the scenario directories given at start" in response.json()["error"]["message"]
    assert rule_names(client) == before


def test_a_symlink_out_of_a_startup_directory_is_refused(folder: Path) -> None:
    client = client_for(folder)
    (folder / "sneaky.yaml").symlink_to(folder.parent / "outside.yaml")

    response = client.post("/_mock/scenarios", params={"path": "sneaky.yaml"})

    assert response.status_code == 403


def test_loading_by_path_is_off_without_startup_directories(folder: Path) -> None:
    client = client_for()

    response = client.post("/_mock/scenarios", params={"path": str(folder / "greeting.yaml")})

    assert response.status_code == 403
    assert "no scenario directory" in response.json()["error"]["message"]


@pytest.mark.parametrize("name", ["missing.yaml", "notes.txt"])
def test_a_missing_or_non_yaml_file_is_not_found(folder: Path, name: str) -> None:
    (folder / "notes.txt").write_text("version: 1")
    client = client_for(folder)

    response = client.post("/_mock/scenarios", params={"path": name})

    assert response.status_code == 404


def test_a_bad_file_by_path_is_located(folder: Path) -> None:
    client = client_for(folder)
    (folder / "bad.yaml").write_text("version: 1\nrules: [{name: x}]\n")

    response = client.post("/_mock/scenarios", params={"path": "bad.yaml"})

    issue = response.json()["error"]["issues"][0]
    assert response.status_code == 400
    assert issue["file"].endswith("bad.yaml")
    assert (issue["line"], issue["column"]) == (2, 9)


# --- Every worker serves what one loaded -----------------------------------------------------


def test_what_any_call_loads_every_worker_serves(folder: Path, tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    paths = (folder / "greeting.yaml", folder / "extra")
    first, second = client_for(*paths, state_file=state), client_for(*paths, state_file=state)
    (folder / "extra" / "later.yaml").write_text(WEATHER.replace("weather", "rain"))
    assert first.post("/_mock/scenarios", params={"path": "later.yaml"}).status_code == 200
    (folder / "extra" / "later.yaml").write_text("changed since: the validated text is kept")
    assert rule_names(second) == ["greeting", "weather", "rain"]
    assert chat(second, "rain?").json()["choices"][0]["message"]["content"] == "Sunny."
    posted = {"version": 1, "rules": [{"name": "json", "reply": {"content": "from JSON"}}]}
    second.post("/_mock/scenarios", json=posted, params={"replace": "true"})
    assert rule_names(first) == ["json"]
    first.delete("/_mock/scenarios")
    assert rule_names(second) == ["greeting", "weather"]
    second.delete("/_mock/scenarios", params={"all": "true"})
    assert rule_names(first) == []


# --- Who may call (mockserver.admin.guard) -------------------------------------------------


def test_a_foreign_host_is_refused_before_the_token_is_read(folder: Path) -> None:
    client = client_for(folder / "greeting.yaml", admin_token=KEY)
    rebound = client.get("/_mock/requests", headers={"host": "evil.example:8000"})
    assert rebound.status_code == 403
    assert "evil.example" in rebound.json()["error"]["message"]
    for host in ("localhost:8000", "127.0.0.1", "[::1]:9000", "app.localhost"):
        assert client.get("/_mock/health", headers={"host": host}).status_code == 200


def test_another_origin_is_refused(client: TestClient) -> None:
    refused = client.post(
        "/_mock/reset", headers={"origin": "http://evil.example", "x-mockserver-admin": "1"}
    )
    assert refused.status_code == 403
    assert client.post("/_mock/reset", headers={"origin": "http://localhost"}).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_what_a_form_can_send_is_refused(client: TestClient, content_type: str) -> None:
    response = client.post(
        "/_mock/scenarios", content=GREETING, headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "x-mockserver-admin" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "content_type", ["application/yaml", "text/yaml", "application/x-yaml; charset=utf-8"]
)
def test_yaml_types_are_accepted(client: TestClient, content_type: str) -> None:
    posted = GREETING.replace("greeting", "again")
    response = client.post(
        "/_mock/scenarios", content=posted, headers={"content-type": content_type}
    )
    assert response.status_code == 200, response.text


def test_beyond_loopback_the_token_guards_and_any_host_may_call(folder: Path) -> None:
    client = client_for(folder / "greeting.yaml", host="0.0.0.0", admin_token=KEY)
    assert client.get("/_mock/health", headers={"host": "mock.internal:8000"}).status_code == 200
    anonymous = TestClient(client.app, base_url="http://mock.internal")
    assert anonymous.get("/_mock/health").status_code == 401


def test_unusable_paths_are_a_400(client: TestClient) -> None:
    for path in ("a\x00b.yaml", "x" * 5000, " "):
        response = client.post("/_mock/scenarios", params={"path": path})
        assert response.status_code == 400, (path[:10], response.text)
        assert response.json()["error"]["type"] == "invalid_request"


def test_a_json_scenario_nested_too_deep_is_a_scenario_error(client: TestClient) -> None:
    deep = b'{"version": 1, "x": ' + b"[" * 300 + b"]" * 300 + b"}"
    response = client.post(
        "/_mock/scenarios", content=deep, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "levels deep" in response.json()["error"]["message"]


def test_a_scenario_body_past_the_body_limit_is_a_413(folder: Path) -> None:
    client = client_for(folder / "greeting.yaml", max_body_bytes=1000)
    response = client.post(
        "/_mock/scenarios", content=GREETING + "#" * 2000, headers={"content-type": "text/yaml"}
    )
    assert response.status_code == 413
