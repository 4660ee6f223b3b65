"""`mockserver record`: arguments, refusals with exit 2, and the app it serves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.cli import main
from mockserver.http.server_thread import Server, ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.proxy import RecordingProxy
from tests.conftest import StartServer


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The apps `mockserver record` would serve (threads on their own socket still run)."""
    apps: list[Any] = []
    original = Server.run

    def run(self: Server, sockets: Any = None) -> None:
        if sockets is not None:
            return original(self, sockets=sockets)
        apps.append(self.config.app)
        return None

    monkeypatch.setattr(Server, "run", run)
    return apps


def test_recording_needs_an_upstream(
    tmp_path: Path, served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", "--out", str(tmp_path)]) == 2
    assert "needs an upstream URL" in capsys.readouterr().err
    assert served == []


def test_replay_needs_the_file(
    tmp_path: Path, served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", "--mode", "replay", "--out", str(tmp_path)]) == 2
    assert "no recording at" in capsys.readouterr().err


def test_an_unknown_mode_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["record", "--mode", "all", "--upstream", "http://127.0.0.1:9"])
    assert "invalid choice: 'all'" in capsys.readouterr().err


def test_record_serves_a_proxy_that_writes_out_name(
    tmp_path: Path, served: list[Any], start_server: StartServer
) -> None:
    upstream = start_server("version: 1\nrules: [{name: a, reply: {content: recorded}}]\n")
    argv = ["record", "--upstream", upstream.url, "--out", str(tmp_path), "--name", "demo"]
    assert main([*argv, "--redact-header", "x-team-token", "--no-timing"]) == 0
    (app,) = served
    assert isinstance(app, RecordingProxy)
    assert app.mode is RecordMode.NEW_EPISODES
    with ServerThread(app) as proxy:
        response = httpx.post(
            proxy.url + "/v1/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer sk-cli-0123456789", "x-team-token": "team-4242x"},
        )
    assert response.json()["choices"][0]["message"]["content"] == "recorded"
    text = (tmp_path / "demo.yaml").read_text(encoding="utf-8")
    assert "content: recorded" in text
    assert "latency" not in text
    assert "sk-cli-0123456789" not in text
    assert "team-4242x" not in text
