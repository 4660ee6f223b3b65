"""The plugin as its users meet it: generated test modules run by pytester, with the real
`openai` SDK, in-process (fast) or as a subprocess (xdist)."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest

from mockserver.testing.pytest_plugin import port_for_worker

# The inline `runpytest` sessions below drop what they import first: see tests/inline_sessions.py.
from tests.inline_sessions import PRELOADED  # noqa: F401

pytest_plugins = ["pytester"]

GREETING = """\
version: 1
seed: 42
rules:
  - name: greeting
    match: {last_user: hello}
    reply: {content: "Hello from the file."}
"""

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
"""

HELPERS = """
import os

import openai
import pytest


def ask(text):
    # Code under test builds its own client: the plugin's environment points it at the mock.
    client = openai.OpenAI(max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project with a scenario folder; a real endpoint configured that must not be reached."""
    pytester.makeini(INI)
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "greeting.yaml").write_text(GREETING)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.invalid/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-key-that-must-not-leak")
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    return pytester


def write_tests(pytester: pytest.Pytester, body: str, name: str = "test_generated") -> None:
    pytester.makepyfile(**{name: HELPERS + textwrap.dedent(body)})


def test_fixture_marker_inline_rules_and_the_openai_sdk(project: pytest.Pytester) -> None:
    write_tests(
        project,
        """
        @pytest.mark.mockserver("scenarios/greeting.yaml", strict=True)
        def test_marker_and_inline_rule(mockserver):
            mockserver.add_rule(
                name="weather", match={"last_user": "weather"}, reply={"content": "Sunny."}
            )
            assert ask("hello") == "Hello from the file."
            assert ask("weather?") == "Sunny."
            mockserver.assert_called(rule="weather", times=1)
            mockserver.assert_all_rules_used()
            assert mockserver.requests(rule="greeting").last.headers["authorization"] == (
                "Bearer sk-***"
            )

        def test_the_next_test_starts_clean(mockserver):
            assert not mockserver.called
            assert mockserver.rules == []
            assert ask("anything at all")  # the built-in default answers
            assert mockserver.requests.last.rule is None

        @pytest.mark.mockserver("scenarios/greeting.yaml")
        def test_the_marker_alone_sets_the_environment():
            assert ask("hello") == "Hello from the file."
            assert "GOOGLE_GENAI_USE_VERTEXAI" not in os.environ

        def test_the_environment_is_restored_after_each_test():
            assert os.environ["OPENAI_BASE_URL"] == "https://api.openai.invalid/v1"
            assert os.environ["GOOGLE_GENAI_USE_VERTEXAI"] == "true"

        def test_inline_yaml_and_sequences(mockserver):
            mockserver.load('''
                version: 1
                rules:
                  - name: flaky
                    match: {last_user: flaky}
                    sequence:
                      - fault: {status: 503}
                      - reply: {content: "second time lucky"}
            ''')
            with pytest.raises(openai.InternalServerError):
                ask("flaky")
            assert ask("flaky") == "second time lucky"
            assert [r.status for r in mockserver.requests(rule="flaky")] == [503, 200]
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(passed=5)


def test_a_failing_test_shows_its_journal_and_near_misses(project: pytest.Pytester) -> None:
    write_tests(
        project,
        """
        def test_wrong_question(mockserver):
            mockserver.add_rule(
                name="weather", match={"last_user": "weather"}, reply={"content": "Sunny."}
            )
            ask("hello there")
            mockserver.assert_called(rule="weather")
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: expected at least 1 request with rule='weather'; found 0.",
            "E       The journal holds 1 request; the most similar:",
            "*- mockserver journal -*",
            "#1 POST /v1/chat/completions (openai.chat, gpt-4o) → 200, no rule matched *",
            '    body: {"model":"gpt-4o","messages":[{"role":"user","content":"hello there"}]}',
            "    near miss 'weather': last_user: expected to contain 'weather', got 'hello there'",
        ]
    )
    assert "sk-real-key-that-must-not-leak" not in result.stdout.str()


