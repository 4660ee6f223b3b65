"""The `mockserver` command: validate reports every error, serve refuses bad files cleanly."""

from __future__ import annotations

import gc
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
from mockserver.http import pacer
from mockserver.settings import ENV_VAR
from mockserver.tokens import tokenizer as tokens
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
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[Any], list[Any]]]:
    """`serve` up to uvicorn: (what uvicorn was given to run, the idle builds scheduled)."""
    runs: list[Any] = []
    builds: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append(app))
    monkeypatch.setattr(
        tokens, "build_when_idle", lambda names, activity: builds.append((names, activity))
    )
    monkeypatch.setenv(ENV_VAR, "")  # restored after a multi-worker `serve` sets it
    yield runs, builds
    gc.unfreeze()  # `serve` freezes what start-up made; not this test process's business
    pacer.hold_collections(False)  # nor is how it paces streams


def test_serve_builds_the_chat_encoding_in_its_first_idle_moment(
    served: tuple[list[Any], list[Any]],
) -> None:
    runs, builds = served
    assert main(["serve", "--port", "0"]) == 0
    [app] = runs
    [(names, activity)] = builds
    assert names == ["o200k_base"]
    before = activity()  # requests so far: the journal's
    app.mock.journal.open("POST", "/v1/chat/completions", {})
    assert activity() == before + 1


def test_serve_holds_collections_while_it_paces_streams(
    served: tuple[list[Any], list[Any]],
) -> None:
    assert not pacer._hold.wanted  # the fixture's servers leave the collector alone
    assert main(["serve", "--port", "0"]) == 0
    assert pacer._hold.wanted


def test_serve_with_workers_leaves_building_to_demand(
    served: tuple[list[Any], list[Any]],
) -> None:
    runs, builds = served
    assert main(["serve", "--port", "0", "--workers", "2"]) == 0
    assert runs == ["mockserver.http.app:app_from_env"]
    assert builds == []


def test_serve_beyond_loopback_without_a_token_warns_that_the_admin_api_is_off(
    served: tuple[list[Any], list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    runs, _ = served
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 0  # uvicorn.run is stubbed
    assert "the admin API (/_mock/) is off" in capsys.readouterr().err
    [app] = runs
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
