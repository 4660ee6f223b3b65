"""The Starlette application: every route, grouped by dialect, and the vendor-shaped 404/405.

`create_app(settings)` builds one; `app_from_env()` is the uvicorn factory used for
`serve --workers N` (settings arrive through the environment).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from mockserver import handlers
from mockserver.dialects.base import Dialect
from mockserver.errors import APIError
from mockserver.pipeline import error_response, generate
from mockserver.settings import Settings
from mockserver.state import MockState

Endpoint = Callable[[Request], Awaitable[ASGIApp]]


def generation(dialect: Dialect, state: MockState) -> Endpoint:
    async def endpoint(request: Request) -> ASGIApp:
        return await generate(request, dialect, state)

    return endpoint


def build_routes(state: MockState) -> list[BaseRoute]:
    d = state.dialects
    chat = generation(d.chat, state)
    return [
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1beta/openai/chat/completions", chat, methods=["POST"]),
        Route("/v1/models", handlers.list_models(state), methods=["GET"]),
        Route("/v1/models/{model:path}", handlers.get_model(state), methods=["GET"]),
    ]


def create_app(settings: Settings | None = None, state: MockState | None = None) -> Starlette:
    state = state or MockState.from_settings(settings or Settings())

    async def not_found(request: Request, exc: Exception) -> Response:
        dialect = state.dialects.for_path(request.url.path)
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        verb = "Invalid method for URL" if status == 405 else "Invalid URL"
        error = APIError(status, f"{verb} ({request.method} {request.url.path})")
        return error_response(dialect, error)

    app = Starlette(
        routes=build_routes(state),
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.mock = state
    return app


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())
