"""The `mockserver` command.

mockserver serve                         # built-in default scenario on 127.0.0.1:8000
mockserver serve scenarios/ --port 9000  # every *.yaml in scenarios/
mockserver serve agent.yaml --strict --seed 7
mockserver serve --workers 4             # four processes sharing one state (a temporary file)
mockserver serve --state state.db        # journal, loaded rules, counters kept across restarts
mockserver validate scenarios/*.yaml     # exit 1 listing every error, 0 with a summary
mockserver record --upstream https://api.openai.com --out recordings  # then serve what it wrote
"""

from __future__ import annotations

import argparse
import atexit
import copy
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from mockserver.settings import ENV_VAR, Settings

# Everything else is imported inside the commands: `serve` starts loading the tokenizer before
# the ~0.5 s of imports it needs, and `--help` needs none of them.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="Deterministic, offline emulator of LLM vendor APIs (OpenAI, Anthropic, "
        "Gemini) and the gateway in front of them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("paths", nargs="*", metavar="FILE|DIR", help="scenario files or folders")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    serve.add_argument("--seed", type=int, help="override the scenarios' seed")
    serve.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="a request no rule matches gets an error listing the nearest rules",
    )
    serve.add_argument("--admin-token", help="require this token on every /_mock/ call")
    serve.add_argument("--journal-size", type=int, default=1000, help="requests kept in memory")
    serve.add_argument(
        "--state",
        metavar="FILE",
        help="keep the state (journal, rules loaded through /_mock/, sequence counters, stored "
        "responses) in this SQLite file, across restarts; default: in memory (a temporary "
        "file shared by the workers with --workers N)",
    )
    serve.add_argument(
        "--counters-size",
        type=int,
        default=10_000,
        help="keys kept per counter table (occurrences, sequences, attempts, rate-limit buckets)",
    )
    serve.add_argument(
        "--responses-size",
        type=int,
        default=1_000,
        help="Responses API responses kept for previous_response_id",
    )
    serve.add_argument(
        "--latency",
        choices=["none", "realistic"],
        default="none",
        help="default pacing: none (instant) or a plausible per-model profile",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument(
        "--media-cache-mb",
        type=int,
        default=256,
        help="generated images and audio kept in memory per worker (MiB)",
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's log level; info logs one line per request",
    )

    validate = commands.add_parser("validate", help="check scenario files and report every error")
    validate.add_argument("paths", nargs="+", metavar="FILE|DIR")

    from mockserver.record import command as record

    record.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
    if args.command == "record":
        from mockserver.record import command as record

        return record.run(args)
    return serve(args)


def validate(paths: Sequence[str]) -> int:
    from mockserver.scenario import ScenarioError, load_paths

    try:
        scenario_set = load_paths(paths)
    except ScenarioError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        count = len(error.issues)
        print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    for line in scenario_set.summary_lines():
        print(line)
    return 0


def serve(args: argparse.Namespace) -> int:
    # First, before the heavy imports below: a thread reads the rank tables, so the first
    # request finds them (file reads and hashing release the GIL: they overlap the imports).
    from mockserver.tokens.tokenizer import warm_up

    warm_up()

    import uvicorn

    from mockserver.http.app import create_app
    from mockserver.http.server_thread import UVICORN_OPTIONS, Server
    from mockserver.scenario import ScenarioError, load_paths
    from mockserver.server_state import MockState

    settings = Settings(
        scenario_paths=list(args.paths),
        host=args.host,
        port=args.port,
        seed=args.seed,
        strict=args.strict,
        admin_token=args.admin_token,
        journal_size=args.journal_size,
        latency=args.latency,
        workers=args.workers,
        state_file=args.state,
        counters_size=args.counters_size,
        responses_size=args.responses_size,
        media_cache_bytes=args.media_cache_mb * 1024 * 1024,
    )
    try:
        scenarios = load_paths(settings.scenario_paths)
    except ScenarioError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        print("mockserver: not started: the scenarios have errors", file=sys.stderr)
        return 2
    if settings.workers > 1 and settings.state_file is None:
        settings.state_file, settings.state_temporary = temporary_state(), True
    if settings.state_file is not None:
        # Created here, once, before any worker opens it.
        from mockserver.store.sqlite import SqliteStore

        SqliteStore(settings.state_file).close()
    from mockserver.admin.guard import exposed_without_token

    if exposed_without_token(settings.host, settings.admin_token):
        print(
            f"mockserver: warning: listening on {settings.host}, beyond this machine, with no "
            "--admin-token: the admin API (/_mock/) is off and answers 403",
            file=sys.stderr,
        )
    base = f"http://{settings.host}:{settings.port}"
    what = ", ".join(settings.scenario_paths) or "built-in default"
    kept = f"; state: {args.state}" if args.state else ""
    print(f"mockserver listening on {base} (scenarios: {what}{kept})")
    print("Point the OpenAI SDK at it:")
    print(f"  export OPENAI_BASE_URL={base}/v1")
    print("  export OPENAI_API_KEY=sk-mock")
    sys.stdout.flush()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": args.log_level,
        "log_config": logging_config(args.log_level),
        "access_log": False,
        # No route speaks WebSocket; "none" spares importing a WebSocket library (~20 ms).
        "ws": "none",
        **UVICORN_OPTIONS,
    }
    if settings.workers > 1:
        os.environ[ENV_VAR] = settings.to_env()
        options.update(factory=True, workers=settings.workers)
        uvicorn.run("mockserver.http.app:app_from_env", **options)
        return 0
    app = create_app(state=MockState(settings, scenarios))
    Server(uvicorn.Config(app, **options)).run()
    return 0


def temporary_state() -> str:
    """A state file for the workers of this run, removed when it ends."""
    folder = tempfile.mkdtemp(prefix="mockserver-state-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return os.path.join(folder, "state.sqlite")


def logging_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, and the `mockserver` loggers at the same level on its handler (every
    worker applies it): `info` gives one line per request (`mockserver.http.request_log`)."""
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["mockserver"] = {
        "handlers": ["default"],
        "level": LOG_LEVELS[level],
        "propagate": False,
    }
    return config


if __name__ == "__main__":
    sys.exit(main())
