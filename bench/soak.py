"""Soak: 50,000 unique chat requests (each prompt new, so nothing repeats in a memo or cache) to
a fresh `mockserver serve` with the journal at its default size. Every store is bounded, so the
resident set after the last request must be within 10 % of the one after the first 10,000.

The client is plain `http.client` on keep-alive connections, a few threads at once: the figure
is memory, not speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.client import send_numbered
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import ServerProcess, free_port, mock_argv
from bench.workloads import AUTH, CHAT_MODEL

TOTAL = 50_000
FIRST = 10_000
CONNECTIONS = 8

SPEC = FigureSpec(
    "soak",
    "soak: RSS after 50k unique requests vs after 10k",
    Target("max", "≤ 1.1× (bounded stores)", 1.1),
    "MB",
)


def current_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def send_unique(port: int, start: int, count: int) -> None:
    """`count` chat requests numbered from `start`, spread over CONNECTIONS threads."""

    def body_of(n: int) -> bytes:
        body = {
            "model": CHAT_MODEL,
            "messages": [{"role": "user", "content": f"soak request {n}: say something"}],
            "max_tokens": 16,
        }
        return json.dumps(body).encode()

    path = "/v1/chat/completions"
    send_numbered(port, path, body_of, AUTH, range(start, start + count), CONNECTIONS)


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    # The first part is past the tokenizer's build (4,096 distinct texts) in either run.
    total = TOTAL if not ctx.options.quick else 12_000
    first = FIRST if not ctx.options.quick else 6_000
    port = free_port()
    with ServerProcess("mockserver", mock_argv(None, port), port) as server:
        probe = {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "ready?"}]}
        server.start("/v1/chat/completions", json.dumps(probe).encode(), AUTH)
        assert server.process is not None
        send_unique(port, 0, first)
        after_first = current_rss_mb(server.process.pid)
        progress(f"soak: {first:,} unique requests, RSS {after_first:.1f} MB")
        send_unique(port, first, total - first)
        at_end = current_rss_mb(server.process.pid)
        progress(f"soak: {total:,} unique requests, RSS {at_end:.1f} MB")
    data = {"requests": total, "rss_after_first_mb": after_first, "first": first}
    return [SPEC.result(at_end, after_first, at_end / after_first, data=data).judge()]
