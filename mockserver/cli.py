"""The `mockserver` command.

mockserver serve                         # built-in default scenario on 127.0.0.1:8000
mockserver serve scenarios/ --port 9000  # every *.yaml in scenarios/
mockserver serve agent.yaml --strict --seed 7
mockserver serve --workers 4             # four processes sharing one state (a temporary file)
mockserver serve --state state.db        # journal, loaded rules, counters kept across restarts
mockserver validate scenarios/*.yaml     # exit 1 listing every error, 0 with a summary
mockserver serve --catalog strict        # unknown model names get the vendor's 404
mockserver record --upstream https://api.openai.com --out recordings  # then serve what it wrote
mockserver --version

`serve` reads MOCKSERVER_HOST and MOCKSERVER_PORT as its defaults (as the pytest plugin does).
"""

from __future__ import annotations

import argparse
import atexit
import copy
import gc
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from mockserver import __version__
from mockserver.settings import ENV_VAR, Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
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
    parser.add_argument("--version", action="version", version=f"mockserver {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("paths", nargs="*", metavar="FILE|DIR", help="scenario files or folders")
    serve.add_argument(
        "--host", default=None, help="address to bind (default $MOCKSERVER_HOST, else 127.0.0.1)"
    )
    serve.add_argument(
        "--port",
        type=int,
        default=None,
        help="port (default $MOCKSERVER_PORT, else 8000; 0 = any free)",
    )
    serve.add_argument("--seed", type=int, help="override the scenarios' seed")
    serve.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="a request no rule matches gets an error listing the nearest rules",
    )
    serve.add_argument(
        "--catalog",
        choices=["open", "strict"],
        help="open: any model name is served as its family's model (the default); strict: a "
        "model the catalog doesn't list gets the vendor's 404",
    )
    serve.add_argument(
        "--validation",
        choices=["lenient", "strict"],
        help="lenient: unknown request fields are accepted and journaled (the default); "
        "strict: they get the vendor's 400",
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
        choices=["none", "realistic", "recorded"],
        default=None,
        help="default pacing: none (instant; the default unless a scenario's `latency:` says "
        "otherwise), a plausible per-model profile, or recorded (the timing a recording wrote)",
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
    try:
        args.host, args.port = _address(args.host, args.port)
    except ValueError as error:
        print(f"mockserver: not started: {error}", file=sys.stderr)
        return 2
    return serve(args)


def _address(host: str | None, port: int | None) -> tuple[str, int]:
    """The flags, else $MOCKSERVER_HOST / $MOCKSERVER_PORT, else 127.0.0.1:8000."""
    if host is None:
        host = os.environ.get("MOCKSERVER_HOST") or DEFAULT_HOST
    if port is None:
        raw = os.environ.get("MOCKSERVER_PORT", "").strip()
        if not raw:
            return host, DEFAULT_PORT
        if not raw.isdigit() or int(raw) > 65535:
            raise ValueError(f"MOCKSERVER_PORT must be a port number (0-65535); got {raw!r}")
        port = int(raw)
    return host, port


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port before anything is announced; OSError when the address is
    taken (or not this machine's)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def run_server(app: Any, sock: socket.socket, options: dict[str, Any]) -> None:
    """uvicorn serving `app` on the socket `serve` bound."""
    import uvicorn

    from mockserver.http.server_thread import Server

    Server(uvicorn.Config(app, **options)).run(sockets=[sock])


def _not_listening(host: str, port: int, error: OSError) -> int:
    import errno

    if error.errno == errno.EADDRINUSE:
        why = f"{host}:{port} is already in use (another server is listening there)"
    else:
        why = f"cannot listen on {host}:{port}: {error.strerror or error}"
    print(
        f"mockserver: not started: {why}; choose another with --port or MOCKSERVER_PORT "
        "(--port 0: any free port)",
        file=sys.stderr,
    )
    return 1


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
    from mockserver.http.server_thread import UVICORN_OPTIONS
    from mockserver.scenario import ScenarioError, load_paths
    from mockserver.server_state import MockState

    settings = Settings(
        scenario_paths=list(args.paths),
        host=args.host,
        port=args.port,
        seed=args.seed,
        strict=args.strict,
        catalog=args.catalog,
        validation=args.validation,
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
    # The address is taken before anything says "listening": a port in use is an error now,
    # not a line from uvicorn after the banner.
    try:
        sock = bind(settings.host, settings.port)
    except OSError as error:
        return _not_listening(settings.host, settings.port, error)
    if settings.workers > 1:
        sock.close()  # uvicorn's workers bind it themselves
    else:
        settings.port = sock.getsockname()[1]  # the free port `--port 0` got
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host}:{settings.port}"
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
        **UVICORN_OPTIONS,
    }
    if settings.workers > 1:
        os.environ[ENV_VAR] = settings.to_env()
        options.update(factory=True, workers=settings.workers)
        uvicorn.run("mockserver.http.app:app_from_env", **options)
        return 0
    app = create_app(state=MockState(settings, scenarios))
    # What start-up made lives as long as the server: out of the cyclic collector's walks, so
    # that a full collection during hundreds of paced streams stays short.
    gc.freeze()
    run_server(app, sock, options)
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
