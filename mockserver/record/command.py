"""`mockserver record`: run the recording proxy on a port until interrupted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mockserver.record.modes import RecordMode


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser(
        "record",
        help="proxy a real API and write its answers as scenarios",
        description="Forward every request to --upstream with the caller's own key, stream the "
        "answer back, and write each exchange as a scenario rule to OUT/NAME.yaml. Keys and "
        "cookies are never written. Replay it offline with `mockserver serve OUT/NAME.yaml`.",
    )
    record.add_argument("--upstream", help="the real API's base URL, e.g. https://api.openai.com")
    record.add_argument("--out", default="recordings", help="folder of the recording files")
    record.add_argument("--name", default="session", help="file name, without .yaml")
    record.add_argument(
        "--mode",
        choices=[mode.value for mode in RecordMode],
        default=RecordMode.NEW_EPISODES.value,
        help="record: always upstream, file started afresh; replay: never upstream; once: "
        "record only if the file does not exist; new_episodes (default): replay what the file "
        "has, record what it lacks",
    )
    record.add_argument(
        "--redact-header",
        action="append",
        default=[],
        metavar="NAME",
        help="another header whose value must never be written (repeatable)",
    )
    record.add_argument(
        "--redact-field",
        action="append",
        default=[],
        metavar="NAME",
        help="a request body field whose value must never be written (repeatable)",
    )
    record.add_argument(
        "--no-timing", action="store_true", help="write no latency: replays answer at once"
    )
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    record.add_argument("--port", type=int, default=8000, help="port (default 8000)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from mockserver.http.server_thread import UVICORN_OPTIONS, Server
    from mockserver.record.session import recording_app
    from mockserver.scenario import ScenarioError

    path = Path(args.out) / f"{args.name}.yaml"
    try:
        app = recording_app(
            path,
            RecordMode(args.mode),
            args.upstream,
            redact_headers=args.redact_header,
            redact_fields=args.redact_field,
            timing=not args.no_timing,
        )
    except (ValueError, ScenarioError) as error:
        print(f"mockserver record: {error}", file=sys.stderr)
        return 2
    print(f"mockserver record on http://{args.host}:{args.port} -> {args.upstream}, writing {path}")
    sys.stdout.flush()
    # The recorder forwards HTTP only: no WebSocket.
    options = {"host": args.host, "port": args.port, "log_level": "warning", "ws": "none"}
    Server(uvicorn.Config(app, lifespan="off", **{**UVICORN_OPTIONS, **options})).run()
    return 0
