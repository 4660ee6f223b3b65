"""The baseline: a minimal Starlette app on the same uvicorn, replaying captured responses.

For every workload the bench captures one response from mockserver and this app serves exactly
those bytes at `POST /<workload>` (same status, content type and headers); a stream is sent
through Starlette's `StreamingResponse`, one event per yield. It does no parsing, matching or
counting: whatever mockserver spends beyond this is its own cost.

    python -m bench.baseline_app --port 8123 --payloads /tmp/payloads.json
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


@dataclass(frozen=True, slots=True)
class Payload:
    """A captured response: `body` for a plain one, `events` (joined = body) for a stream."""

    status: int
    headers: dict[str, str]
    body: bytes
    events: list[bytes] | None = None


def save_payloads(payloads: dict[str, Payload], path: Path) -> None:
    document = {
        name: {
            "status": p.status,
            "headers": p.headers,
            "body": base64.b64encode(p.body).decode(),
            "events": None
            if p.events is None
            else [base64.b64encode(e).decode() for e in p.events],
        }
        for name, p in payloads.items()
    }
    path.write_text(json.dumps(document))


def load_payloads(path: Path) -> dict[str, Payload]:
    document = json.loads(path.read_text())
    return {
        name: Payload(
            status=entry["status"],
            headers=entry["headers"],
            body=base64.b64decode(entry["body"]),
            events=None
            if entry["events"] is None
            else [base64.b64decode(e) for e in entry["events"]],
        )
        for name, entry in document.items()
    }


Endpoint = Callable[[Request], Awaitable[Response]]


def endpoint_for(payload: Payload) -> Endpoint:
    if payload.events is None:

        async def plain(request: Request) -> Response:
            await request.body()  # mockserver reads the body too
            return Response(payload.body, payload.status, payload.headers)

        return plain

    events = payload.events

    async def stream(request: Request) -> Response:
        await request.body()

        async def each_event() -> AsyncIterator[bytes]:
            for event in events:
                yield event

        return StreamingResponse(each_event(), payload.status, payload.headers)

    return stream


async def ready(request: Request) -> Response:
    return Response(b"ok", media_type="text/plain")


def build_app(payloads: dict[str, Payload]) -> Starlette:
    routes = [Route(f"/{name}", endpoint_for(p), methods=["POST"]) for name, p in payloads.items()]
    routes.append(Route("/ready", ready, methods=["GET", "POST"]))
    return Starlette(routes=routes)


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.baseline_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payloads", type=Path, help="JSON written by save_payloads")
    args = parser.parse_args(argv)
    payloads = load_payloads(args.payloads) if args.payloads else {}
    # The same server stack as `mockserver serve`: uvloop and httptools when installed.
    uvicorn.run(
        build_app(payloads),
        host="127.0.0.1",
        port=args.port,
        loop="auto",
        http="auto",
        log_level="warning",
        access_log=False,
        # As `mockserver serve` runs uvicorn: no `date` header (the same bytes on the wire) and
        # no proxy-headers middleware.
        date_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
