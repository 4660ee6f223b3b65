"""Nothing a request or a scenario sends can freeze, crash or leak: each abuse below is
answered as specified through a real server WHILE a bystander client keeps getting answers.

The bystander's bound is generous (no timed assertion in the usual sense): it only tells a
server that kept serving from one that froze for the whole abuse.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from mockserver.http.server_thread import ServerThread
from tests.conftest import StartServer

AUTH = {"authorization": "Bearer sk-test"}
SECRET = "sk-SECRET-0123456789abcdefghij"
GENEROUS = 20.0  # seconds a bystander's request may take before the server counts as frozen
YAML = {"content-type": "application/yaml"}

RULES = r"""
version: 1
rules:
  - name: runaway-loop
    match: {last_user: {contains: runaway}}
    reply:
      content: "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
  - name: huge-string
    match: {last_user: {contains: huge}}
    reply:
      content: "{{ 'x' * 10**8 }}"
  - name: catastrophic
    match: {last_user: {regex: "(a|aa)+$"}}
    reply: {content: never}
  - name: hello
    match: {last_user: {contains: hello}}
    reply: {content: hi}
"""


class Bystander:
    """A second client asking the server something simple, again and again, in a thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers = 0
        self.failures: list[str] = []
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
        with httpx.Client(base_url=self.url, timeout=GENEROUS) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = client.post("/v1/chat/completions", json=body, headers=AUTH)
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                    continue
                self.slowest = max(self.slowest, time.monotonic() - started)
                if response.status_code == 200:
                    self.answers += 1
                else:
                    self.failures.append(f"{response.status_code} {response.text[:200]}")
                time.sleep(0.01)

    def __enter__(self) -> Bystander:
        self._thread.start()
        deadline = time.monotonic() + GENEROUS
        while self.answers == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        seen = self.answers
        deadline = time.monotonic() + GENEROUS
        while self.answers < seen + 2 and time.monotonic() < deadline:  # still answered after
            time.sleep(0.01)
        self._stop.set()
        self._thread.join(timeout=GENEROUS)
        assert not self.failures, self.failures[:3]
        assert self.answers >= seen + 2, "the bystander stopped getting answers"
        assert self.slowest < GENEROUS


@pytest.fixture
def server(start_server: StartServer) -> ServerThread:
    return start_server(RULES)


@contextmanager
def bystander(server: ServerThread) -> Iterator[Bystander]:
    with Bystander(server.url) as watching:
        yield watching


def chat(url: str, text: str, **headers: str) -> httpx.Response:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    return httpx.post(
        f"{url}/v1/chat/completions", json=body, headers=AUTH | headers, timeout=GENEROUS
    )


def openai_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return dict(response.json()["error"])


# --- 1. Bounded scenario work ----------------------------------------------------------------


def alias_bomb(levels: int = 10) -> str:
    lines = ["version: 1", "rules:", "  - name: bomb", "    reply:", "      json:"]
    lines.append('        a0: &a0 ["{{ request.model }}", 1, 2, 3, 4, 5, 6, 7, 8]')
    for level in range(1, levels):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"        a{level}: &a{level} [{aliases}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_anchor(server: ServerThread) -> None:
    with bystander(server):
        response = httpx.post(
            f"{server.url}/_mock/scenarios", content=alias_bomb(), headers=YAML, timeout=GENEROUS
        )
    assert response.status_code == 400
    issue = response.json()["error"]["issues"][0]
    assert issue["line"] == 14  # the anchor `&a8`, used 10 times
    assert "YAML aliases expand this file" in issue["message"]
    assert "100,000" in issue["message"]


def test_a_runaway_loop_is_the_vendors_500_naming_the_rule(server: ServerThread) -> None:
    with bystander(server):
        response = chat(server.url, "runaway please")
    assert response.status_code == 500
    error = openai_error(response)
    assert error["code"] == "mock_template_error"
    assert "'runaway-loop'" in error["message"]
    assert "operations" in error["message"] or "took longer" in error["message"]


def test_a_huge_constant_loads_and_is_refused_when_rendered(server: ServerThread) -> None:
    # Loading it computed nothing (no constant folding): the server started at once.
    with bystander(server):
        response = chat(server.url, "huge please")
    assert response.status_code == 500
    error = openai_error(response)
    assert "'huge-string'" in error["message"]
    assert "4,000,000 characters" in error["message"]


def test_a_catastrophic_regex_is_cut_short_naming_the_rule(server: ServerThread) -> None:
    with bystander(server):
        response = chat(server.url, "a" * 60 + "!")
    assert response.status_code == 500
    error = openai_error(response)
    assert error["code"] == "mock_regex_timeout"
    assert "rule 'catastrophic'" in error["message"]


# --- 2. A safe admin API ---------------------------------------------------------------------


def test_a_cross_site_text_plain_post_loads_nothing(server: ServerThread) -> None:
    scenario = "version: 1\nrules:\n  - name: planted\n    reply: {content: pwned}\n"
    with bystander(server):
        plain = httpx.post(
            f"{server.url}/_mock/scenarios",
            content=scenario,
            headers={"content-type": "text/plain"},
        )
        cross_site = httpx.post(
            f"{server.url}/_mock/scenarios",
            content=scenario,
            headers={"content-type": "text/plain", "origin": "https://evil.example"},
        )
        form = httpx.post(f"{server.url}/_mock/reset", data={"a": "b"})
    assert plain.status_code == 415
    assert "application/yaml" in plain.json()["error"]["message"]
    assert cross_site.status_code == 403
    assert "evil.example" in cross_site.json()["error"]["message"]
    assert form.status_code == 415
    rules = httpx.get(f"{server.url}/_mock/scenarios").json()["rules"]
    assert "planted" not in [rule["name"] for rule in rules]
    # The same body with a scenario's type, or the admin header, is a script: accepted.
    marked = httpx.post(
        f"{server.url}/_mock/scenarios",
        content=scenario,
        headers={"content-type": "text/plain", "x-mockserver-admin": "1"},
    )
    assert marked.status_code == 200


