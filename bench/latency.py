"""Latency fidelity: 500 concurrent paced streams (TTFT 200 ms, 50 tokens/s), timed per event.

For each stream, from the moment its request was written: TTFT is the arrival of the first event
with text; intervals are the gaps between successive text events; lateness of text event i is
its arrival minus its schedule, `ttft + i / tokens_per_second`. Requests start over a 0.5 s
ramp (a stream lasts 1.2 s, so all 500 are open at once) rather than in one burst, which would
measure the accept queue instead of the pacing. The client's own collector is paused while a
round runs: its pauses would read as the server's lateness.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import resource
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from bench import client
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.stats import median, percentile
from bench.steal import StealMeter, describe
from bench.stream_client import StreamTiming, build_request, parse_reads, read_stream
from bench.workloads import LATENCY_SCENARIO, PACED

TTFT = 0.2  # bench/scenarios/latency.yaml
TOKENS_PER_SECOND = 50.0
INTERVAL = 1 / TOKENS_PER_SECOND
RAMP = 0.5

TTFT_SPEC = FigureSpec(
    "latency", "latency: median TTFT", Target("within", "within ±5% of 200 ms", 0.05), "ms"
)
INTERVAL_SPEC = FigureSpec(
    "latency", "latency: median chunk interval", Target("within", "within ±5% of 20 ms", 0.05), "ms"
)
LATENESS_SPEC = FigureSpec(
    "latency",
    "latency: p99 lateness",
    Target("max", "≤ 30 ms", 30.0, subject="measured"),
    "ms",
)
SPECS = [TTFT_SPEC, INTERVAL_SPEC, LATENESS_SPEC]


def analyse(timings: list[StreamTiming], expected_events: int) -> dict[str, Any]:
    """Per-run statistics in milliseconds, plus the failed and odd-looking streams."""
    ttfts: list[float] = []
    intervals: list[float] = []
    lateness: list[float] = []
    failed: list[str] = []
    odd = 0
    for timing in timings:
        if timing.error or timing.status != 200:
            failed.append(timing.error or f"status {timing.status}")
            continue
        arrivals = [t - timing.sent_at for t, event in timing.events if client.carries_text(event)]
        if not arrivals:
            failed.append("no text event")
            continue
        odd += len(arrivals) != expected_events
        ttfts.append(arrivals[0] * 1000)
        intervals += [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]
        lateness += [(t - (TTFT + i * INTERVAL)) * 1000 for i, t in enumerate(arrivals)]
    return {
        "streams": len(timings),
        "failed": failed,
        "odd_event_counts": odd,
        "median_ttft_ms": median(ttfts) if ttfts else None,
        "median_interval_ms": median(intervals) if intervals else None,
        "p99_lateness_ms": percentile(lateness, 0.99) if lateness else None,
    }


async def run_streams(port: int, count: int, ramp: float) -> list[StreamTiming]:
    loop = asyncio.get_running_loop()
    request = build_request(PACED.path, PACED.encoded(), PACED.headers, port)
    start = loop.time() + 0.05
    timings = await asyncio.gather(
        *(read_stream(port, request, start_at=start + ramp * i / count) for i in range(count))
    )
    return [parse_reads(timing) for timing in timings]  # once every stream is over


def measured_round(port: int, count: int) -> list[StreamTiming]:
    """One round of `count` streams, with this process's collector paused: the client is the
    instrument, and a full collection here stopped its reading for 14-19 ms (measured with
    `gc.callbacks`), which the timings would have charged to the server as lateness."""
    gc.collect()
    with paused():
        return run_async(run_streams(port, count, RAMP))


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collections in this (the client's) process inside the block."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_async(coroutine: Coroutine[Any, Any, list[StreamTiming]]) -> list[StreamTiming]:
    """Run on uvloop when it is installed (as the server does): the client must not lag."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


def raise_open_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard < 65536 else 65536, hard))


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    raise_open_file_limit()  # before the server starts: it inherits the limit
    server = ctx.start_mock(LATENCY_SCENARIO)
    expected = PACED.content_events or 0
    previous = os.sched_getaffinity(0)
    try:
        if ctx.client_cores:
            os.sched_setaffinity(0, set(ctx.client_cores))
        run_async(run_streams(server.port, 20, 0.1))  # warm-up
        runs = []
        for n in range(ctx.options.rounds):
            meter = StealMeter()
            runs.append(analyse(measured_round(server.port, ctx.options.streams), expected))
            runs[-1]["cpu_steal_share"] = meter.share()
            progress(f"latency round {n + 1}: {_summary(runs[-1])}")
    finally:
        os.sched_setaffinity(0, previous)
        server.stop()
    failed = [f for r in runs for f in r["failed"]]
    if failed:
        reason = (
            f"{len(failed)} of {sum(r['streams'] for r in runs)} streams failed, e.g. {failed[0]}"
        )
        return [spec.failed(reason, {"runs": runs}) for spec in SPECS]
    ttft = median([r["median_ttft_ms"] for r in runs])
    if not 0.5 <= ttft / (TTFT * 1000) <= 2.0:
        reason = f"the stream is not paced as configured: median TTFT {ttft:.1f} ms, not 200 ms"
        return [spec.failed(reason, {"runs": runs}) for spec in SPECS]
    odd = sum(r["odd_event_counts"] for r in runs)
    note = f"{odd} streams without {expected} text events" if odd else ""
    data = {"runs": runs, "streams_per_run": ctx.options.streams, "ramp_s": RAMP}
    interval = median([r["median_interval_ms"] for r in runs])
    late = median([r["p99_lateness_ms"] for r in runs])
    return [
        TTFT_SPEC.result(ttft, TTFT * 1000, ttft / (TTFT * 1000), detail=note, data=data).judge(),
        INTERVAL_SPEC.result(interval, INTERVAL * 1000, interval / (INTERVAL * 1000)).judge(),
        LATENESS_SPEC.result(late, detail=_rounds_detail(runs)).judge(),
    ]


def _rounds_detail(runs: list[dict[str, Any]]) -> str:
    """Each round's p99 with the CPU steal during it (the machine's share in the figure)."""
    return "rounds " + ", ".join(
        f"{r['p99_lateness_ms']:.1f} ms (steal {describe(r['cpu_steal_share'])})" for r in runs
    )


def _summary(stats: dict[str, Any]) -> str:
    def ms(key: str) -> str:
        value = stats[key]
        return "-" if value is None else f"{value:.1f} ms"

    return (
        f"TTFT {ms('median_ttft_ms')}, interval {ms('median_interval_ms')}, "
        f"p99 lateness {ms('p99_lateness_ms')}, failed {len(stats['failed'])}, "
        f"CPU steal {describe(stats.get('cpu_steal_share'))}"
    )