def test_a_swallowed_strict_miss_fails_the_test(project: pytest.Pytester) -> None:
    write_tests(
        project,
        """
        RULE = dict(name="weather", match={"last_user": "weather"}, reply={"content": "Sunny."})

        @pytest.mark.mockserver(strict=True)
        def test_swallows_the_error(mockserver):
            mockserver.add_rule(**RULE)
            try:
                ask("hello")
            except openai.BadRequestError:
                pass  # code under test that hides failures

        @pytest.mark.mockserver(strict=True)
        def test_expects_the_miss(mockserver):
            mockserver.fail_on_strict_miss = False
            mockserver.add_rule(**RULE)
            with pytest.raises(openai.BadRequestError, match="nearest rules: 'weather'"):
                ask("hello")
        """,
    )

    result = project.runpytest("-rf")

    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_swallows_the_error _*",
            "mockserver (strict mode): 1 request matched no scenario rule (the client got HTTP*",
            "  #1 POST /v1/chat/completions (openai.chat, gpt-4o) → 400, no rule matched (strict*",
            "      near miss 'weather': last_user: expected to contain 'weather', got 'hello'",
            "FAILED test_generated.py::test_swallows_the_error - mockserver (strict mode)*",
        ]
    )


def test_session_scenarios_come_from_the_ini_file_and_marker_rules_go_first(
    project: pytest.Pytester,
) -> None:
    project.makeini(INI + "mockserver_scenarios = scenarios\nmockserver_seed = 9\n")
    (project.path / "override.yaml").write_text(
        GREETING.replace("greeting", "override").replace("from the file", "from the marker")
    )
    write_tests(
        project,
        """
        def test_session_rules(mockserver):
            assert mockserver.rules == ["greeting"]
            assert mockserver.state.engine.seed == 9

        @pytest.mark.mockserver("override.yaml", seed=3)
        def test_marker_rules_first(mockserver):
            assert mockserver.rules == ["override", "greeting"]
            assert mockserver.state.engine.seed == 3
            assert ask("hello") == "Hello from the marker."
        """,
    )

    project.runpytest().assert_outcomes(passed=2)


