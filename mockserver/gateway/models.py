"""The model lists in gateway mode (`controller/model.go` `ListModels`, commit 9f8a4ec): behind
the key (`TokenAuth`), only what the key may use — its `model_limits` when it has them, else
the models a channel serves to its group — in the flavour the caller asked for.

`supported_endpoint_types` comes from the channels new-api has for a model, which a scenario
doesn't describe: it is inferred from the model's family here (approximate).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mockserver.core.errors import APIError
from mockserver.gateway import access

if TYPE_CHECKING:
    from starlette.requests import Request

    from mockserver.gateway.admission import Caller, Gateway
    from mockserver.server_state import MockState

CUSTOM_CREATED = 1626777600  # what new-api gives models it has no metadata for


def usable_models(gateway: Gateway, caller: Caller) -> list[str]:
    token = caller.token
    if token.model_limits_enabled:
        limits = [m for m in token.model_limits.split(",") if m]
        return [m for m in limits if m in gateway.spec.models]  # priced ones only
    # An `auto` token sees what any of the auto groups serves (`ListModels`).
    auto = caller.group == "auto"
    groups = access.auto_groups(gateway.spec, caller.user.group) if auto else [caller.group]
    return [
        name
        for name, price in gateway.spec.models.items()
        if groups and (price.groups is None or any(g in price.groups for g in groups))
    ]


def endpoint_types(model: str, owner: str) -> list[str]:
    if "embedding" in model:
        return ["embeddings"]
    if "rerank" in model:
        return ["jina-rerank"]
    if model.startswith(("dall-e", "gpt-image")):
        return ["image-generation"]
    if owner == "anthropic" or model.startswith("claude"):
        return ["anthropic", "openai"]
    if owner == "google" or model.startswith("gemini"):
        return ["gemini", "openai"]
    return ["openai"]


def list_models(state: MockState, request: Request, vendor: str) -> dict[str, Any]:
    """The list for `vendor` ("openai", "anthropic" or "gemini"); the gateway's 401/403 for a
    key it refuses (raised)."""
    gateway = state.gateway
    assert gateway is not None
    caller = gateway.authenticate(request.scope)
    entries: list[dict[str, Any]] = []
    for name in usable_models(gateway, caller):
        info = state.catalog.get(name)
        owner = info.owned_by if info is not None else "custom"
        created = info.created if info is not None else CUSTOM_CREATED
        entries.append(
            {
                "id": name,
                "object": "model",
                "created": created,
                "owned_by": owner,
                "supported_endpoint_types": endpoint_types(name, owner),
            }
        )
    if vendor == "anthropic":
        data = [
            {
                "id": e["id"],
                "created_at": datetime.fromtimestamp(e["created"], UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "display_name": e["id"],
                "type": "model",
            }
            for e in entries
        ]
        if not data:  # new-api indexes the first and last: an empty list fails there
            raise APIError(500, "no models", type="new_api_error")
        return {
            "data": data,
            "first_id": data[0]["id"],
            "has_more": False,
            "last_id": data[-1]["id"],
        }
    if vendor == "gemini":
        models = [{"name": e["id"], "displayName": e["id"]} for e in entries]
        return {"models": models, "nextPageToken": None}
    return {"success": True, "data": entries, "object": "list"}
