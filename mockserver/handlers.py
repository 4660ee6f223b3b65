"""Endpoints that are not generations: model listings (and, per dialect, counts and embeddings)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import ASGIApp

from mockserver.catalog import ModelInfo
from mockserver.pipeline import error_response
from mockserver.transport import json_response

if TYPE_CHECKING:
    from mockserver.state import MockState

Endpoint = Callable[[Request], Awaitable[ASGIApp]]


def openai_model(info: ModelInfo) -> dict[str, Any]:
    return {"id": info.id, "object": "model", "created": info.created, "owned_by": info.owned_by}


def list_models(state: MockState) -> Endpoint:
    async def endpoint(request: Request) -> ASGIApp:
        data = [openai_model(info) for info in state.catalog.all()]
        return json_response({"object": "list", "data": data})

    return endpoint


def get_model(state: MockState) -> Endpoint:
    async def endpoint(request: Request) -> ASGIApp:
        model_id = request.path_params["model"]
        info = state.catalog.get(model_id)
        dialect = state.dialects.chat
        if info is None:
            return error_response(dialect, dialect.model_not_found(model_id))
        return json_response(openai_model(info) | {"id": model_id})

    return endpoint
