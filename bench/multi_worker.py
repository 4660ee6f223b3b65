"""Multi-worker: `serve --workers 2` answers byte for byte like one worker, and how fast.

Two fresh servers (one worker, two workers) get the same sequence of distinct requests (each
occurs once, so no answer depends on a per-process occurrence counter) on new connections, which
the kernel spreads over the workers. Then wrk measures both, unpinned, in interleaved rounds.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench import client
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import ServerProcess
from bench.stats import median
from bench.workloads import CHAT, THROUGHPUT_SCENARIO, Workload, distinct_requests
from bench.wrk import WrkError, lua_script, run_wrk

SPEC = FigureSpec(
    "multi-worker",
    "multi-worker: 2 workers vs 1",
    Target("check", "reported; byte-identical"),
    "rps",
)
REQUESTS = 30
MAX_ROUNDS = 3


def answers(server: ServerProcess, requests: list[Workload]) -> list[client.Response]:
    return [client.request(server.port, w.path, w.encoded(), w.headers) for w in requests]


def first_difference(
    requests: list[Workload], ones: list[client.Response], twos: list[client.Response]
) -> str | None:
    for workload, one, two in zip(requests, ones, twos, strict=True):
        for part, a, b in (
            ("status", one.status, two.status),
            ("headers", one.payload_headers(), two.payload_headers()),
            ("body", one.body, two.body),
        ):
            if a != b:
                return (
                    f"{workload.name} ({workload.body['messages'][0]['content']!r}): {part} differs"
                )
    return None


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    requests = distinct_requests(REQUESTS)
    single = ctx.start_mock(THROUGHPUT_SCENARIO, pinned=False)
    try:
        multi = ctx.start_mock(THROUGHPUT_SCENARIO, workers=2, pinned=False)
        try:
            time.sleep(1.0)  # the probe proves one worker up; give the other a moment
            difference = first_difference(
                requests, answers(single, requests), answers(multi, requests)
            )
            rps = _throughput(ctx, single, multi)
        finally:
            multi.stop()
    finally:
        single.stop()
    if isinstance(rps, str):
        return [SPEC.failed(rps)]
    ones, twos = rps
    data = {"requests_compared": REQUESTS, "one_worker_rps": ones, "two_workers_rps": twos}
    result = SPEC.result(median(twos), median(ones), median(twos) / median(ones), data=data)
    if difference:
        result.detail = f"not byte-identical: {difference}"
    return [result.judge(ok=difference is None)]


def _throughput(
    ctx: Context, single: ServerProcess, multi: ServerProcess
) -> tuple[list[float], list[float]] | str:
    """Interleaved wrk rounds on both servers (nothing pinned), or why they failed."""
    script = ctx.tmp / "multi-worker.lua"
    script.write_text(lua_script(CHAT.encoded(), CHAT.headers))
    options = ctx.options
    measured: dict[int, list[float]] = {single.port: [], multi.port: []}
    try:
        for server in (single, multi):
            _wrk(server, script, options.warmup)
        for n in range(min(options.rounds, MAX_ROUNDS)):
            for server in (single, multi) if n % 2 == 0 else (multi, single):
                measured[server.port].append(_wrk(server, script, options.duration))
            progress(
                f"multi-worker round {n + 1}: 1 worker {measured[single.port][-1]:,.0f} rps, "
                f"2 workers {measured[multi.port][-1]:,.0f} rps"
            )
    except WrkError as exc:
        return str(exc)
    return measured[single.port], measured[multi.port]


def _wrk(server: ServerProcess, script: Path, duration: float) -> float:
    url = f"http://127.0.0.1:{server.port}{CHAT.path}"
    return run_wrk(url, script, duration=duration).requests_per_sec
