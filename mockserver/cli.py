"""The `mockserver` command.

mockserver serve                         # built-in default scenario on 127.0.0.1:8000
mockserver serve scenarios/ --port 9000  # every *.yaml in scenarios/
mockserver serve agent.yaml --strict --seed 7
mockserver serve --catalog strict        # unknown model names get the vendor's 404
mockserver validate scenarios/*.yaml     # exit 1 listing every error, 0 with a summary
mockserver --version

`serve` reads MOCKSERVER_HOST and MOCKSERVER_PORT as its defaults (as the pytest plugin does).
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import sys
from collections.abc import Callable, Sequence
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
        "--latency",
        choices=["none", "realistic"],
        default="none",
        help="default pacing: none (instant) or a plausible per-model profile",
    )
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")

    validate = commands.add_parser("validate", help="check scenario files and report every error")
    validate.add_argument("paths", nargs="+", metavar="FILE|DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.paths)
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
    """A listening-ready socket on host:port, bound before anything is announced; OSError
    when the address is taken (or not this machine's)."""
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

    uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])


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
    from mockserver.http import collector

    with collector.paused():
        started = _start(args)
    if isinstance(started, int):
        return started
    run, app, options = started
    run(app, **options)
    return 0


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


def _start(args: argparse.Namespace) -> int | tuple[Callable[..., Any], Any, dict[str, Any]]:
    """Everything `serve` does before the server runs: uvicorn's `run`, what it runs, and its
    options; or the exit status when the scenarios have errors or the address is taken."""
    # First, before the heavy imports below: a thread reads the rank tables (file reads and
    # sha256 release the GIL, so they overlap the imports) and requests are answered by the
    # pure-Python bridge; an encoding in demand gets its Rust encoder in a quiet moment.
    from mockserver.tokens.tokenizer import build_when_idle, warm_up

    warm_up()

    import uvicorn

    from mockserver.http.app import create_app
    from mockserver.http.pacer import hold_collections
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
    )
    try:
        scenarios = load_paths(settings.scenario_paths)
    except ScenarioError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        print("mockserver: not started: the scenarios have errors", file=sys.stderr)
        return 2
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
    print(f"mockserver listening on {base} (scenarios: {what})")
    print("Point the OpenAI SDK at it:")
    print(f"  export OPENAI_BASE_URL={base}/v1")
    print("  export OPENAI_API_KEY=sk-mock")
    sys.stdout.flush()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": args.log_level,
        "access_log": False,
        # No route speaks WebSocket; "none" spares importing a WebSocket library (~20 ms).
        "ws": "none",
        **UVICORN_OPTIONS,
    }
    if settings.workers > 1:
        os.environ[ENV_VAR] = settings.to_env()
        options.update(factory=True, workers=settings.workers)
        return uvicorn.run, "mockserver.http.app:app_from_env", options
    state = MockState(settings, scenarios)
    app = create_app(state=state)
    # A long-running server gets today's chat encoding built in its first idle second (see
    # build_when_idle); it is the encoder a long prompt needs, and the memory it takes is
    # spent sooner or later by any server that sees one.
    build_when_idle(["o200k_base"], activity=lambda: state.journal.opened)
    # Everything loaded so far lives as long as the server: out of the collector's sight,
    # full collections walk only what requests allocate (they paused paced streams ~40 ms).
    # No gc.collect() first: the collector was paused (`collector.paused`), and the
    # collections it would have run during the imports find nothing (looking takes ~25 ms).
    gc.freeze()
    # And paced streams hold the collector off while they are in flight (`mockserver.http.pacer`).
    hold_collections()
    return lambda app, **options: run_server(app, sock, options), app, options


if __name__ == "__main__":
    sys.exit(main())