def test_a_foreign_host_reads_nothing(server: ServerThread) -> None:
    chat(server.url, "hello, my prompt is private")
    rebound = {"host": f"evil.example:{server.port}"}
    with bystander(server):
        journal = httpx.get(f"{server.url}/_mock/requests", headers=rebound)
        health = httpx.get(f"{server.url}/_mock/health", headers=rebound)
    assert journal.status_code == 403
    assert "private" not in journal.text
    assert "evil.example" in journal.json()["error"]["message"]
    assert health.status_code == 403
    assert httpx.get(f"{server.url}/_mock/requests").status_code == 200  # 127.0.0.1 is ours


# --- 3. One JSON depth limit -----------------------------------------------------------------


def nested(levels: int) -> bytes:
    return b'{"model": "gpt-4o", "x": ' + b"[" * levels + b"]" * levels + b"}"


ROUTES = [
    ("/v1/chat/completions", "openai"),
    ("/v1/responses", "openai"),
    ("/v1/messages", "anthropic"),
    ("/v1beta/models/gemini-2.0-flash:generateContent", "gemini"),
    ("/v1/completions", "openai"),
    ("/v1/embeddings", "openai"),
    ("/v1/rerank", "rerank"),
    ("/v1/moderations", "openai"),
]


@pytest.mark.parametrize(("route", "vendor"), ROUTES)
def test_a_thousand_levels_of_json_is_the_vendors_400(
    server: ServerThread, route: str, vendor: str
) -> None:
    headers = {"content-type": "application/json", "x-goog-api-key": SECRET} | AUTH
    with bystander(server):
        response = httpx.post(f"{server.url}{route}", content=nested(1000), headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    if vendor == "anthropic":
        assert body["type"] == "error"
        assert body["error"]["type"] == "invalid_request_error"
    elif vendor == "gemini":
        assert body["error"]["status"] == "INVALID_ARGUMENT"
    else:
        assert "message" in (body.get("error") or body)
    assert "128 levels" in response.text
    journal = httpx.get(f"{server.url}/_mock/requests")
    assert journal.status_code == 200
    assert SECRET not in journal.text


def test_the_journal_reads_after_deep_bodies_even_refused_ones(server: ServerThread) -> None:
    for levels in (200, 254, 255, 600, 1024):
        httpx.post(
            f"{server.url}/v1beta/models/gemini-2.0-flash:generateContent",
            content=nested(levels),
            headers={"content-type": "application/json"},
        )
    response = httpx.get(f"{server.url}/_mock/requests")
    assert response.status_code == 200
    assert response.json()["count"] == 5


# --- 4. Secrets never leave ------------------------------------------------------------------


KEYED = """
version: 1
rules:
  - name: keyed
    match: {headers: {authorization: "Bearer sk-expected-*"}, last_user: {contains: weather}}
    reply: {content: keyed}
  - name: hello
    match: {last_user: {contains: hello}}
    reply: {content: hi}
"""


def test_a_key_in_a_near_miss_never_leaves(start_server: StartServer) -> None:
    server = start_server(KEYED, strict=True)
    with bystander(server):
        response = chat(
            server.url, f"no rule for this; my key is {SECRET}", authorization=f"Bearer {SECRET}"
        )
    assert response.status_code == 400
    assert "mock_no_matching_rule" in response.text
    assert "authorization" in response.text  # the near miss is explained...
    assert SECRET not in response.text  # ...without the key
    assert "sk-***" in response.text
    journal = httpx.get(f"{server.url}/_mock/requests/unmatched").text
    assert "near_misses" in journal
    assert SECRET not in journal
    assert SECRET[8:] not in journal


# --- 5. Clean edges --------------------------------------------------------------------------


def test_a_client_gone_mid_upload_is_journaled_not_traced(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    errors: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = errors.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        with socket.create_connection((server.host, server.port)) as raw:
            raw.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":'
            )
            time.sleep(0.2)
        deadline = time.monotonic() + GENEROUS
        entries: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not entries:
            entries = httpx.get(f"{server.url}/_mock/requests").json()["requests"]
            time.sleep(0.05)
    finally:
        logger.removeHandler(handler)
    assert entries[-1]["disconnected"] is True
    assert entries[-1]["status"] == 499
    assert not [r for r in errors if r.levelno >= logging.ERROR], [r.getMessage() for r in errors]


def test_a_nul_byte_in_path_is_a_400(server: ServerThread) -> None:
    response = httpx.post(
        f"{server.url}/_mock/scenarios", params={"path": "a\x00b.yaml"}, headers=YAML
    )
    assert response.status_code in (400, 403)
    assert response.headers["content-type"].startswith("application/json")


def test_a_template_failing_on_messages_is_anthropics_500(server: ServerThread) -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "huge please"}],
    }
    headers = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
    response = httpx.post(f"{server.url}/v1/messages", json=body, headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "api_error"
    assert "'huge-string'" in error["error"]["message"]