def test_marker_mistakes_are_reported_at_setup(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "bad.yaml").write_text(
        "version: 1\nrules:\n  - name: x\n    mach: {}\n    reply: {content: y}\n"
    )
    write_tests(
        project,
        """
        @pytest.mark.mockserver("scenarios/bad.yaml")
        def test_bad_file(mockserver):
            pass

        @pytest.mark.mockserver("scenarios/missing.yaml")
        def test_missing_file(mockserver):
            pass

        @pytest.mark.mockserver(stirct=True)
        def test_unknown_option(mockserver):
            pass

        def test_still_fine(mockserver):
            assert mockserver.rules == []
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(errors=3, passed=1)
    result.stdout.fnmatch_lines_random(
        [
            "@pytest.mark.mockserver: */scenarios/bad.yaml:4:5: unknown key 'mach' at rules*; "
            "did you mean 'match'?*",
            "@pytest.mark.mockserver: scenario file 'scenarios/missing.yaml' not found (looked in*",
            "@pytest.mark.mockserver: unknown argument 'stirct'; expected scenario files and "
            "strict, seed, record_mode",
        ]
    )


def test_bad_session_scenarios_fail_the_tests_that_use_the_server(
    project: pytest.Pytester,
) -> None:
    (project.path / "scenarios" / "greeting.yaml").write_text("version: 2\n")
    project.makeini(INI + "mockserver_scenarios = scenarios\n")
    write_tests(
        project,
        """
        def test_one(mockserver):
            pass

        def test_two(mockserver):
            pass

        def test_without_the_server():
            pass
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(errors=2, passed=1)
    result.stdout.fnmatch_lines(
        [
            "mockserver: the session's scenarios have errors",
            "*/scenarios/greeting.yaml:1:10: version: unsupported scenario version 2*",
        ]
    )


XDIST_TESTS = """
import os

import httpx
import pytest


@pytest.mark.parametrize("n", range(8))
def test_each_worker_has_its_own_server(mockserver, n):
    # The same rule name in every test: a shared server would refuse the duplicate.
    mockserver.add_rule(name="mine", match={"last_user": f"question {n}"},
                        reply={"content": f"answer {n}"})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"question {n}"}]}
    headers = {"authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
    reply = httpx.post(os.environ["OPENAI_BASE_URL"] + "/chat/completions", json=body,
                       headers=headers).json()
    assert reply["choices"][0]["message"]["content"] == f"answer {n}"
    assert mockserver.call_count == 1
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open("servers.txt", "a") as out:
        out.write(f"{worker} {mockserver.url}\\n")
"""


@pytest.mark.parametrize("workers", [2, 4])
def test_xdist_workers_run_their_own_servers(project: pytest.Pytester, workers: int) -> None:
    project.makepyfile(test_parallel=XDIST_TESTS)

    # Plugins this run doesn't need are left out: each worker process would import them.
    quiet = ["-p", "no:faker", "-p", "no:anyio", "-p", "no:asyncio", "-p", "no:cacheprovider"]
    result = project.runpytest_subprocess(*quiet, "-p", "xdist", "-n", str(workers), timeout=180)

    result.assert_outcomes(passed=8)
    lines = set((project.path / "servers.txt").read_text().splitlines())
    servers = {line.split()[1] for line in lines}
    workers_seen = {line.split()[0] for line in lines}
    assert len(servers) == len(workers_seen) > 1  # one server per worker, no port shared


@pytest.mark.parametrize(
    ("raw", "worker", "port"),
    [("", None, 0), ("", "gw3", 0), ("0", "gw3", 0), ("9000", None, 9000), ("9000", "gw3", 9003)],
)
def test_a_fixed_port_is_offset_per_xdist_worker(raw: str, worker: str | None, port: int) -> None:
    assert port_for_worker(raw, worker) == port


def test_a_bad_port_is_a_usage_error() -> None:
    with pytest.raises(pytest.UsageError, match="MOCKSERVER_PORT: expected a port number; got 'x'"):
        port_for_worker("x", None)


def test_host_and_port_come_from_the_environment(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MOCKSERVER_HOST", "127.0.0.1")
    monkeypatch.setenv("MOCKSERVER_PORT", str(port))
    write_tests(
        project,
        f"""
        def test_url(mockserver):
            assert mockserver.url == "http://127.0.0.1:{port}"
        """,
    )

    project.runpytest().assert_outcomes(passed=1)


def test_importing_the_plugin_loads_no_server_module_and_no_sdk() -> None:
    # Every pytest run of every project that installs mockserver imports the plugin.
    heavy = ["mockserver.http.app", "mockserver.scenario", "starlette", "uvicorn", "pydantic"]
    heavy += ["openai", "anthropic", "google.genai", "tiktoken", "yaml"]
    code = (
        "import sys, mockserver.testing.pytest_plugin; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "[]"


def test_the_catalog_and_validation_ini_options(project: pytest.Pytester) -> None:
    project.makeini(INI + "mockserver_catalog = strict\nmockserver_validation = strict\n")
    write_tests(
        project,
        """
        def test_an_unlisted_model_gets_the_vendors_404(mockserver):
            client = mockserver.openai_client(max_retries=0)
            with pytest.raises(openai.NotFoundError):
                client.chat.completions.create(
                    model="gpt-unlisted", messages=[{"role": "user", "content": "hi"}]
                )
            with pytest.raises(openai.BadRequestError, match="Unrecognized request argument"):
                client.chat.completions.create(
                    model="gpt-4o",
                    messages=[{"role": "user", "content": "hi"}],
                    extra_body={"no_such_field": 1},
                )
        """,
    )
    project.runpytest().assert_outcomes(passed=1)


def test_a_bad_catalog_option_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makeini(INI + "mockserver_catalog = closed\n")
    write_tests(project, "def test_x(mockserver):\n    pass\n")
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mockserver_catalog: expected open or strict; got 'closed'*"])


def test_mockserver_is_importable_from_the_package() -> None:
    import mockserver
    from mockserver.testing.handle import MockServer

    assert mockserver.MockServer is MockServer
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = mockserver.nothing  # type: ignore[attr-defined]
