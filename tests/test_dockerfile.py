"""The Dockerfile's own install and start commands work, without a Docker daemon.

No daemon runs where these tests run, so the image is imitated step by step: its `COPY`
sources go into a fresh folder (the image's `WORKDIR`), its `RUN` commands run there with
the `pip` of a new, empty virtual environment first on `PATH` (the image's Python), and its
`CMD` starts the server, which must answer `/_mock/health` and a chat completion. The one
change: the server binds 127.0.0.1, not the `0.0.0.0` the container needs (tests serve on
loopback only); the test checks that the `CMD` asks for `0.0.0.0`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
INSTALL_TIMEOUT = 300  # seconds: a generous bound, the install takes ~30-40 s here
START_TIMEOUT = 30  # seconds for the server to answer /_mock/health


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and `\\` continuations joined."""
    joined = text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        found.append((name.upper(), rest.strip()))
    return found


def test_the_dockerfile_is_parsed_as_written() -> None:
    steps = instructions(DOCKERFILE.read_text())
    names = [name for name, _ in steps]
    assert names[0] == "FROM" and steps[0][1].startswith("python:3.11")
    assert "RUN" in names and "CMD" in names and ("EXPOSE", "8000") in steps
    [run] = [args for name, args in steps if name == "RUN"]
    assert "pip install" in run and "--no-deps" not in run  # installs the dependencies too
    [cmd] = [json.loads(args) for name, args in steps if name == "CMD"]
    assert cmd[:2] == ["mockserver", "serve"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"  # reachable through a published port


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """The image's Python (a clean venv) after the Dockerfile's COPY and RUN steps; returns
    the venv's bin folder."""
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(environment)
    bin_dir = environment / "bin"
    workdir = tmp_path / "root"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    for name, args in instructions(DOCKERFILE.read_text()):
        if name == "WORKDIR":
            workdir = tmp_path / "root" / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif name == "COPY":
            *sources, target = shlex.split(args)
            destination = workdir / target
            for source in sources:
                copy(ROOT / source, destination, several=len(sources) > 1 or target.endswith("/"))
        elif name == "RUN":
            result = subprocess.run(
                ["/bin/sh", "-c", args],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            assert result.returncode == 0, f"RUN {args} failed:\n{result.stdout}\n{result.stderr}"
    return bin_dir


def copy(source: Path, destination: Path, *, several: bool) -> None:
    """Docker's COPY: a folder's contents into the target, a file into it (or as it)."""
    if source.is_dir():
        shutil.copytree(
            source, destination, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
        )
        return
    target = destination / source.name if several or destination.is_dir() else destination
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


@pytest.fixture
def started(image: Path, tmp_path: Path) -> Iterator[str]:
    """The Dockerfile's CMD running from the image's venv; yields the server's URL."""
    [cmd] = [json.loads(a) for n, a in instructions(DOCKERFILE.read_text()) if n == "CMD"]
    port = free_port()
    args = [str(image / cmd[0]), *cmd[1:]]
    args[args.index("--host") + 1] = "127.0.0.1"
    args += ["--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MOCKSERVER_CACHE_DIR"] = str(tmp_path / "cache")  # a fresh container has none
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, tmp_path / "server.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the CMD exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/_mock/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no answer from {url}/_mock/health in {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.mark.slow
def test_the_image_installs_and_serves(started: str) -> None:
    health = httpx.get(f"{started}/_mock/health").json()
    client = openai.OpenAI(base_url=f"{started}/v1", api_key="sk-docker", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello from Docker"}]
    )
    client.close()

    assert health["status"] == "ok"
    assert reply.choices[0].message.content  # the built-in default answers
    assert reply.usage is not None and reply.usage.prompt_tokens > 0
