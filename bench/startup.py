"""Start-up: from `Popen("mockserver serve ...")` to the first completed chat response with exact
usage, polled in a tight loop: with the built-in default scenario (its reply is fake prose) and
with a scenario file (its reply is scripted). The cache folder (`MOCKSERVER_CACHE_DIR`: the rank
tables, the parsed catalog) is either a fresh empty folder (cold) or one filled by an earlier
launch (warm). The baseline column is the same measurement for the baseline app: the floor that
Python, uvicorn and Starlette impose.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from bench import client
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import ServerProcess, Unavailable, baseline_argv, free_port, mock_argv
from bench.stats import median
from bench.tokenizer import chat_prompt_tokens
from bench.workloads import (
    CHAT,
    DEFAULT_PROMPT,
    SCRIPTED_PROMPT,
    SCRIPTED_TOKENS,
    THROUGHPUT_SCENARIO,
)
from bench.workloads import (
    DEFAULT as DEFAULT_CHAT,
)

DEFAULT = FigureSpec(
    "startup",
    "start-up, default scenario",
    Target("max", "≤ 0.3 s median", 0.3, subject="measured"),
    "s",
)
WARM = FigureSpec(
    "startup",
    "start-up, a scenario file",
    Target("max", "≤ 0.5 s median", 0.5, subject="measured"),
    "s",
)
COLD = FigureSpec("startup", "start-up, file, cold cache", Target("report", "reported"), "s")
SPECS = [DEFAULT, WARM, COLD]

Check = Callable[[client.Response], str | None]


def exact_usage(reply: client.Response) -> str | None:
    """None if the first response carries the exact usage of the scripted chat, else why not."""
    usage = reply.json().get("usage") or {}
    expected = {
        "prompt_tokens": chat_prompt_tokens(SCRIPTED_PROMPT),
        "completion_tokens": SCRIPTED_TOKENS,
    }
    got = {k: usage.get(k) for k in expected}
    return None if got == expected else f"first response's usage {got}, expected {expected}"


def default_usage(reply: client.Response) -> str | None:
    """None if the first default reply counts the prompt exactly and has some text."""
    usage = reply.json().get("usage") or {}
    prompt = chat_prompt_tokens(DEFAULT_PROMPT)
    if usage.get("prompt_tokens") == prompt and usage.get("completion_tokens", 0) > 0:
        return None
    return f"first default reply's usage {usage}, expected {prompt} prompt tokens and some text"


def time_launch(
    ctx: Context,
    argv_for: Callable[[int], list[str]],
    probe: tuple[str, bytes, Mapping[str, str]],
    *,
    env: Mapping[str, str] | None = None,
    check: Check | None = None,
) -> float:
    """Seconds from launch to the first 2xx answer to `probe`; Unavailable if it never comes."""
    port = free_port()
    argv = argv_for(port)
    server = ServerProcess(Path(argv[0]).name, argv, port, cores=ctx.server_cores, env=env)
    path, body, headers = probe
    start = time.perf_counter()
    server.launch()
    try:
        reply, answered = client.wait_until_answered(
            port, path, body, headers, timeout=60, alive=server.alive
        )
    except RuntimeError as exc:
        raise Unavailable(server.why_not_started(exc)) from exc
    finally:
        server.stop()
    problem = check(reply) if check else None
    if problem:
        raise ValueError(problem)
    return answered - start


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    mock_probe = (CHAT.path, CHAT.encoded(), CHAT.headers)
    baseline_probe: tuple[str, bytes, dict[str, str]] = ("/ready", b"", {})

    def mock(port: int) -> list[str]:
        return mock_argv(THROUGHPUT_SCENARIO, port)

    def mock_default(port: int) -> list[str]:
        return mock_argv(None, port)

    default_probe = (DEFAULT_CHAT.path, DEFAULT_CHAT.encoded(), DEFAULT_CHAT.headers)

    def baseline(port: int) -> list[str]:
        return baseline_argv(None, port)

    warm_dir = ctx.tmp / "cache-warm"
    _prime(ctx, warm_dir)
    times: dict[str, list[float]] = {"default": [], "cold": [], "warm": [], "baseline": []}
    try:
        for n in range(ctx.options.rounds):
            cold_dir = ctx.tmp / f"cache-cold-{n}"
            times["cold"].append(
                time_launch(ctx, mock, mock_probe, env=_cache(cold_dir), check=exact_usage)
            )
            times["warm"].append(
                time_launch(ctx, mock, mock_probe, env=_cache(warm_dir), check=exact_usage)
            )
            times["default"].append(
                time_launch(
                    ctx, mock_default, default_probe, env=_cache(warm_dir), check=default_usage
                )
            )
            times["baseline"].append(time_launch(ctx, baseline, baseline_probe))
            progress(
                f"start-up round {n + 1}: "
                + ", ".join(f"{kind} {values[-1]:.3f}s" for kind, values in times.items())
            )
    except ValueError as exc:
        return [spec.failed(str(exc)) for spec in SPECS]
    floor = median(times["baseline"])
    note = "" if _cache_files(warm_dir) else "the server wrote no cache files"
    results = []
    for spec, kind in ((DEFAULT, "default"), (WARM, "warm"), (COLD, "cold")):
        value = median(times[kind])
        data = {"launches_s": times[kind], "baseline_launches_s": times["baseline"]}
        results.append(spec.result(value, floor, value / floor, detail=note, data=data).judge())
    return results


def _cache(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    return {"MOCKSERVER_CACHE_DIR": str(directory)}


def _prime(ctx: Context, directory: Path, *, tables: int = 2, timeout: float = 15.0) -> None:
    """Fill `directory` as one launch does, kept alive until both encodings' rank tables are
    written (the server loads them in a background thread), or `timeout`."""
    port = free_port()
    argv = mock_argv(THROUGHPUT_SCENARIO, port)
    with ServerProcess("mockserver", argv, port, env=_cache(directory)) as server:
        server.start(CHAT.path, CHAT.encoded(), CHAT.headers)
        # A default reply too: fake prose's vocabulary is kept in the cache folder.
        client.request(port, DEFAULT_CHAT.path, DEFAULT_CHAT.encoded(), DEFAULT_CHAT.headers)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(list(directory.glob("*.table"))) < tables:
            time.sleep(0.05)


def _cache_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.suffix != ".tmp"]
