"""One server's state: dialects made on first use, and what a reset forgets."""

from __future__ import annotations

import sys

from starlette.testclient import TestClient

from mockserver.http.app import create_app
from mockserver.scenario import ScenarioSet
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
