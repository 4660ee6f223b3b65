"""Server processes under test: mockserver and the baseline, pinned to their own cores.

With two or more usable cores the servers get the first one and the load generator (wrk, the
bench's asyncio client) the rest, so client and server don't steal each other's time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from bench import client

ROOT = Path(__file__).resolve().parent.parent


class Unavailable(RuntimeError):
    """A figure cannot be measured (yet): the server, an endpoint or a fixture is missing."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def core_split() -> tuple[list[int] | None, list[int] | None]:
    """(server cores, client cores), or (None, None) when there is only one core to use."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return cores[:1], cores[1:]


def pin_self(cores: Sequence[int] | None) -> None:
    if cores:
        os.sched_setaffinity(0, set(cores))


def mockserver_command() -> list[str]:
    """`mockserver` from this interpreter's venv (what `make run` starts), else `-m mockserver`."""
    script = Path(sys.executable).parent / "mockserver"
    return [str(script)] if script.exists() else [sys.executable, "-m", "mockserver"]


def mock_argv(scenario: Path | None, port: int, *, workers: int = 1) -> list[str]:
    argv = [*mockserver_command(), "serve"]
    if scenario is not None:
        argv.append(str(scenario))
    argv += ["--port", str(port), "--log-level", "warning"]
    if workers > 1:
        argv += ["--workers", str(workers)]
    return argv


def baseline_argv(payloads: Path | None, port: int) -> list[str]:
    argv = [sys.executable, "-m", "bench.baseline_app", "--port", str(port)]
    return argv + (["--payloads", str(payloads)] if payloads else [])


class ServerProcess:
    """A server subprocess; `start()` returns once `probe` is answered with a 2xx."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        port: int,
        *,
        cores: Sequence[int] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.cores = set(cores) if cores else None
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the process without waiting (the start-up figure times from here)."""
        cores = self.cores
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
        )
        return self.process

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @contextlib.contextmanager
    def on_every_core(self) -> Iterator[None]:
        """Every thread of the (pinned) server may run on any core inside the block: for a
        figure where the client only waits for one answer, as a deployed server would."""
        if self.process is None or not self.cores:
            yield
            return
        threads = Path(f"/proc/{self.process.pid}/task")
        everywhere = os.sched_getaffinity(0) | set(self.cores)
        # Threads made meanwhile take the affinity of the thread that makes them.
        for tid in threads.iterdir():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(tid.name), everywhere)
        try:
            yield
        finally:
            if self.alive():
                for tid in threads.iterdir():
                    with contextlib.suppress(ProcessLookupError):
                        os.sched_setaffinity(int(tid.name), self.cores)

    def output(self, limit: int = 2000) -> str:
        if self.log.closed:
            return ""
        self.log.seek(0)
        text = self.log.read().decode("utf-8", errors="replace").strip()
        return text[-limit:]

    def start(
        self,
        probe_path: str,
        probe_body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> ServerProcess:
        self.launch()
        try:
            client.wait_until_answered(
                self.port,
                probe_path,
                probe_body or b"",
                headers or {},
                timeout=timeout,
                alive=self.alive,
            )
        except RuntimeError as exc:
            reason = self.why_not_started(exc)
            self.stop()
            raise Unavailable(reason) from exc
        return self

    def why_not_started(self, error: Exception) -> str:
        """The last line the server printed first (the table shows the start), then the rest."""
        output = self.output()
        last = output.splitlines()[-1] if output else "no output"
        code = self.process.poll() if self.process else None
        if code is None:
            return f"{self.name} did not answer: {error}; output: {output or 'none'}"
        return f"{self.name} exited with status {code}: {last} | full output: {output}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the process so far (Linux), else None. Time the
        hypervisor stole is in neither, so it tells the work done apart from the machine."""
        if self.process is None:
            return None
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        """VmHWM (peak resident set) of the process, in MiB."""
        if self.process is None:
            raise Unavailable(f"{self.name} is not running")
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise Unavailable(f"no VmHWM in /proc/{self.process.pid}/status")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
