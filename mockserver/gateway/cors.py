"""CORS as new-api answers it in front of every route (`middleware/cors.go`: gin-contrib/cors
v1.7.2, every origin allowed, credentials allowed), in gateway mode unless the scenario says
`cors: false`.

A request with an `Origin` (other than the server's own) gets `Access-Control-Allow-Origin: *`
and `Access-Control-Allow-Credentials: true`; an `OPTIONS` one is answered 204 at once with the
preflight headers, whatever its path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

NORMAL = [
    (b"access-control-allow-credentials", b"true"),
    (b"access-control-allow-origin", b"*"),
]
PREFLIGHT = [
    (b"access-control-allow-credentials", b"true"),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-allow-methods", b"GET,POST,PUT,DELETE,OPTIONS"),
    (b"access-control-allow-origin", b"*"),
    (b"access-control-max-age", b"43200"),
]


def cross_origin(scope: Scope) -> bool:
    """Whether the request comes from another origin than the server's own."""
    origin = host = b""
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value
        elif name == b"host":
            host = value
    return bool(origin) and origin not in (b"http://" + host, b"https://" + host)


async def answer(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """`app` with new-api's CORS headers; a preflight answered here."""
    if scope["method"] == "OPTIONS":
        await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT})
        await send({"type": "http.response.body", "body": b""})
        return

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *NORMAL]}
        await send(message)

    await app(scope, receive, sending)
