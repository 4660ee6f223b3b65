"""The pytest plugin's record/replay switch, as a suite meets it: record on a developer's machine
(with the developer's key, never written), replay in CI with the upstream gone."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.record.modes import RecordMode
from mockserver.record.pytest_support import recording_path
from mockserver.testing.pytest_plugin import RECORD_MODES
from tests.conftest import StartServer

# The inline `runpytest` sessions below drop what they import first: see tests/inline_sessions.py.
from tests.inline_sessions import PRELOADED  # noqa: F401

pytest_plugins = ["pytester"]

KEY = "sk-real-key-that-must-not-leak"
ANSWERS = """
version: 1
rules:
  - name: answer
    match: {last_user: {regex: "(?P<q>.+)"}}
    reply: {content: "TAG: {{ match.q }}"}
"""
TESTS = """
import openai
import pytest
import yaml


def ask(text):
    client = openai.OpenAI(max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content


@pytest.mark.mockserver(record_mode="once")
def test_agent():
    assert ask("hello") == "real: hello"
    assert ask("second") == "real: second"
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_agent=TESTS)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the developer's key, forwarded to the upstream
    monkeypatch.delenv("MOCKSERVER_UPSTREAM", raising=False)
    return pytester


def upstream(start_server: StartServer, tag: str) -> str:
    return start_server(ANSWERS.replace("TAG", tag)).url


def test_record_once_then_replay_with_the_upstream_gone(
    project: pytest.Pytester, start_server: StartServer
) -> None:
    real = start_server(ANSWERS.replace("TAG", "real"))
    project.runpytest("--mockserver-upstream", real.url).assert_outcomes(passed=1)
    path = project.path / "recordings" / "test_agent" / "test_agent.yaml"
    text = path.read_text(encoding="utf-8")
    assert KEY not in text
    rules = yaml.safe_load(text)["rules"]
    assert [r["reply"]["content"] for r in rules] == ["real: hello", "real: second"]
    # Timing kept, but marked recorded: a replayed suite does not wait unless latency is on.
    assert all(rule["latency"]["recorded"] is True for rule in rules)

    real.stop()
    project.runpytest("--mockserver-record-mode=replay").assert_outcomes(passed=1)
    project.runpytest().assert_outcomes(passed=1)  # `once` with the file there: replay


def test_replay_fails_a_test_that_asks_what_was_not_recorded(
    project: pytest.Pytester, start_server: StartServer
) -> None:
    project.runpytest("--mockserver-upstream", upstream(start_server, "real"))
    project.makepyfile(test_agent=TESTS.replace('"second"', '"never recorded"'))
    result = project.runpytest("--mockserver-record-mode=replay")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no scenario rule matches*nearest rules*"])


def test_new_episodes_from_the_command_line_appends_to_the_recording(
    project: pytest.Pytester, start_server: StartServer
) -> None:
    project.runpytest("--mockserver-upstream", upstream(start_server, "real"))
    project.makepyfile(
        test_agent=TESTS.replace('assert ask("second") == "real: second"', 'ask("third")')
    )
    other = upstream(start_server, "other")
    result = project.runpytest(
        "--mockserver-record-mode=new_episodes", "--mockserver-upstream", other
    )
    result.assert_outcomes(passed=1)  # "hello" replayed as "real: hello"
    path = project.path / "recordings" / "test_agent" / "test_agent.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    assert [r["reply"]["content"] for r in rules] == ["real: hello", "real: second", "other: third"]


def test_recording_without_an_upstream_says_what_to_do(project: pytest.Pytester) -> None:
    result = project.runpytest("--mockserver-record-mode=record")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*record mode 'record' needs the real API*--mockserver-upstream*"])


def test_replay_without_a_recording_says_what_to_do(project: pytest.Pytester) -> None:
    result = project.runpytest("--mockserver-record-mode=replay")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no recording at*--mockserver-record-mode=once*"])


def test_an_unknown_marker_mode_is_named(project: pytest.Pytester) -> None:
    project.makepyfile(test_agent=TESTS.replace('"once"', '"all"'))
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown record mode 'all'; expected one of record, replay*"])


def test_the_plugin_offers_the_modes_the_recorder_knows() -> None:
    assert tuple(mode.value for mode in RecordMode) == RECORD_MODES


def test_recording_path_is_one_file_per_test() -> None:
    assert recording_path(Path("tests/test_agent.py"), "test_plan[gpt-4o]") == Path(
        "tests/recordings/test_agent/test_plan-gpt-4o.yaml"
    )
