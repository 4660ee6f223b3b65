"""What every figure shares: the options, the core split, a temp dir, and the two long-running
servers (mockserver on the throughput scenario, the baseline replaying its captured responses).

Both servers start lazily, so `--only startup` never launches them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import client
from bench.baseline_app import Payload, save_payloads
from bench.servers import (
    ServerProcess,
    Unavailable,
    baseline_argv,
    core_split,
    free_port,
    mock_argv,
    mockserver_command,
)
from bench.workloads import (
    CHAT,
    GATEWAY_CHAT,
    GATEWAY_SCENARIO,
    THROUGHPUT_SCENARIO,
    WORKLOADS,
    Workload,
)


@dataclass(frozen=True, slots=True)
class Options:
    rounds: int = 5  # interleaved rounds per throughput figure, launches per start-up figure
    duration: float = 4.0  # seconds per wrk run
    warmup: float = 2.0  # seconds of wrk before the first measured round, per target
    connections: int = 16
    streams: int = 500  # concurrent streams of the latency figure
    quick: bool = False

    @classmethod
    def quick_run(cls) -> Options:
        return cls(rounds=2, duration=1.0, warmup=1.0, quick=True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Context:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.server_cores, self.client_cores = core_split()
        self._tmp = tempfile.TemporaryDirectory(prefix="mockserver-bench-")
        self.tmp = Path(self._tmp.name)
        self._mock: ServerProcess | None = None
        self._gateway: ServerProcess | None = None
        self._baseline: ServerProcess | None = None
        self.payloads: dict[str, Payload] = {}
        self.missing: dict[str, str] = {}  # workload -> why mockserver can't serve it
        self.notes: dict[str, str] = {}  # workload -> remark about the captured response

    def start_mock(
        self,
        scenario: Path | None,
        *,
        workers: int = 1,
        pinned: bool = True,
        probe: Workload = CHAT,
    ) -> ServerProcess:
        """A fresh mockserver process, started and answering a chat request (the scenario is
        validated first, `mockserver validate`, so that a broken one fails the bench at once)."""
        if scenario is not None:
            subprocess.run(
                [*mockserver_command(), "validate", str(scenario)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        port = free_port()
        server = ServerProcess(
            f"mockserver ({scenario.name if scenario else 'default'})",
            mock_argv(scenario, port, workers=workers),
            port,
            cores=self.server_cores if pinned else None,
        )
        return server.start(probe.path, probe.encoded(), probe.headers)

    def mock(self) -> ServerProcess:
        """The long-running mockserver on `bench/scenarios/throughput.yaml`."""
        if self._mock is None:
            progress("starting mockserver on bench/scenarios/throughput.yaml")
            self._mock = self.start_mock(THROUGHPUT_SCENARIO)
        return self._mock

    def gateway(self) -> ServerProcess:
        """A second mockserver, on `bench/scenarios/gateway.yaml` (gateway mode on)."""
        if self._gateway is None:
            progress("starting mockserver on bench/scenarios/gateway.yaml")
            self._gateway = self.start_mock(GATEWAY_SCENARIO, probe=GATEWAY_CHAT)
        return self._gateway

    def capture_all(self) -> None:
        """One response per workload from mockserver: the baseline's payloads."""
        if self.payloads or self.missing:
            return
        port = self.mock().port
        for workload in WORKLOADS.values():
            try:
                self.payloads[workload.name] = self._capture(port, workload)
            except Unavailable as exc:
                self.missing[workload.name] = str(exc)

    def _capture(self, port: int, workload: Workload) -> Payload:
        reply = client.request(port, workload.path, workload.encoded(), workload.headers)
        if reply.status != 200:
            raise Unavailable(f"POST {workload.path} -> {reply.status}: {reply.excerpt(100)}")
        headers = reply.payload_headers()
        if not workload.stream:
            return Payload(reply.status, headers, reply.body)
        media = reply.header("content-type") or ""
        if not media.startswith("text/event-stream"):
            raise Unavailable(
                f"POST {workload.path} (stream) answered {media!r}, not an SSE stream"
            )
        events = client.sse_events(reply.body)
        if workload.content_events is not None:
            found = sum(map(client.carries_text, events))
            self.notes[workload.name] = f"{len(events)} events, {found} with text"
            if found != workload.content_events:
                self.notes[workload.name] += f" (expected {workload.content_events}: one per token)"
        return Payload(reply.status, headers, reply.body, events)

    def baseline(self) -> ServerProcess:
        """The baseline app serving every captured payload at `POST /<workload>`."""
        if self._baseline is None:
            self.capture_all()
            path = self.tmp / "payloads.json"
            save_payloads(self.payloads, path)
            port = free_port()
            progress("starting the baseline app")
            server = ServerProcess(
                "baseline app", baseline_argv(path, port), port, cores=self.server_cores
            )
            self._baseline = server.start("/ready")
        return self._baseline

    def baseline_peak_rss_mb(self) -> float | None:
        """The baseline app's peak RSS, if it ran (a floor for the memory figure)."""
        return self._baseline.peak_rss_mb() if self._baseline and self._baseline.alive() else None

    def close(self) -> None:
        for server in (self._mock, self._gateway, self._baseline):
            if server is not None:
                server.stop()
        self._tmp.cleanup()
