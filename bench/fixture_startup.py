"""Fixture start-up: how long the `mockserver` pytest fixture takes to be ready.

Each sample is a fresh `pytest` process running one test that requests the fixture; a conftest
times, with pytest's `pytest_fixture_setup` hook, the setup of every fixture of the plugin
(`mockserver_settings`, the session's `mockserver_server`, which starts the server, and the
per-test `mockserver` handle); their sum is the figure. The same conftest times the test's whole
setup phase, which is printed beside it: it adds what every first test pays in this
environment whatever it uses (installed plugins' autouse fixtures: Faker's builds its session
`Faker`, ~0.05 s), measured on its own as the setup of a test that requests nothing. The first
session is a warm-up (cache folder, .pyc files) and tells whether the fixture exists at all.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import Unavailable
from bench.stats import median

SPEC = FigureSpec(
    "fixture-startup",
    "pytest fixture start-up",
    Target("max", "≤ 0.2 s median", 0.2, subject="measured"),
    "s",
)
PLUGIN = "mockserver.testing.pytest_plugin"

CONFTEST = """\
import json, os, time

import pytest

OWN = []  # seconds, per setup of one of the plugin's fixtures


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    # pytest sets a fixture's dependencies up before calling this hook for it: no nesting.
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        if "mockserver" in fixturedef.argname:
            OWN.append(time.perf_counter() - start)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        with open(os.environ["BENCH_FIXTURE_OUT"], "w") as out:
            json.dump({"setup_s": time.perf_counter() - start, "fixture_s": sum(OWN)}, out)
"""

TEST = """\
def test_fixture_ready(mockserver):
    assert mockserver is not None
"""
BARE = """\
def test_bare():
    pass
"""


def plugin_registered() -> bool:
    """Whether pytest loads the plugin by itself (the package's pytest11 entry point)."""
    return any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))


def session(folder: Path, cache: Path, test: str = "test_fixture_ready.py") -> dict[str, float]:
    """One pytest process: its only test's setup time (`setup_s`) and the plugin's fixtures'
    share of it (`fixture_s`); or Unavailable/RuntimeError."""
    out = folder / "timing.json"
    out.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(folder),
    ]
    if not plugin_registered():
        argv += ["-p", PLUGIN]
    env = {**os.environ, "BENCH_FIXTURE_OUT": str(out), "MOCKSERVER_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [*argv, str(folder / test)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = (done.stdout + done.stderr).strip()
    if "fixture 'mockserver' not found" in output:
        raise Unavailable("not available: the pytest fixture 'mockserver' is not defined yet")
    if done.returncode != 0 or not out.exists():
        tail = " | ".join(output.splitlines()[-6:])
        raise RuntimeError(f"the fixture session failed (exit {done.returncode}): {tail}")
    timings: dict[str, float] = json.loads(out.read_text())
    return timings


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    folder = ctx.tmp / "fixture-session"
    folder.mkdir(exist_ok=True)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_fixture_ready.py").write_text(TEST)
    (folder / "test_bare.py").write_text(BARE)
    cache = ctx.tmp / "fixture-cache"
    try:
        session(folder, cache)  # warm-up, and the check that the fixture exists
        session(folder, cache, "test_bare.py")
        samples, bare = [], []
        for n in range(ctx.options.rounds):
            samples.append(session(folder, cache))
            bare.append(session(folder, cache, "test_bare.py")["setup_s"])
            progress(
                f"fixture start-up {n + 1}/{ctx.options.rounds}: {samples[-1]['fixture_s']:.3f}s "
                f"(the test's setup {samples[-1]['setup_s']:.3f}s; a bare test's {bare[-1]:.3f}s)"
            )
    except RuntimeError as exc:
        if isinstance(exc, Unavailable):
            raise
        return [SPEC.failed(str(exc))]
    measured = median([sample["fixture_s"] for sample in samples])
    setup = median([sample["setup_s"] for sample in samples])
    detail = (
        f"the first test's whole setup: {setup:.3f} s, of which other plugins' "
        f"(a bare test's setup) {median(bare):.3f} s"
    )
    data = {"sessions": samples, "bare_sessions_setup_s": bare}
    return [SPEC.result(measured, detail=detail, data=data).judge()]
