"""Throughput figures: wrk against mockserver and the baseline, in interleaved rounds.

Every round runs each target once; odd rounds run them in reverse order, so within each pair
(subject, reference) each side goes first equally often and slow drift in the machine hits both.
A figure's ratio is the median of its per-round ratios. The two sides of a figure are measured
one right after the other: a dialect's reference is a chat run of its own, beside it, not the
chat run of the non-stream figure. Measured ~40 s apart, a dialect's ratio to chat swung with
the machine: Responses went from 0.99x to 0.71x of chat between two runs while the baseline's
own Responses-to-chat ratio went from 1.01x to 0.82x.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.context import Context, progress
from bench.feed_listener import feed_open
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import Unavailable
from bench.stats import median
from bench.workloads import GATEWAY_CHAT, WORKLOADS
from bench.wrk import WrkError, WrkResult, lua_script, run_wrk


@dataclass(frozen=True, slots=True)
class Side:
    server: Literal["mock", "baseline", "gateway"]
    workload: str
    beside: str = ""  # a run of its own, just before or after this workload's
    feed: bool = False  # a dashboard page's feed (`GET /_mock/events`) is open during the run

    def label(self) -> str:
        where = f" (beside {self.beside})" if self.beside else ""
        listening = ", dashboard feed open" if self.feed else ""
        return f"{self.server} {self.workload}{listening}{where}"


@dataclass(frozen=True, slots=True)
class Comparison:
    spec: FigureSpec
    subject: Side
    reference: Side
    # Also measured and shown in the detail: the subject's ratio to this side (for a dialect,
    # the baseline serving the same bytes, which tells the cost of the payload's size apart).
    context: Side | None = None


def _vs_baseline(key: str, title: str, workload: str, limit: float, text: str) -> Comparison:
    spec = FigureSpec(key, title, Target("min", text, limit), "rps")
    return Comparison(spec, Side("mock", workload), Side("baseline", workload))


def _vs_chat(key: str, title: str) -> Comparison:
    spec = FigureSpec(key, title, Target("min", "≥ 0.8× chat", 0.8), "rps")
    return Comparison(
        spec, Side("mock", key), Side("mock", "chat", beside=key), Side("baseline", key)
    )


COMPARISONS = [
    _vs_baseline("nonstream", "non-stream throughput (chat)", "chat", 0.8, "≥ 0.8× baseline"),
    _vs_baseline(
        "stream-20", "stream throughput, 20 tokens", "stream-20", 2.5, "≥ 2.5× StreamingResponse"
    ),
    _vs_baseline(
        "stream-200", "stream throughput, 200 tokens", "stream-200", 2.5, "≥ 2.5× StreamingResponse"
    ),
    _vs_baseline("default", "default scenario", "default", 0.5, "≥ 0.5× baseline"),
    _vs_chat("anthropic", "Anthropic /v1/messages"),
    _vs_chat("responses", "Responses /v1/responses"),
    _vs_chat("gemini", "Gemini generateContent"),
    _vs_chat("embeddings", "embeddings /v1/embeddings"),
    Comparison(
        FigureSpec(
            "gateway", "chat, gateway mode on", Target("min", "≥ 0.8× gateway off", 0.8), "rps"
        ),
        Side("gateway", "gateway-chat"),
        Side("mock", "chat", beside="gateway"),
    ),
    Comparison(
        FigureSpec(
            "feed", "chat, dashboard feed open", Target("min", "≥ 0.95× feed closed", 0.95), "rps"
        ),
        Side("mock", "chat", feed=True),
        Side("mock", "chat", beside="feed"),
    ),
]
SPECS = [c.spec for c in COMPARISONS]


class Targets:
    """URL and Lua script of each side; a side mockserver can't serve raises Unavailable."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.scripts: dict[str, str] = {}

    def script(self, workload: str) -> str:
        if workload not in self.scripts:
            w = WORKLOADS.get(workload) or GATEWAY_CHAT
            path = self.ctx.tmp / f"{workload}.lua"
            path.write_text(lua_script(w.encoded(), w.headers))
            self.scripts[workload] = str(path)
        return self.scripts[workload]

    def url(self, side: Side) -> str:
        self.ctx.capture_all()
        if side.workload in self.ctx.missing:
            raise Unavailable(self.ctx.missing[side.workload])
        if side.server == "gateway":
            return f"http://127.0.0.1:{self.ctx.gateway().port}{GATEWAY_CHAT.path}"
        if side.server == "mock":
            return f"http://127.0.0.1:{self.ctx.mock().port}{WORKLOADS[side.workload].path}"
        return f"http://127.0.0.1:{self.ctx.baseline().port}/{side.workload}"

    def run(self, side: Side, duration: float) -> WrkResult:
        """One wrk run, with the CPU time the server spent on it."""
        url = self.url(side)
        servers = {
            "mock": self.ctx.mock,
            "gateway": self.ctx.gateway,
            "baseline": self.ctx.baseline,
        }
        server = servers[side.server]()
        listening = feed_open(server.port) if side.feed else contextlib.nullcontext()
        with listening:
            before = server.cpu_seconds()
            result = run_wrk(
                url,
                Path(self.script(side.workload)),
                duration=duration,
                connections=self.ctx.options.connections,
                cpus=self.ctx.client_cores,
            )
            after = server.cpu_seconds()
        if before is not None and after is not None:
            result.server_cpu_s = after - before
        return result


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    chosen = [c for c in COMPARISONS if c.spec.key in keys]
    targets = Targets(ctx)
    results: dict[str, FigureResult] = {}
    usable: list[Comparison] = []
    for comparison in chosen:
        try:
            targets.url(comparison.subject)
            targets.url(comparison.reference)
        except Unavailable as exc:
            results[comparison.spec.key] = comparison.spec.unavailable(str(exc))
        else:
            usable.append(comparison)
    measured, failures = _measure(ctx, targets, measurement_order(usable))
    for comparison in usable:
        results[comparison.spec.key] = _figure(ctx, comparison, measured, failures)
    return [results[c.spec.key] for c in chosen]


