"""The pytest plugin (entry point `pytest11`): one real server per session — per xdist worker —
and a clean `mockserver` handle per test.

Fixtures, outermost first; override any of them in a conftest.py:

    mockserver_host       session   $MOCKSERVER_HOST, else 127.0.0.1
    mockserver_port       session   $MOCKSERVER_PORT (+N on xdist worker gwN), else 0: any free port
    mockserver_scenarios  session   the `mockserver_scenarios` ini option (paths), else none
    mockserver_seed       session   the `mockserver_seed` ini option, else the scenarios' seed
    mockserver_strict     session   the `mockserver_strict` ini option, else the scenarios' flag
    mockserver_settings   session   a `Settings` made of the five above
    mockserver_server     session   the running server (uvicorn in a daemon thread)
    mockserver            function  the test's `MockServer` handle (see mockserver.testing.handle)

    @pytest.mark.mockserver("scenarios/agent.yaml", strict=True, seed=7)
    @pytest.mark.mockserver(record_mode="once")   # record from a real API once, then replay

Record and replay (`mockserver.record.pytest_support`): a test whose marker has `record_mode`
replays `recordings/<module>/<test>.yaml`, or records it through the upstream
(`--mockserver-upstream`); `--mockserver-record-mode` overrides every marker's mode.

The marker's files (relative to the test file's folder, else to the rootdir) are tried before
the session's scenarios, the test's inline rules before both. A test that saw a strict-mode miss
fails, even when the code under test swallowed the HTTP 400 (`mockserver.fail_on_strict_miss =
False` turns that off), and a failing test's report shows its journal.

This module imports only pytest and the standard library: it is loaded in every pytest run once
mockserver is installed. The server's modules load when a test first asks for the fixture.
"""

from __future__ import annotations

import http.client
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread
    from mockserver.record.pytest_support import TestRecording
    from mockserver.scenario import Scenario, ScenarioSet
    from mockserver.server_state import MockState
    from mockserver.settings import Settings
    from mockserver.testing.handle import MockServer

MARKER = "mockserver"
MARKER_OPTIONS = ("strict", "seed", "record_mode")
MARKER_HELP = (
    "mockserver(*scenario_files, strict=None, seed=None, record_mode=None): load these "
    "scenario files for the test (tried before the session's scenarios); override strict mode "
    "and the seed; record_mode (record, replay, once, new_episodes): replay the test's "
    "recording, or record it from the upstream."
)
RECORD_MODES = ("record", "replay", "once", "new_episodes")  # mockserver.record.modes
# Unset for the test: with either set to true, google-genai would call Vertex AI, not us.
UNSET_ENV = ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE")

HANDLE = pytest.StashKey["MockServer"]()
_marker_files: dict[tuple[Path, int], tuple[Scenario, ...]] = {}


class RunningServer(NamedTuple):
    server: ServerThread
    state: MockState
    scenarios: ScenarioSet  # the session's: every test starts from them


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockserver_scenarios", "scenario files or folders every test sees", type="paths")
    parser.addini("mockserver_seed", "seed overriding the scenarios' seed", default="")
    parser.addini("mockserver_strict", "true/false overriding the scenarios' strict flag")
    parser.addini("mockserver_upstream", "the real API that record modes record from")
    group = parser.getgroup("mockserver")
    group.addoption(
        "--mockserver-record-mode",
        choices=RECORD_MODES,
        help="record mode of every test marked with record_mode (overrides the marker)",
    )
    group.addoption("--mockserver-upstream", help="the real API that record modes record from")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)


# --- Configuration fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def mockserver_host() -> str:
    return os.environ.get("MOCKSERVER_HOST") or "127.0.0.1"


@pytest.fixture(scope="session")
def mockserver_port(request: pytest.FixtureRequest) -> int:
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    return port_for_worker(os.environ.get("MOCKSERVER_PORT", ""), worker)


def port_for_worker(raw: str, worker: str | None) -> int:
    """`MOCKSERVER_PORT` for one process: each xdist worker runs its own server, so gw0 takes
    the port, gw1 the next one, and so on. Unset or 0: any free port (`0`)."""
    raw = raw.strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise pytest.UsageError(f"MOCKSERVER_PORT: expected a port number; got {raw!r}")
    port = int(raw)
    if port == 0 or worker is None:
        return port
    number = worker[2:] if worker.startswith("gw") else ""
    return port + int(number) if number.isdigit() else port


