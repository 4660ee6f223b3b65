"""Memory: peak resident set (VmHWM) of the long-running mockserver after all other figures.

Run alone (`--only memory`) it first sends one request per workload, so every dialect's code and
both encodings (o200k for chat, cl100k for embeddings) are loaded before the reading. mockserver
builds its Rust tokenizers in the background once it is quiet, so the reading waits until the
peak has stopped growing (`SETTLE_S`): read at once, it could miss the builds' peak.
"""

from __future__ import annotations

import time

from bench.context import Context
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import ServerProcess

SETTLE_S = 1.5  # the peak must stay put this long...
SETTLE_MAX_S = 20.0  # ...within this long

SPEC = FigureSpec(
    "memory", "peak RSS after all runs", Target("max", "≤ 120 MB", 120.0, subject="measured"), "MB"
)


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    server = ctx.mock()
    ctx.capture_all()
    peak = settled_peak_mb(server)
    floor = ctx.baseline_peak_rss_mb()
    data = {"served": sorted(ctx.payloads), "not_served": sorted(ctx.missing)}
    ratio = peak / floor if floor else None
    return [SPEC.result(peak, floor, ratio, data=data).judge()]


def settled_peak_mb(server: ServerProcess) -> float:
    """VmHWM once it has not grown for SETTLE_S (or after SETTLE_MAX_S)."""
    deadline = time.monotonic() + SETTLE_MAX_S
    peak, since = server.peak_rss_mb(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < SETTLE_S:
        time.sleep(0.05)
        now = server.peak_rss_mb()
        if now != peak:
            peak, since = now, time.monotonic()
    return peak
