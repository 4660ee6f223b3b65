"""`/v1beta/cachedContents[/{id}]` (and `/v1/…`, where google-genai 3.x calls): Gemini's
explicit caches, as `client.caches.create/get/list/update/delete` call them. The caches
themselves are `mockserver.protocols.gemini.cached_contents`'."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.core.exchange import Exchange
from mockserver.engine.pipeline import inbound_of, parse_json
from mockserver.http.journaled import Call, Endpoint, journaled_endpoint
from mockserver.http.responses import json_response
from mockserver.protocols import leniency
from mockserver.protocols.gemini import cached_contents as caches
from mockserver.protocols.gemini import errors
from mockserver.protocols.gemini import generate as gemini
from mockserver.protocols.gemini.caching import minimum_tokens
from mockserver.protocols.gemini.extras import gemini_prompt_tokens
from mockserver.protocols.gemini.proto import pick
from mockserver.protocols.gemini.request import read_generate_request
from mockserver.tokens.tokenizer import get_tokenizer

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from mockserver.server_state import MockState


def collection_endpoint(state: MockState) -> Endpoint:
    """`GET` (list) and `POST` (create) `cachedContents`."""
    return journaled_endpoint(state, "gemini", _collection, state.dialects.gemini)


def item_endpoint(state: MockState) -> Endpoint:
    """`GET`, `PATCH` and `DELETE` `cachedContents/{id}`."""
    return journaled_endpoint(state, "gemini", _item, state.dialects.gemini)


async def _collection(call: Call) -> ASGIApp:
    state, request, entry = call.state, call.request, call.entry
    assert request is not None
    if state.gateway is not None:
        raise not_relayed(request)
    owner = _owner(request)
    registry = state.dialects.gemini_caches
    if request.method == "GET":
        body = _page(registry, owner, request)
    else:
        raw = parse_json(await call.body(), state.dialects.gemini)
        entry.body = raw
        with leniency.reading(strict=state.strict_validation) as notes:
            cache = _create(state, raw, owner)
        entry.notes, entry.model = notes, cache.model.removeprefix("models/")
        body = registry.render(cache)
    entry.status = 200
    return json_response(body)


async def _item(call: Call) -> ASGIApp:
    state, request, entry = call.state, call.request, call.entry
    assert request is not None
    if state.gateway is not None:
        raise not_relayed(request)
    owner = _owner(request)
    registry = state.dialects.gemini_caches
    name = caches.NAME_PREFIX + request.path_params["cache_id"]
    if request.method == "DELETE":
        registry.delete(name, owner)
        body: dict[str, Any] = {}
    elif request.method == "PATCH":
        raw = parse_json(await call.body(), state.dialects.gemini)
        entry.body = raw
        body = registry.render(_update(registry, name, owner, raw, request))
    else:
        body = registry.render(registry.get(name, owner))
    entry.status = 200
    return json_response(body)


def not_relayed(request: Request) -> APIError:
    """The gateway relays Gemini's `models/*` actions only: its 404 for any other path, as for
    an unknown route."""
    return APIError(404, f"Invalid URL ({request.method} {request.url.path})")


def _owner(request: Request) -> str:
    return ids.digest(gemini.require_api_key(inbound_of(request)))


def _create(state: MockState, body: Any, owner: str) -> caches.CachedContent:
    """A new cache from a create body: its contents read as a generateContent's would be."""
    if not isinstance(body, dict):
        raise errors.invalid_json()
    unknown = [(None, errors.unknown_name(k, None)) for k in body if k not in _CREATE_KEYS]
    if unknown:
        raise errors.payload_errors(unknown)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise errors.GeminiError(400, "Model name is required.")
    model_id = model.removeprefix("models/")
    info = state.catalog.get(model_id)
    if info is None:
        raise errors.model_not_found(model_id, "createCachedContent")
    registry = state.dialects.gemini_caches
    expires = caches.expiry(body, registry, caches.DEFAULT_TTL)
    request = {k: v for k, v in body.items() if k in _CONTENT_KEYS}
    parsed = read_generate_request(request, "v1beta", "CreateCachedContentRequest")
    exchange = Exchange("gemini", "", model_id, parsed.messages, request, tools=parsed.tools)
    tokens = gemini_prompt_tokens(exchange, get_tokenizer(info.encoding))
    minimum = minimum_tokens(model_id)
    if tokens < minimum:
        raise caches.too_small(tokens, minimum)
    now = registry.now()
    display = pick(body, "displayName")
    cache = caches.CachedContent(
        name="",
        owner=owner,
        model=f"models/{model_id}",
        created=now,
        updated=now,
        expires=expires,
        tokens=tokens,
        messages=parsed.messages,
        tools=parsed.tools,
        tool_choice=parsed.tool_choice,
        display_name=display if isinstance(display, str) else "",
    )
    return registry.create(cache)


def _update(
    registry: caches.CachedContents, name: str, owner: str, body: Any, request: Request
) -> caches.CachedContent:
    """Only `ttl` or `expireTime` may change (the rest is Google's 400)."""
    if not isinstance(body, dict):
        raise errors.invalid_json()
    mask = request.query_params.get("updateMask")
    fields = [f.strip() for f in mask.split(",")] if mask else list(body)
    fixed = [f for f in fields if f not in caches.UPDATABLE and f not in ("expire_time",)]
    if fixed:
        raise errors.GeminiError(
            400, f"Field '{fixed[0]}' can't be updated: only ttl or expire_time can be."
        )
    registry.get(name, owner)  # a missing cache is the 403 before a bad ttl is a 400
    return registry.update(name, owner, caches.expiry(body, registry, None))


def _page(registry: caches.CachedContents, owner: str, request: Request) -> dict[str, Any]:
    """One page of `owner`'s caches; `nextPageToken` when more follow."""
    size_text = request.query_params.get("pageSize") or ""
    size = (
        int(size_text) if size_text.isdigit() and int(size_text) > 0 else caches.DEFAULT_PAGE_SIZE
    )
    size = min(size, caches.MAX_PAGE_SIZE)
    token = request.query_params.get("pageToken") or ""
    start = _offset(token) if token else 0
    listed = registry.listed(owner)
    page = listed[start : start + size]
    body: dict[str, Any] = {}
    if page:
        body["cachedContents"] = [registry.render(cache) for cache in page]
    if start + size < len(listed):
        body["nextPageToken"] = base64.urlsafe_b64encode(f"o{start + size}".encode()).decode()
    return body


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.startswith("o") or not text[1:].isdigit():
        raise errors.GeminiError(400, f"Invalid page token: {token}")
    return int(text[1:])


_CONTENT_KEYS = frozenset(
    ("contents", "systemInstruction", "system_instruction", "tools", "toolConfig", "tool_config")
)
_CREATE_KEYS = frozenset(caches.CREATE_FIELDS) | _CONTENT_KEYS | {"expire_time", "display_name"}