def measurement_order(comparisons: list[Comparison]) -> list[Side]:
    """Every side to measure, once, in a round's order: each figure's reference right before
    its subject (odd rounds run the list backwards: right after)."""
    return list(
        dict.fromkeys(
            s for c in comparisons for s in (c.reference, c.subject, c.context) if s is not None
        )
    )


def _measure(
    ctx: Context, targets: Targets, sides: list[Side]
) -> tuple[dict[Side, list[WrkResult]], dict[Side, str]]:
    options = ctx.options
    measured: dict[Side, list[WrkResult]] = {side: [] for side in sides}
    failures: dict[Side, str] = {}
    warmed: dict[tuple[str, str], Side] = {}
    for side in sides:
        first = warmed.setdefault((side.server, side.workload), side)
        if first is not side:  # the same server and workload: warm already
            if first in failures:
                failures[side] = failures[first]
            continue
        progress(f"warm-up: {side.label()} ({options.warmup:g}s)")
        try:
            targets.run(side, options.warmup)
        except WrkError as exc:
            failures[side] = str(exc)
    for n in range(options.rounds):
        order = sides if n % 2 == 0 else sides[::-1]
        for side in order:
            if side in failures:
                continue
            try:
                result = targets.run(side, options.duration)
            except WrkError as exc:
                failures[side] = str(exc)
                continue
            measured[side].append(result)
            rps = result.requests_per_sec
            progress(f"round {n + 1}/{options.rounds}: {side.label()}: {rps:,.0f} rps")
    return measured, failures


def _figure(
    ctx: Context,
    comparison: Comparison,
    measured: dict[Side, list[WrkResult]],
    failures: dict[Side, str],
) -> FigureResult:
    spec, subject, reference = comparison.spec, comparison.subject, comparison.reference
    for side in (subject, reference):
        if side in failures:
            return spec.failed(f"{side.label()}: {failures[side]}")
    ours = [r.requests_per_sec for r in measured[subject]]
    theirs = [r.requests_per_sec for r in measured[reference]]
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    notes = [
        ctx.notes[w]
        for w in dict.fromkeys((subject.workload, reference.workload))
        if w in ctx.notes
    ]
    cpu_ours, cpu_theirs = (cpu_per_request(measured[side]) for side in (subject, reference))
    if cpu_ours and cpu_theirs:
        notes.append(
            f"server CPU a request {cpu_ours * 1e6:.0f} vs {cpu_theirs * 1e6:.0f} µs "
            f"({cpu_theirs / cpu_ours:.2f}×)"
        )
    context = comparison.context
    if context is not None and measured.get(context) and context not in failures:
        rounds = [r.requests_per_sec for r in measured[context]]
        versus = median([a / b for a, b in zip(ours, rounds, strict=True)])
        notes.append(f"{versus:.2f}× the {context.label()} ({median(rounds):,.0f} rps)")
    data = {
        "subject": subject.label(),
        "reference": reference.label(),
        "rounds_rps": ours,
        "reference_rounds_rps": theirs,
        "round_ratios": ratios,
        "latency_ms": [r.latency_ms for r in measured[subject]],
        "reference_latency_ms": [r.latency_ms for r in measured[reference]],
        "ratio_is": "median of per-round ratios",
        "server_cpu_s_per_request": cpu_ours,
        "reference_server_cpu_s_per_request": cpu_theirs,
    }
    return spec.result(
        median(ours), median(theirs), median(ratios), detail="; ".join(notes), data=data
    ).judge()


def cpu_per_request(results: list[WrkResult]) -> float | None:
    """Median over the runs of the server's CPU seconds per request answered: the work a
    request costs, which CPU steal on a shared machine does not inflate (rps it does)."""
    samples = [r.server_cpu_s / r.requests for r in results if r.server_cpu_s and r.requests]
    return median(samples) if samples else None
