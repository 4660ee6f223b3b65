"""Runs the selected figures in order, each on its own: a figure that cannot run becomes an
"unavailable" row and the others go on.

Memory comes last because it reads the peak RSS of the server the earlier figures loaded.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

from bench import (
    big_prompt,
    fixture_startup,
    latency,
    media,
    memory,
    multi_worker,
    soak,
    startup,
    tasks,
    throughput,
)
from bench.context import Context, Options, progress
from bench.report import FigureResult, FigureSpec
from bench.servers import Unavailable
from bench.wrk import WrkError, ensure_wrk


@dataclass(frozen=True, slots=True)
class Group:
    specs: list[FigureSpec]
    run: Callable[[Context, set[str]], list[FigureResult]]
    needs_wrk: bool = False


GROUPS = [
    Group(throughput.SPECS, throughput.run, needs_wrk=True),
    Group([big_prompt.SPEC], big_prompt.run),
    Group(startup.SPECS, startup.run),
    Group([fixture_startup.SPEC], fixture_startup.run),
    Group(latency.SPECS, latency.run),
    Group([multi_worker.SPEC], multi_worker.run, needs_wrk=True),
    Group(media.SPECS, media.run, needs_wrk=True),
    Group(tasks.POLL_SPECS, tasks.run, needs_wrk=True),
    Group([tasks.MEMORY_SPEC], tasks.run),
    Group([memory.SPEC], memory.run),
    Group([soak.SPEC], soak.run),
]
KEYS = list(dict.fromkeys(spec.key for group in GROUPS for spec in group.specs))


def run_all(options: Options, only: set[str] | None = None) -> list[FigureResult]:
    selected = only if only else set(KEYS)
    unknown = selected - set(KEYS)
    if unknown:
        raise ValueError(f"unknown figure(s) {sorted(unknown)}; expected some of {KEYS}")
    results: list[FigureResult] = []
    ctx = Context(options)
    try:
        for group in GROUPS:
            keys = {spec.key for spec in group.specs} & selected
            if keys:
                results += run_group(ctx, group, keys)
    finally:
        ctx.close()
    return results


def run_group(ctx: Context, group: Group, keys: set[str]) -> list[FigureResult]:
    specs = [spec for spec in group.specs if spec.key in keys]
    try:
        if group.needs_wrk:
            ensure_wrk()
        return group.run(ctx, keys)
    except (Unavailable, WrkError) as exc:
        reason = str(exc)
    except Exception as exc:
        traceback.print_exc()
        reason = f"error: {type(exc).__name__}: {exc}"
    progress(f"{', '.join(sorted(keys))}: unavailable: {reason}")
    return [spec.unavailable(reason) for spec in specs]
