"""Fixture start-up: how long the first test waits for the `mockserver` pytest fixture.

Each sample is a fresh `pytest` process running one test that requests the fixture; a conftest
hook times that test's setup phase, which is where the session server starts (plus the
per-test reset). The first session is a warm-up (cache folder, .pyc files) and tells whether
the fixture exists at all.

The baseline is the same for a test that requests nothing: the setup every first test pays in
this environment whatever it uses (installed plugins' autouse fixtures — Faker's builds its
session `Faker`, ~0.1 s). The target is held against the whole setup; the detail says how much
of it the fixture itself takes.
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
PLUGIN = "mockserver.pytest_plugin"

CONFTEST = """\
import json, os, time

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        with open(os.environ["BENCH_FIXTURE_OUT"], "w") as out:
            json.dump({"setup_s": time.perf_counter() - start}, out)
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


def session(folder: Path, cache: Path, test: str = "test_fixture_ready.py") -> float:
    """One pytest process; the setup time of its only test, or Unavailable/RuntimeError."""
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
    setup: float = json.loads(out.read_text())["setup_s"]
    return setup


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
            bare.append(session(folder, cache, "test_bare.py"))
            progress(
                f"fixture start-up {n + 1}/{ctx.options.rounds}: {samples[-1]:.3f}s "
                f"(a bare test: {bare[-1]:.3f}s)"
            )
    except RuntimeError as exc:
        if isinstance(exc, Unavailable):
            raise
        return [SPEC.failed(str(exc))]
    measured, floor = median(samples), median(bare)
    detail = f"the fixture's own share: {measured - floor:.3f} s"
    data = {"sessions_s": samples, "bare_sessions_s": bare}
    return [SPEC.result(measured, floor, measured / floor, detail=detail, data=data).judge()]
