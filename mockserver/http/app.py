"""The Starlette application: every route, grouped by dialect, and the vendor-shaped 404/405.

`create_app(settings)` builds one; `app_from_env()` is the uvicorn factory used for
`serve --workers N` (settings arrive through the environment).
"""

from __future__ import annotations

import importlib
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.admin import routes as admin
from mockserver.core.errors import APIError
from mockserver.engine.pipeline import error_response
from mockserver.gateway import cors, system_api
from mockserver.http import endpoints as handlers
from mockserver.http import journaled, task_endpoints
from mockserver.http.endpoints import Endpoint, Handler, endpoint_of, on_first_use
from mockserver.http.generation import generate
from mockserver.http.hot_gets import POLLS, HotGets
from mockserver.server_state import MockState
from mockserver.settings import Settings

GEMINI_PREFIXES = ("/v1beta/models/", "/v1/models/")
GEMINI_GENERATIONS = (":generateContent", ":streamGenerateContent")


class MockApp(Starlette):
    """The Starlette app, with the hot routes — generations, embeddings, rerank — answered
    before its middleware, router and `Request` objects: they carry a load test, and a lookup
    by exact path is all they need. Every other request, and every other method on these
    paths, goes through Starlette. An exception on a hot route reaches uvicorn, which answers
    500 as Starlette's error middleware would."""

    def __init__(self, state: MockState, hot: dict[str, Handler], **options: Any) -> None:
        super().__init__(**options)
        self.state.mock = state  # for handlers and tests that reach it through the app
        self.mock = state  # the same, without Starlette's `State` lookup on the hot path
        self.hot_routes = hot
        self.hot_gets = HotGets(self.routes, POLLS)  # task polls (`mockserver.http.hot_gets`)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        state = self.mock
        if state.shared:  # another worker may have published scenarios
            state.sync()
        await journaled.closing(state, self._answer, scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.mock.gateway
        if gateway is not None and gateway.spec.cors and cors.cross_origin(scope):
            await cors.answer(self._route, scope, receive, send)  # new-api's CORS
            return
        await self._route(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            path: str = scope["path"]
            response: ASGIApp | None = None
            handle = self.hot_routes.get(path)
            if handle is not None:
                response = await handle(scope, receive)
            elif path.startswith(GEMINI_PREFIXES) and path.endswith(GEMINI_GENERATIONS):
                model = path.partition("/models/")[2]
                gemini = self.mock.dialects.gemini
                response = await generate(scope, receive, gemini, self.mock, {"model": model})
            if response is not None:
                scope["app"] = self
                await response(scope, receive, send)
                return
        elif scope["method"] == "GET":
            poll = self.hot_gets.match(scope)
            if poll is not None:
                scope["app"] = self
                await (await poll(Request(scope, receive)))(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def hot_routes(state: MockState) -> dict[str, Handler]:
    """The POST routes answered ahead of Starlette (`MockApp`), by exact path: every
    protocol's generations (`protocols.registry`), embeddings and rerank."""
    routes = {
        path: generation_handler(state, protocol.name)
        for protocol in state.dialects.protocols.values()
        for path in protocol.generations
    }
    routes["/v1/embeddings"] = handlers.embeddings_handler(state)
    routes["/v1/rerank"] = handlers.rerank_handler(state)
    return routes


def generation_handler(state: MockState, protocol: str) -> Handler:
    """Generations in the protocol's format (its dialect made on the first request)."""
    dialects = state.dialects

    async def handle(scope: Scope, receive: Receive) -> ASGIApp:
        return await generate(scope, receive, dialects.get(protocol), state)

    return handle


def build_routes(state: MockState, hot: dict[str, Handler]) -> list[BaseRoute]:
    """Every route for Starlette; the hot ones too, so that their other methods get a 405."""
    list_models, get_model = handlers.list_models(state), handlers.get_model(state)
    gemini = on_first_use(lambda: handlers.gemini_action(state))
    return [
        *(Route(path, endpoint_of(handle), methods=["POST"]) for path, handle in hot.items()),
        # OpenAI
        Route(
            "/v1/responses/input_tokens",
            on_first_use(lambda: handlers.responses_input_tokens(state)),
            methods=["POST"],
        ),
        Route(
            "/v1/responses/{response_id}",
            handlers.stored_response(state),
            methods=["GET", "DELETE"],
        ),
        Route(
            "/v1/completions", on_first_use(lambda: handlers.completions(state)), methods=["POST"]
        ),
        Route(
            "/v1/moderations", endpoint_of(handlers.moderations_handler(state)), methods=["POST"]
        ),
        Route("/v1/models", list_models, methods=["GET"]),
        *media_routes(state),
        Route("/v1/models/{model:path}", get_model, methods=["GET"]),
        # Anthropic
        Route(
            "/v1/messages/count_tokens",
            on_first_use(lambda: handlers.anthropic_count(state)),
            methods=["POST"],
        ),
        # Gemini (google-genai 3.x calls /v1 by default, older releases /v1beta)
        Route("/v1beta/openai/models", list_models, methods=["GET"]),
        Route("/v1beta/models", list_models, methods=["GET"]),
        Route("/v1beta/models/{model:path}", get_model, methods=["GET"]),
        Route("/v1beta/models/{model:path}", gemini, methods=["POST"]),
        Route("/v1/models/{model:path}", gemini, methods=["POST"]),
        *gemini_caches_routes(state),
        *socket_routes(state),
        *admin.routes(state),
        *task_endpoints.routes(state),  # video, Midjourney (async tasks)
        *system_api.routes(state),  # gateway mode only (404 otherwise)
    ]


def gemini_caches_routes(state: MockState) -> list[BaseRoute]:
    """Gemini's explicit caches (`mockserver.http.gemini_caches`, loaded on first use)."""

    def lazy(name: str) -> Endpoint:
        def make() -> Endpoint:
            found = importlib.import_module("mockserver.http.gemini_caches")
            endpoint: Endpoint = getattr(found, name)(state)
            return endpoint

        return on_first_use(make)

    collection, item = lazy("collection_endpoint"), lazy("item_endpoint")
    return [
        route
        for version in ("v1beta", "v1")
        for route in (
            Route(f"/{version}/cachedContents", collection, methods=["GET", "POST"]),
            Route(
                f"/{version}/cachedContents/{{cache_id}}", item, methods=["GET", "PATCH", "DELETE"]
            ),
        )
    ]


def socket_routes(state: MockState) -> list[BaseRoute]:
    """The WebSocket endpoints (`mockserver.http.sockets`, loaded on the first upgrade): the
    Realtime API and the Responses API over a socket."""

    def lazy(name: str) -> Any:
        made: list[Any] = []

        async def endpoint(websocket: Any) -> None:
            if not made:
                module = importlib.import_module("mockserver.http.sockets")
                made.append(getattr(module, name)(state))
            await made[0](websocket)

        return endpoint

    return [
        WebSocketRoute("/v1/realtime", lazy("realtime")),
        WebSocketRoute("/v1/responses", lazy("responses")),
    ]


def media_routes(state: MockState) -> list[BaseRoute]:
    """Images and audio (`mockserver.http.images`, `.audio`, `.ideogram`) and the files they
    make; each endpoint's module (with Pillow and PyAV behind it) loaded on its first request."""

    def lazy(module: str, name: str, **options: bool) -> Endpoint:
        def make() -> Endpoint:
            found = importlib.import_module(f"mockserver.http.{module}")
            endpoint: Endpoint = getattr(found, name)(state, **options)
            return endpoint

        return on_first_use(make)

    post = ["POST"]
    return [
        Route("/v1/images/generations", lazy("images", "generations"), methods=post),
        Route("/v1/images/edits", lazy("images", "edits"), methods=post),
        Route("/v1/images/variations", lazy("media", "images_variations"), methods=post),
        Route("/v1/audio/speech", lazy("audio", "speech"), methods=post),
        Route(
            "/v1/audio/transcriptions",
            lazy("audio", "transcriptions", translate=False),
            methods=post,
        ),
        Route(
            "/v1/audio/translations", lazy("audio", "transcriptions", translate=True), methods=post
        ),
        Route("/_mock/files/{name}", lazy("media", "media_file"), methods=["GET"]),
        Route("/ideogram/v1/ideogram-v3/{action}", lazy("ideogram", "v3"), methods=post),
        Route("/ideogram/{action}", lazy("ideogram", "legacy"), methods=post),
    ]


def create_app(settings: Settings | None = None, state: MockState | None = None) -> Starlette:
    state = state or MockState.from_settings(settings or Settings())

    async def not_found(request: Request, exc: Exception) -> Response:
        dialect = state.dialects.for_path(request.url.path)
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        verb = "Invalid method for URL" if status == 405 else "Invalid URL"
        error = APIError(status, f"{verb} ({request.method} {request.url.path})")
        return error_response(dialect, error)

    hot = hot_routes(state)
    return MockApp(
        state,
        hot,
        routes=build_routes(state, hot),
        exception_handlers={404: not_found, 405: not_found},
    )


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())
