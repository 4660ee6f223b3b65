"""The `mockserver` command: validate reports every error, serve refuses bad files cleanly."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from mockserver.cli import main
from mockserver.http.app import MockApp, app_from_env
from mockserver.http.server_thread import Server
from mockserver.settings import ENV_VAR, Settings
from tests.conftest import SCENARIOS

BAD = textwrap.dedent(
    """\
    version: 1
    rules:
      - name: a
        mach: {model: gpt-4o}
        reply: {content: hi}
      - name: b
        reply: {finish_reason: done}
    """
)


def test_validate_ok_prints_one_line_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["validate", str(SCENARIOS / "greeting.yaml"), str(SCENARIOS / "tool_agent.yaml")])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("greeting.yaml: 1 rule")
    assert out[1].endswith("tool_agent.yaml: 2 rules")
    assert out[2].startswith("2 files, 3 rules")


def test_validate_lists_every_error_of_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(BAD)
    second.write_text("version: 1\nrules:\n  - name: c\n    reply: {content: '{{ oops'}\n")
    assert main(["validate", str(first), str(second)]) == 1
    err = capsys.readouterr().err
    assert f"{first}:4:5: unknown key 'mach' at rules[0]; did you mean 'match'?" in err
    assert f"{first}:7:" in err and "finish_reason" in err and "'done'" in err
    assert f"{second}:4:" in err
    assert err.rstrip().endswith("3 errors")


def test_serve_refuses_bad_scenarios_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", str(bad), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "did you mean 'match'?" in result.stderr
    assert "not started" in result.stderr


def test_every_shipped_scenario_validates() -> None:
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert len(files) >= 4
    assert main(["validate", *map(str, files)]) == 0


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """`serve` up to uvicorn: what uvicorn was given to run, and its options."""
    runs: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))
    monkeypatch.setattr(Server, "run", lambda self: runs.append((self.config.app, self.config)))
    monkeypatch.setenv(ENV_VAR, "")  # restored after a multi-worker `serve` sets it
    return runs


def test_serve_runs_the_app_with_the_connection_tap(served: list[Any]) -> None:
    assert main(["serve", "--port", "0"]) == 0
    [(app, config)] = served
    assert isinstance(app, MockApp)
    assert config.http == "mockserver.http.head_deadline:HeadDeadline"
    assert config.date_header is False  # the wall clock: responses are byte-identical


def test_serve_with_workers_runs_the_app_factory(served: list[Any]) -> None:
    assert main(["serve", "--port", "0", "--workers", "2"]) == 0
    [(app, options)] = served
    assert app == "mockserver.http.app:app_from_env"
    assert options["workers"] == 2 and options["factory"] is True


def test_serve_gives_every_worker_one_temporary_state_and_the_store_limits(
    served: list[Any],
) -> None:
    args = ["serve", "--port", "0", "--workers", "2", "--counters-size", "50"]
    assert main([*args, "--responses-size", "7", "--journal-size", "9"]) == 0
    settings = Settings.from_env()  # what each worker reads
    assert settings.state_file is not None and Path(settings.state_file).exists()
    assert settings.state_temporary is True
    assert (settings.counters_size, settings.responses_size, settings.journal_size) == (50, 7, 9)
    state = app_from_env().state.mock
    assert state.shared and len(state.counters.occurrences) == 0


def test_serve_keeps_its_state_in_the_file_given(served: list[Any], tmp_path: Path) -> None:
    state_file = tmp_path / "kept.sqlite"
    assert main(["serve", "--port", "0", "--state", str(state_file)]) == 0
    [(app, _)] = served
    assert app.mock.shared and app.mock.settings.state_temporary is False
    assert state_file.exists()


def test_serve_beyond_loopback_without_a_token_warns_that_the_admin_api_is_off(
    served: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 0  # uvicorn.run is stubbed
    assert "the admin API (/_mock/) is off" in capsys.readouterr().err
    [(app, _)] = served
    client = TestClient(app, base_url="http://192.0.2.1")
    refused = client.get("/_mock/requests")
    assert refused.status_code == 403
    assert "--admin-token" in refused.json()["error"]["message"]


RUNAWAY = """\
version: 1
rules:
  - name: runaway
    reply:
      content: "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
"""


def test_serve_obeys_sigterm_while_a_runaway_template_renders(tmp_path: Path) -> None:
    scenario = tmp_path / "runaway.yaml"
    scenario.write_text(RUNAWAY)
    command = [sys.executable, "-m", "mockserver", "serve", str(scenario), "--port", "0"]
    process = subprocess.Popen(
        [*command, "--log-level", "info"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        stderr = process.stderr
        assert stderr is not None
        threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
        port = None
        while port is None:  # uvicorn names the port it bound
            found = re.search(r"running on http://127\.0\.0\.1:(\d+)", lines.get(timeout=60))
            port = int(found.group(1)) if found else None
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "go"}]}
        answers: list[int | str] = []

        def ask() -> None:
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            try:
                response = httpx.post(
                    url, json=body, headers={"authorization": "Bearer sk-t"}, timeout=60
                )
                answers.append(response.status_code)
            except httpx.HTTPError as error:  # the signal came before the request was read
                answers.append(type(error).__name__)

        asking = threading.Thread(target=ask)
        asking.start()
        time.sleep(0.3)  # the request is in; the template renders
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then raises the signal it caught again
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
        asking.join(timeout=60)
        # Rendering when the signal came: it ran out of budget, was answered, and the server
        # then stopped (before its budget, the server never answered and ignored SIGTERM).
        assert answers and answers[0] in (500, "ConnectError", "RemoteProtocolError")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
