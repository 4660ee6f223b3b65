"""`--log-level info`: one line per answered request, from its journal entry, never the key."""

from __future__ import annotations

import logging
import re

import pytest
from starlette.testclient import TestClient

from mockserver.http.app import create_app
from mockserver.http.request_log import line
from mockserver.journal.journal import Entry
from mockserver.scenario import ScenarioSet, load_text
from mockserver.server_state import MockState
from mockserver.settings import Settings

SECRET = "sk-live-0123456789abcdef"
GREETING = """\
version: 1
rules:
  - name: greeting
    match: {last_user: {contains: hello}}
    reply: {content: "Hi there"}
"""


def test_each_request_logs_one_line_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    state = MockState(Settings(), ScenarioSet.build([load_text(GREETING, "g.yaml")]))
    caplog.set_level(logging.INFO, logger="mockserver.requests")
    with TestClient(create_app(state=state)) as client:
        for text in ("hello", "other"):
            client.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
                headers={"authorization": f"Bearer {SECRET}"},
            )
        client.post("/v1/messages", json={"model": "claude-sonnet-4-0"}, headers={})
        client.get("/v1/models", headers={"authorization": f"Bearer {SECRET}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "mockserver.requests"]
    assert len(lines) == 4
    assert re.fullmatch(
        r"POST /v1/chat/completions model=gpt-4o-mini rule=greeting status=200 "
        r"usage=\d+\+\d+ duration=\d+\.\dms",
        lines[0],
    )
    assert "rule=- status=200" in lines[1]
    assert re.match(r"POST /v1/messages model=- rule=- status=4\d\d usage=- ", lines[2])
    assert re.fullmatch(r"GET /v1/models model=- rule=- status=200 usage=- duration=\S+", lines[3])
    assert not any(SECRET[3:10] in text for text in caplog.text.splitlines())


def test_nothing_is_logged_below_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mockserver.requests")
    with TestClient(create_app(Settings())) as client:
        client.get("/v1/models")
        client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": []})
    assert not [r for r in caplog.records if r.name == "mockserver.requests"]


def test_a_line_says_how_far_a_stream_got() -> None:
    entry = Entry(seq=1, at=0.0, method="POST", endpoint="/v1/chat/completions", model="gpt-4o")
    entry.stream, entry.events_sent, entry.disconnected = True, 7, True
    assert line(entry, 0.0123) == (
        "POST /v1/chat/completions model=gpt-4o rule=- status=- usage=- duration=12.3ms "
        "stream=7 disconnected"
    )
