"""Memory: peak resident set (VmHWM) of the long-running mockserver after all other figures.

Run alone (`--only memory`) it first sends one request per workload, so every dialect's code and
both encodings (o200k for chat, cl100k for embeddings) are loaded before the reading.
"""

from __future__ import annotations

from bench.context import Context
from bench.report import FigureResult, FigureSpec, Target

SPEC = FigureSpec(
    "memory", "peak RSS after all runs", Target("max", "≤ 120 MB", 120.0, subject="measured"), "MB"
)


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    server = ctx.mock()
    ctx.capture_all()
    peak = server.peak_rss_mb()
    floor = ctx.baseline_peak_rss_mb()
    data = {"served": sorted(ctx.payloads), "not_served": sorted(ctx.missing)}
    ratio = peak / floor if floor else None
    return [SPEC.result(peak, floor, ratio, data=data).judge()]
