"""Async task figures: how fast an existing task is polled, and what 10,000 live tasks cost.

Poll: wrk sends `GET /v1/videos/{id}` (OpenAI videos) and `GET /mj/task/{id}/fetch`
(Midjourney) for one task submitted beforehand to the long-running mockserver, interleaved
with chat runs beside each (the throughput figures' rounds and ratios). The task advances one
stage per poll, so the runs poll a finished task: what a client polling a long job (or a
dashboard refreshing) sends most.

Memory: a fresh `mockserver serve` answers 200 video submissions (every module of the path
loaded), then 10,000 more, each a new prompt; the figure is the resident set's growth over
those 10,000 (the tasks and their journal entries, both bounded stores).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping

from bench import throughput
from bench.client import send_numbered
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import ServerProcess, Unavailable, free_port, mock_argv
from bench.soak import current_rss_mb
from bench.throughput import Comparison, Side
from bench.workloads import AUTH, CHAT, encode_json
from bench.wrk import lua_script

POLLS = {"poll-video": "task-poll", "poll-mj": "task-poll-mj"}  # workload -> figure
POLL_SPECS = [
    FigureSpec(
        "task-poll", "task poll, GET /v1/videos/{id}", Target("min", "≥ 0.8× chat", 0.8), "rps"
    ),
    FigureSpec(
        "task-poll-mj",
        "task poll, GET /mj/task/{id}/fetch",
        Target("min", "≥ 0.8× chat", 0.8),
        "rps",
    ),
]
LIVE_TASKS = 10_000
WARM_TASKS = 200
CONNECTIONS = 8
MEMORY_SPEC = FigureSpec(
    "tasks-memory",
    "RSS growth, 10,000 live tasks",
    Target("max", "≤ 50 MB", 50.0, subject="measured"),
    "MB",
)
SPECS = [*POLL_SPECS, MEMORY_SPEC]
VIDEO = {"model": "sora-2", "prompt": "bench: a fox crossing a snowy field", "seconds": "4"}


class PollTargets(throughput.Targets):
    """The throughput figures' targets, and GETs of two tasks submitted here."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.paths: dict[str, str] = {}

    def submit(self) -> None:
        port = self.ctx.mock().port
        video = post(port, "/v1/videos", VIDEO)
        imagine = post(port, "/mj/submit/imagine", {"prompt": "bench: a fox, watercolour"})
        self.paths["poll-video"] = f"/v1/videos/{video['id']}"
        self.paths["poll-mj"] = f"/mj/task/{imagine['result']}/fetch"

    def script(self, workload: str) -> str:
        if workload not in self.paths:
            return super().script(workload)
        if workload not in self.scripts:
            headers = {"Authorization": AUTH["Authorization"]}
            path = self.ctx.tmp / f"{workload}.lua"
            path.write_text(lua_script(b"", headers, method="GET"))
            self.scripts[workload] = str(path)
        return self.scripts[workload]

    def url(self, side: Side) -> str:
        if side.workload not in self.paths:
            return super().url(side)
        return f"http://127.0.0.1:{self.ctx.mock().port}{self.paths[side.workload]}"


def post(port: int, path: str, body: Mapping[str, object]) -> dict[str, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, encode_json(body), AUTH)
        answer = connection.getresponse()
        data = answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        raise Unavailable(f"POST {path} -> {answer.status}: {data[:200]!r}")
    result: dict[str, object] = json.loads(data)
    return result


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    results: list[FigureResult] = []
    wanted = [spec for spec in POLL_SPECS if spec.key in keys]
    if wanted:
        results += run_polls(ctx, wanted)
    if MEMORY_SPEC.key in keys:
        results.append(run_memory(ctx))
    return results


def run_polls(ctx: Context, specs: list[FigureSpec]) -> list[FigureResult]:
    targets = PollTargets(ctx)
    targets.submit()
    for path in targets.paths.values():  # past the default stages: a finished task
        for _ in range(4):
            get(ctx.mock().port, path)
    comparisons = [
        Comparison(spec, Side("mock", workload), Side("mock", CHAT.name, beside=spec.key))
        for workload, key in POLLS.items()
        for spec in specs
        if spec.key == key
    ]
    measured, failures = throughput._measure(
        ctx, targets, throughput.measurement_order(comparisons)
    )
    return [throughput._figure(ctx, c, measured, failures) for c in comparisons]


def get(port: int, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": AUTH["Authorization"]})
        answer = connection.getresponse()
        answer.read()
    finally:
        connection.close()
    if answer.status != 200:
        raise Unavailable(f"GET {path} -> {answer.status}")


def submit_videos(port: int, start: int, count: int) -> None:
    """`count` video submissions numbered from `start` (each prompt new), over CONNECTIONS
    keep-alive connections."""

    def body_of(n: int) -> bytes:
        return encode_json(VIDEO | {"prompt": f"bench task {n}: a fox crossing a snowy field"})

    send_numbered(port, "/v1/videos", body_of, AUTH, range(start, start + count), CONNECTIONS)


def run_memory(ctx: Context) -> FigureResult:
    port = free_port()
    with ServerProcess("mockserver", mock_argv(None, port), port) as server:
        server.start(CHAT.path, CHAT.encoded(), CHAT.headers)
        assert server.process is not None
        submit_videos(port, 0, WARM_TASKS)
        before = current_rss_mb(server.process.pid)
        first = post(port, "/v1/videos", VIDEO)  # the oldest of the 10,000
        submit_videos(port, WARM_TASKS + 1, LIVE_TASKS - 1)
        after = current_rss_mb(server.process.pid)
        get(port, f"/v1/videos/{first['id']}")  # still live: none of the 10,000 dropped
    progress(f"tasks-memory: RSS {before:.1f} -> {after:.1f} MB over {LIVE_TASKS:,} tasks")
    growth = after - before
    data = {"tasks": LIVE_TASKS, "rss_before_mb": before, "rss_after_mb": after}
    per_task = growth * 1024 * 1024 / LIVE_TASKS
    detail = f"RSS {before:.1f} -> {after:.1f} MB; {per_task:,.0f} B a task, journal included"
    return MEMORY_SPEC.result(growth, detail=detail, data=data).judge()
