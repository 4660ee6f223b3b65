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

from mockserver import admin, handlers
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
    list_models, get_model = handlers.list_models(state), handlers.get_model(state)
    gemini = handlers.gemini_action(state)
    return [
        # OpenAI
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/responses", generation(d.responses, state), methods=["POST"]),
        Route(
            "/v1/responses/input_tokens", handlers.responses_input_tokens(state), methods=["POST"]
        ),
        Route(
            "/v1/responses/{response_id}",
            handlers.stored_response(state),
            methods=["GET", "DELETE"],
        ),
        Route("/v1/completions", handlers.completions(state), methods=["POST"]),
        Route("/v1/embeddings", handlers.embeddings_endpoint(state), methods=["POST"]),
        Route("/v1/moderations", handlers.moderations_endpoint(state), methods=["POST"]),
        Route("/v1/rerank", handlers.rerank_endpoint(state), methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
        # Anthropic
        Route("/v1/messages", generation(d.anthropic, state), methods=["POST"]),
        Route("/v1/messages/count_tokens", handlers.anthropic_count(state), methods=["POST"]),
        # Gemini (google-genai 3.x calls /v1 by default, older releases /v1beta)
        Route("/v1beta/openai/chat/completions", chat, methods=["POST"]),
        Route("/v1beta/openai/models", list_models, methods=["GET"]),
        Route("/v1beta/models", list_models, methods=["GET"]),
        Route("/v1beta/models/{model:path}", get_model, methods=["GET"]),
        Route("/v1beta/models/{model:path}", gemini, methods=["POST"]),
        Route("/v1/models/{model:path}", gemini, methods=["POST"]),
        *admin.routes(state),
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
