"""Media figures (issue #20): images and speech on a mockserver of their own.

- **image-repeat**: one image generation request sent again and again (wrk; its picture is
  cached after the first), against chat on the same server, in interleaved rounds as the
  throughput figures are: the median of per-round ratios.
- **image-new**: a 1024x1024 PNG never asked for before (a new prompt every round), the
  client's round trip on a keep-alive connection with the server on its own core.
- **speech**: a 100-word `/v1/audio/speech` request of a new text every round (mp3, the API's
  default); AAC, the slowest encoder, is shown beside it.
- **media-memory**: the server runs with `--media-cache-mb 4`; its resident set is read after a
  warm-up of distinct pictures and again after many more distinct ones, whose files together
  are several times the cache. The growth must stay within the cache plus a margin (the
  journal's entries, the recipes table).

The server is separate from the throughput figures' so that the memory figure's peak stays what
it was before images existed.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import time
from pathlib import Path
from typing import Any

from bench import client
from bench.context import Context, progress
from bench.report import FigureResult, FigureSpec, Target
from bench.servers import ServerProcess, free_port, mock_argv
from bench.stats import median
from bench.workloads import AUTH, CHAT, THROUGHPUT_SCENARIO, encode_json
from bench.wrk import WrkError, WrkResult, lua_script, run_wrk

CACHE_MB = 4
MEMORY_MARGIN_MB = 8.0
MEMORY_WARMUP = 50  # distinct pictures before the first reading
MEMORY_IMAGES = 600  # ... and after it
SPEECH_WORDS = 100

REPEAT_SPEC = FigureSpec(
    "image-repeat",
    "repeated image generation (cached)",
    Target("min", "≥ 0.5× chat", 0.5),
    "rps",
)
NEW_SPEC = FigureSpec(
    "image-new",
    "new 1024×1024 PNG, round trip",
    Target("max", "≤ 50 ms", 50.0, subject="measured"),
    "ms",
)
SPEECH_SPEC = FigureSpec(
    "speech",
    "speech, 100 new words (mp3)",
    Target("max", "≤ 100 ms", 100.0, subject="measured"),
    "ms",
)
MEMORY_SPEC = FigureSpec(
    "media-memory",
    f"RSS growth over {MEMORY_IMAGES} new images",
    Target(
        "max",
        f"≤ {CACHE_MB} MB cache + {MEMORY_MARGIN_MB:g} MB",
        CACHE_MB + MEMORY_MARGIN_MB,
        subject="measured",
    ),
    "MB",
)
SPECS = [REPEAT_SPEC, NEW_SPEC, SPEECH_SPEC, MEMORY_SPEC]

IMAGE_PATH = "/v1/images/generations"
SPEECH_PATH = "/v1/audio/speech"
REPEATED_IMAGE = {"model": "dall-e-3", "prompt": "bench-image: a lighthouse", "size": "1024x1024"}
_SPEECH_TEXT = (
    "the quick brown fox jumps over a lazy dog while warm light falls across quiet hills and "
    "rivers, where people walk slowly, talking about music, science, history and the weather; "
    "later, the station opens again. every morning a small market sells bread, apples, letters "
    "and maps to travellers who arrive early"
)


def new_image(n: int, *, fmt: str = "png") -> dict[str, Any]:
    """A gpt-image-1 request never sent before (its prompt numbered), answered in base64."""
    return {
        "model": "gpt-image-1",
        "prompt": f"bench-new-image {n}: a harbour with {n % 7 + 2} boats at dawn",
        "size": "1024x1024",
        "quality": "low",
        "output_format": fmt,
    }


def speech_text(n: int, words: int = SPEECH_WORDS) -> str:
    """`words` words, different for every `n` (rotated through the vocabulary)."""
    vocabulary = _SPEECH_TEXT.split()
    chosen = [vocabulary[(n * 7 + i) % len(vocabulary)] for i in range(words - 1)]
    return " ".join([f"take{n}", *chosen]) + "."


def run(ctx: Context, keys: set[str]) -> list[FigureResult]:
    port = free_port()
    argv = [*mock_argv(THROUGHPUT_SCENARIO, port), "--media-cache-mb", str(CACHE_MB)]
    progress(f"starting mockserver for the media figures (--media-cache-mb {CACHE_MB})")
    server = ServerProcess("mockserver (media)", argv, port, cores=ctx.server_cores)
    results: dict[str, FigureResult] = {}
    with server.start(CHAT.path, CHAT.encoded(), CHAT.headers):
        if REPEAT_SPEC.key in keys:
            results[REPEAT_SPEC.key] = _repeat(ctx, server)
        if NEW_SPEC.key in keys:
            results[NEW_SPEC.key] = _new_image(ctx, server)
        if SPEECH_SPEC.key in keys:
            results[SPEECH_SPEC.key] = _speech(ctx, server)
        if MEMORY_SPEC.key in keys:
            results[MEMORY_SPEC.key] = _memory(server)
    return [results[spec.key] for spec in SPECS if spec.key in results]


def _repeat(ctx: Context, server: ServerProcess) -> FigureResult:
    options = ctx.options
    scripts: dict[str, tuple[str, Path]] = {}
    for name, path, body in (
        ("chat", CHAT.path, CHAT.encoded()),
        ("image", IMAGE_PATH, encode_json(REPEATED_IMAGE)),
    ):
        reply = client.request(server.port, path, body, AUTH)
        if reply.status != 200:
            return REPEAT_SPEC.failed(f"POST {path} -> {reply.status}: {reply.excerpt(160)}")
        script = ctx.tmp / f"media-{name}.lua"
        script.write_text(lua_script(body, AUTH))
        scripts[name] = (f"http://127.0.0.1:{server.port}{path}", script)

    def once(name: str, duration: float) -> WrkResult:
        url, script = scripts[name]
        return run_wrk(
            url,
            script,
            duration=duration,
            connections=options.connections,
            cpus=ctx.client_cores,
        )

    rates: dict[str, list[float]] = {"chat": [], "image": []}
    try:
        for name in rates:
            progress(f"warm-up: media {name} ({options.warmup:g}s)")
            once(name, options.warmup)
        for n in range(options.rounds):
            order = ["chat", "image"] if n % 2 == 0 else ["image", "chat"]
            for name in order:
                rps = once(name, options.duration).requests_per_sec
                rates[name].append(rps)
                progress(f"round {n + 1}/{options.rounds}: media {name}: {rps:,.0f} rps")
    except WrkError as exc:
        return REPEAT_SPEC.failed(str(exc))
    ratios = [a / b for a, b in zip(rates["image"], rates["chat"], strict=True)]
    data = {"image_rps": rates["image"], "chat_rps": rates["chat"], "round_ratios": ratios}
    return REPEAT_SPEC.result(
        median(rates["image"]), median(rates["chat"]), median(ratios), data=data
    ).judge()


def _timed(
    connection: http.client.HTTPConnection, port: int, path: str, body: dict[str, Any]
) -> tuple[float, client.Response]:
    encoded = encode_json(body)
    start = time.perf_counter()
    reply = client.request(port, path, encoded, AUTH, connection=connection)
    return (time.perf_counter() - start) * 1000, reply


def _new_image(ctx: Context, server: ServerProcess) -> FigureResult:
    rounds = max(ctx.options.rounds * 4, 8)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    timings: list[float] = []
    with contextlib.closing(connection):
        for n in range(-2, rounds):  # two warm-ups: Pillow's import, the tokenizer
            elapsed, reply = _timed(connection, server.port, IMAGE_PATH, new_image(n + 10_000))
            if reply.status != 200:
                return NEW_SPEC.failed(f"POST {IMAGE_PATH} -> {reply.status}: {reply.excerpt()}")
            data = base64.b64decode(reply.json()["data"][0]["b64_json"])
            if not data.startswith(b"\x89PNG"):
                return NEW_SPEC.failed(f"answered {data[:8]!r}, not a PNG")
            if n >= 0:
                timings.append(elapsed)
    progress(f"new 1024² PNG: median {median(timings):.1f} ms over {rounds}")
    return NEW_SPEC.result(median(timings), data={"round_trips_ms": timings}).judge()


def _speech(ctx: Context, server: ServerProcess) -> FigureResult:
    rounds = max(ctx.options.rounds * 4, 8)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    timings: dict[str, list[float]] = {"mp3": [], "aac": []}
    with contextlib.closing(connection):
        for n in range(-2, rounds):
            for fmt, times in timings.items():
                body = {
                    "model": "tts-1",
                    "voice": "alloy",
                    "input": speech_text(n + 10_000 + (500 if fmt == "aac" else 0)),
                    "response_format": fmt,
                }
                elapsed, reply = _timed(connection, server.port, SPEECH_PATH, body)
                if reply.status != 200:
                    return SPEECH_SPEC.failed(
                        f"POST {SPEECH_PATH} -> {reply.status}: {reply.excerpt()}"
                    )
                if n >= 0:
                    times.append(elapsed)
    detail = f"aac {median(timings['aac']):.1f} ms"
    progress(f"speech: mp3 {median(timings['mp3']):.1f} ms, {detail}")
    data = {f"{fmt}_round_trips_ms": times for fmt, times in timings.items()}
    return SPEECH_SPEC.result(median(timings["mp3"]), detail=detail, data=data).judge()


def resident_mb(server: ServerProcess) -> float:
    """VmRSS (the resident set now, not the peak), in MiB."""
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _memory(server: ServerProcess) -> FigureResult:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    made = 0
    before = 0.0
    with contextlib.closing(connection):
        for n in range(MEMORY_WARMUP + MEMORY_IMAGES):
            if n == MEMORY_WARMUP:
                before = resident_mb(server)
            body = new_image(n + 100_000, fmt="jpeg")
            _, reply = _timed(connection, server.port, IMAGE_PATH, body)
            if reply.status != 200:
                return MEMORY_SPEC.failed(f"POST {IMAGE_PATH} -> {reply.status}")
            if n >= MEMORY_WARMUP:
                made += len(base64.b64decode(reply.json()["data"][0]["b64_json"]))
    after = resident_mb(server)
    growth = after - before
    detail = (
        f"RSS {before:.1f} → {after:.1f} MB; the {MEMORY_IMAGES} files total {made / 2**20:.1f} MB"
    )
    progress(f"media memory: {detail}")
    data = {"rss_before_mb": before, "rss_after_mb": after, "files_mb": made / 2**20}
    return MEMORY_SPEC.result(growth, detail=detail, data=data).judge()