@pytest.fixture(scope="session")
def mockserver_scenarios(pytestconfig: pytest.Config) -> list[str]:
    return [str(path) for path in pytestconfig.getini("mockserver_scenarios")]


@pytest.fixture(scope="session")
def mockserver_seed(pytestconfig: pytest.Config) -> int | None:
    raw = str(pytestconfig.getini("mockserver_seed") or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise pytest.UsageError(f"mockserver_seed: expected an integer; got {raw!r}") from None


@pytest.fixture(scope="session")
def mockserver_strict(pytestconfig: pytest.Config) -> bool | None:
    raw = str(pytestconfig.getini("mockserver_strict") or "").strip().lower()
    if raw in ("", "none"):
        return None
    if raw not in ("true", "false", "1", "0"):
        raise pytest.UsageError(f"mockserver_strict: expected true or false; got {raw!r}")
    return raw in ("true", "1")


@pytest.fixture(scope="session")
def mockserver_settings(
    mockserver_host: str,
    mockserver_port: int,
    mockserver_scenarios: list[str],
    mockserver_seed: int | None,
    mockserver_strict: bool | None,
) -> Settings:
    from mockserver.settings import Settings

    return Settings(
        scenario_paths=list(mockserver_scenarios),
        host=mockserver_host,
        port=mockserver_port,
        seed=mockserver_seed,
        strict=mockserver_strict,
    )


# --- The server and the per-test handle --------------------------------------------------------


@pytest.fixture(scope="session")
def mockserver_server(mockserver_settings: Settings) -> Iterator[RunningServer]:
    """The session's server, started once: port bound before start, readiness checked."""
    from mockserver.http.app import create_app
    from mockserver.http.server_thread import ServerThread
    from mockserver.scenario import ScenarioError, load_paths
    from mockserver.server_state import MockState
    from mockserver.tokens.tokenizer import warm_up

    settings = mockserver_settings
    problem: str | None = None
    try:
        scenarios = load_paths(settings.scenario_paths)
    except ScenarioError as error:
        problem = f"mockserver: the session's scenarios have errors\n{error}"
    if problem is not None:  # failed outside the handler: no "during handling" traceback
        pytest.fail(problem, pytrace=False)
    state = MockState(settings, scenarios)
    server = ServerThread(create_app(state=state), settings.host, settings.port).start()
    try:
        _check_ready(server, settings.admin_token)
        # Only now, so the server's start-up does not share the GIL with it: the rank tables
        # load (~3 ms each) while the first test runs; a session that tokenizes a lot gets the
        # Rust encoders in quiet moments between requests (see mockserver.tokens.tokenizer).
        warm_up()
        yield RunningServer(server, state, scenarios)
    finally:
        server.stop()


@pytest.fixture
def mockserver(
    request: pytest.FixtureRequest, mockserver_server: RunningServer
) -> Iterator[MockServer]:
    """The test's handle: the session's server with this test's rules, an empty journal, and
    the SDKs' environment variables pointing at it (restored afterwards)."""
    from mockserver.scenario import ScenarioError
    from mockserver.testing.handle import MockServer

    node = request.node
    paths, options = _marker(node)
    find = _finder(node)
    running = mockserver_server
    recording = _recording(request, options) if "record_mode" in options else None
    server = recording.proxy if recording and recording.proxy else running.server
    handle = MockServer(server, running.state, running.scenarios, node.nodeid, find)
    problem: str | None = None
    try:
        marker_scenarios = [s for path in paths for s in _load_marker_file(find(path))]
        if recording is not None and recording.scenarios:  # replaying: the recording, strictly
            marker_scenarios, options["strict"] = [*recording.scenarios, *marker_scenarios], True
        handle.begin(marker_scenarios, seed=options.get("seed"), strict=options.get("strict"))
    except (ScenarioError, FileNotFoundError) as error:
        problem = f"@pytest.mark.mockserver: {error}"
    if problem is not None:  # failed outside the handler: no "during handling" traceback
        handle.end()
        if recording is not None:
            recording.end()
        pytest.fail(problem, pytrace=False)
    patch = pytest.MonkeyPatch()
    environment = handle.environment()
    if recording is not None:
        environment = recording.environment(environment, os.environ)
    for name, value in environment.items():
        patch.setenv(name, value)
    for name in UNSET_ENV:
        patch.delenv(name, raising=False)
    node.stash[HANDLE] = handle
    try:
        yield handle
    finally:
        del node.stash[HANDLE]
        patch.undo()
        handle.end()
        if recording is not None:
            recording.end()


@pytest.fixture(autouse=True)
def _mockserver_marker(request: pytest.FixtureRequest) -> None:
    """A test with the marker gets the fixture even when it doesn't name it (code under test
    that builds its own clients only needs the environment)."""
    if request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue("mockserver")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    handle = item.stash.get(HANDLE, None)
    if handle is None or report.when != "call":
        return report
    from mockserver.journal import calls

    requests = handle.requests
    if report.passed and handle.fail_on_strict_miss and requests.strict_misses:
        report.outcome = "failed"
        report.longrepr = calls.strict_miss_message(requests)
    if report.failed:
        report.sections.append(("mockserver journal", calls.report(requests)))
    return report


# --- Helpers -----------------------------------------------------------------------------------


def _recording(request: pytest.FixtureRequest, options: dict[str, Any]) -> TestRecording:
    """The test's record/replay (`mockserver.record.pytest_support`), or a clear failure."""
    from mockserver.record.pytest_support import RecordingError, TestRecording

    config = request.config
    upstream = (
        config.getoption("--mockserver-upstream")
        or str(config.getini("mockserver_upstream") or "")
        or os.environ.get("MOCKSERVER_UPSTREAM")
    )
    problem = ""
    try:
        return TestRecording.begin(
            request.node.path,
            request.node.name,
            options.pop("record_mode"),
            config.getoption("--mockserver-record-mode"),
            upstream,
        )
    except RecordingError as error:
        problem = f"@pytest.mark.mockserver: {error}"
    pytest.fail(problem, pytrace=False)


def _marker(node: pytest.Item) -> tuple[list[str], dict[str, Any]]:
    """Scenario files of every `mockserver` marker (closest first) and the closest options."""
    paths: list[str] = []
    options: dict[str, Any] = {}
    for mark in node.iter_markers(MARKER):
        unknown = [key for key in mark.kwargs if key not in MARKER_OPTIONS]
        if unknown:
            pytest.fail(
                f"@pytest.mark.mockserver: unknown argument {unknown[0]!r}; "
                f"expected scenario files and {', '.join(MARKER_OPTIONS)}",
                pytrace=False,
            )
        paths += [str(arg) for arg in mark.args]
        for key, value in mark.kwargs.items():
            options.setdefault(key, value)
    return paths, options


def _finder(node: pytest.Item) -> Callable[[str], Path]:
    """Resolve a scenario path named in a test: the test file's folder first, then rootdir."""
    bases = list(dict.fromkeys([node.path.parent, node.config.rootpath]))

    def find(raw: str) -> Path:
        path = Path(raw)
        candidates = [path] if path.is_absolute() else [base / path for base in bases]
        for candidate in candidates:
            if candidate.exists():
                return candidate
        looked = " and ".join(str(c.parent) for c in candidates)
        raise FileNotFoundError(f"scenario file {raw!r} not found (looked in {looked})")

    return find


def _load_marker_file(path: Path) -> tuple[Scenario, ...]:
    """A marker's file, parsed once per session unless it changes."""
    from mockserver.scenario import load_paths

    key = (path.resolve(), path.stat().st_mtime_ns)
    if key not in _marker_files:
        _marker_files[key] = load_paths([path]).scenarios
    return _marker_files[key]


def _check_ready(server: ServerThread, token: str | None) -> None:
    """One request to `/_mock/health` before the first test runs."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request("GET", "/_mock/health", headers=headers)
        status = connection.getresponse().status
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"mockserver at {server.url} is not ready: /_mock/health gave {status}")
