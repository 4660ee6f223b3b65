"""The `mockserver` command: validate reports every error, serve refuses bad files cleanly."""

from __future__ import annotations

import gc
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from mockserver import __version__, cli
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
        cli, "run_server", lambda app, sock, options: (runs.append(app), sock.close())
    )
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


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"mockserver {__version__}"


def test_serve_on_a_port_in_use_says_so_before_any_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening" not in result.stdout


def test_serve_reads_host_and_port_from_the_environment(
    served: tuple[list[Any], list[Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:  # a port that is free now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MOCKSERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("MOCKSERVER_PORT", str(port))
    assert main(["serve"]) == 0
    assert f"listening on http://127.0.0.1:{port} " in capsys.readouterr().out
    # The flag wins; port 0 is shown as the port it got.
    assert main(["serve", "--port", "0"]) == 0
    out = capsys.readouterr().out
    assert "listening on http://127.0.0.1:" in out and ":0 " not in out


def test_a_bad_port_variable_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOCKSERVER_PORT", "eighty")
    assert main(["serve"]) == 2
    assert "MOCKSERVER_PORT must be a port number" in capsys.readouterr().err


def test_catalog_and_validation_flags_reach_the_server(served: tuple[list[Any], list[Any]]) -> None:
    runs, _ = served
    assert main(["serve", "--port", "0", "--catalog", "strict", "--validation", "strict"]) == 0
    state = runs[0].mock
    assert not state.catalog.open and state.strict_validation
    assert main(["serve", "--port", "0"]) == 0
    state = runs[1].mock
    assert state.catalog.open and not state.strict_validation
