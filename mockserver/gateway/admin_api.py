"""Gateway mode through the admin API (`/_mock/gateway/…`), for tests and scripts that are not
the gateway's own clients: make a key with a quota, read its balance and usage.

    POST /_mock/gateway/keys          {"name": "ci", "remain_quota": 500000}  → the full key
    GET  /_mock/gateway/keys/{name}   → the token (key masked), with spent quota and dollars
    GET  /_mock/gateway/usage?key_name=ci  → the billed requests, oldest first

Errors have the admin API's shape (`{"error": {"type", "message"}}`); 409 when gateway mode
is off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.gateway import pricing

if TYPE_CHECKING:
    from mockserver.gateway.accounts import TokenRecord, UsageLog
    from mockserver.gateway.admission import Gateway
    from mockserver.server_state import MockState

Handler = Callable[[Request], Awaitable[Response]]
GATEWAY_OFF = (
    "gateway mode is off: load a scenario with a `gateway:` section (users, keys, prices) "
    "to use keys and quotas"
)
KEY_FIELDS = {
    "name": str,
    "user": int,
    "remain_quota": int,
    "unlimited_quota": bool,
    "model_limits": list,
    "group": str,
    "expired_time": int,
}


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


def _error(status: int, message: str, kind: str) -> Response:
    return _json({"error": {"type": kind, "message": message}}, status)


def balance(token: TokenRecord) -> dict[str, Any]:
    """A token as the admin API shows it: new-api's fields, key masked, and what it spent."""
    return {
        **token.to_api(),
        "spent": token.used_quota,
        "spent_usd": pricing.dollars(token.used_quota),
    }


def usage_entry(log: UsageLog) -> dict[str, Any]:
    return {
        "id": log.id,
        "key_name": log.token_name,
        "model": log.model_name,
        "quota": log.quota,
        "cost": pricing.dollars(log.quota),
        "prompt_tokens": log.prompt_tokens,
        "completion_tokens": log.completion_tokens,
        "stream": log.is_stream,
        "request_id": log.request_id,
    }


def routes(state: MockState, guard: Callable[[Handler], Handler]) -> list[BaseRoute]:
    def on(handler: Callable[[Request, Gateway], Awaitable[Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            gateway = state.gateway
            if gateway is None:
                return _error(409, GATEWAY_OFF, "gateway_off")
            return await handler(request, gateway)

        return guard(endpoint)

    return [
        Route("/_mock/gateway/keys", on(create_key), methods=["POST"]),
        Route("/_mock/gateway/keys/{name}", on(read_key), methods=["GET"]),
        Route("/_mock/gateway/usage", on(read_usage), methods=["GET"]),
    ]


async def create_key(request: Request, gateway: Gateway) -> Response:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        return _error(400, f"the body is not JSON: {error}", "invalid_body")
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        return _error(400, 'expected a JSON object with a "name"', "invalid_body")
    for field, kind in KEY_FIELDS.items():
        if field in body and not isinstance(body[field], kind):
            return _error(400, f"{field}: expected {kind.__name__}", "invalid_body")
    unknown = sorted(set(body) - set(KEY_FIELDS))
    if unknown:
        valid = ", ".join(KEY_FIELDS)
        return _error(400, f"unknown field {unknown[0]!r} (valid: {valid})", "invalid_body")
    user = body.get("user", 1)
    if gateway.accounts.user(user) is None:
        return _error(400, f"user {user} is not in the scenario's gateway.users", "invalid_body")
    token = gateway.create_token(
        body["name"],
        user_id=user,
        remain_quota=body.get("remain_quota", 0),
        unlimited_quota=body.get("unlimited_quota", False),
        model_limits=body.get("model_limits"),
        expired_time=body.get("expired_time", -1),
        group=body.get("group", ""),
    )
    return _json({**balance(token), "key": "sk-" + token.key})


async def read_key(request: Request, gateway: Gateway) -> Response:
    name = request.path_params["name"]
    token = gateway.token_named(name)
    if token is None:
        return _error(404, f"no key named {name!r}", "not_found")
    return _json(balance(token))


async def read_usage(request: Request, gateway: Gateway) -> Response:
    logs = gateway.accounts.logs(token_name=request.query_params.get("key_name"))
    return _json({"count": len(logs), "usage": [usage_entry(log) for log in logs]})
