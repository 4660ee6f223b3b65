"""new-api's System API for tokens and the account, and the OpenAI billing compat routes
(`controller/token.go`, `controller/user.go`, `controller/billing.go`, `middleware/auth.go`,
commit 9f8a4ec), answered in gateway mode only (404 otherwise, as before).

Auth (`UserAuth`): `Authorization: <access token>` (a `Bearer ` prefix is stripped) and
`New-Api-User: <user id>`. Envelope `{"success", "message", "data"}`; errors are HTTP 200 with
`success: false`, except a missing `Authorization` or a missing/wrong `New-Api-User` (401).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.errors import APIError
from mockserver.gateway import access, pricing
from mockserver.gateway.accounts import (
    ENABLED,
    EXHAUSTED,
    EXPIRED,
    TokenRecord,
    UserRecord,
)
from mockserver.gateway.errors import REQUEST_ID_HEADER

if TYPE_CHECKING:
    from mockserver.gateway.admission import Gateway
    from mockserver.server_state import MockState

NOT_LOGGED_IN = "Unauthorized, not logged in and no access token provided"
INVALID_ACCESS_TOKEN = "Unauthorized, invalid access token"
USER_ID_NOT_PROVIDED = "Unauthorized, New-Api-User header not provided"
USER_ID_FORMAT = "Unauthorized, New-Api-User header format error"
USER_ID_MISMATCH = "Unauthorized, New-Api-User does not match logged in user"
USER_BANNED = "User has been banned"
NAME_TOO_LONG = "Token name is too long"
QUOTA_NEGATIVE = "Quota value cannot be negative"
MAX_QUOTA = 1_000_000_000 * pricing.QUOTA_PER_UNIT
QUOTA_TOO_LARGE = f"Quota value exceeds valid range, maximum is {MAX_QUOTA}"
EXPIRED_CANNOT_ENABLE = (
    "Token has expired and cannot be enabled. Please modify the expiration time or set it to "
    "never expire"
)
EXHAUSTED_CANNOT_ENABLE = (
    "Token quota is exhausted and cannot be enabled. Please modify the remaining quota or set "
    "it to unlimited"
)
INVALID_PARAMS = "Invalid parameters"
RECORD_NOT_FOUND = "record not found"  # gorm.ErrRecordNotFound
ITEMS_PER_PAGE = 10
MAX_PAGE_SIZE = 100

Handler = Callable[[Request, "Gateway", UserRecord], Awaitable[Response]]
OpenHandler = Callable[[Request, "Gateway", UserRecord | None], Awaitable[Response]]


def _json(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status, media_type="application/json")


def ok(data: Any = None, *, with_data: bool = True) -> Response:
    body: dict[str, Any] = {"success": True, "message": ""}
    if with_data:
        body["data"] = data
    return _json(body)


def fail(message: str, status: int = 200) -> Response:
    return _json({"success": False, "message": message}, status)


def routes(state: MockState) -> list[BaseRoute]:
    def user_route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            gateway = state.gateway
            if gateway is None:
                return _not_found(state, request)
            user = _authenticate(request, gateway)
            if isinstance(user, Response):
                return user
            return await handler(request, gateway, user)

        return endpoint

    def open_route(handler: OpenHandler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:  # no login: a user of no group
            gateway = state.gateway
            if gateway is None:
                return _not_found(state, request)
            return await handler(request, gateway, None)

        return endpoint

    def token_route(
        handler: Callable[[Request, Gateway, TokenRecord], Response],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            gateway = state.gateway
            if gateway is None:
                return _not_found(state, request)
            return _with_token(request, gateway, handler)

        return endpoint

    return [
        Route("/api/token/", user_route(list_tokens), methods=["GET"]),
        Route("/api/token/", user_route(add_token), methods=["POST"]),
        Route("/api/token/", user_route(update_token), methods=["PUT"]),
        Route("/api/token/search", user_route(search_tokens), methods=["GET"]),
        Route("/api/token/batch", user_route(delete_batch), methods=["POST"]),
        Route("/api/token/{id}/key", user_route(token_key), methods=["POST"]),
        Route("/api/token/{id}", user_route(get_token), methods=["GET"]),
        Route("/api/token/{id}", user_route(delete_token), methods=["DELETE"]),
        Route("/api/user/self", user_route(user_self), methods=["GET"]),
        Route("/api/user/models", user_route(user_models), methods=["GET"]),
        Route("/api/user/self/groups", user_route(user_groups), methods=["GET"]),
        Route("/api/user/groups", open_route(user_groups), methods=["GET"]),
        Route("/api/usage/token/", token_route(token_usage), methods=["GET"]),
        Route("/api/log/token", token_route(token_logs), methods=["GET"]),
        Route("/api/log/self", user_route(user_logs), methods=["GET"]),
        *(
            Route(prefix + "/dashboard/billing/subscription", token_route(subscription))
            for prefix in ("", "/v1")
        ),
        *(Route(prefix + "/dashboard/billing/usage", token_route(usage)) for prefix in ("", "/v1")),
    ]


def _not_found(state: MockState, request: Request) -> Response:
    from mockserver.engine.pipeline import error_response

    dialect = state.dialects.chat
    error = APIError(404, f"Invalid URL ({request.method} {request.url.path})")
    response = error_response(dialect, error)
    return Response(response.body, response.status_code, dict(response.headers))


def _authenticate(request: Request, gateway: Gateway) -> UserRecord | Response:
    """`UserAuth` (`authHelper`), access-token branch."""
    access_token = request.headers.get("authorization", "")
    if not access_token:
        return fail(NOT_LOGGED_IN, 401)
    access_token = access_token.removeprefix("Bearer ").strip()
    user = gateway.accounts.user_by_access_token(access_token)
    if user is None:
        return fail(INVALID_ACCESS_TOKEN)
    claimed = request.headers.get("new-api-user", "")
    if not claimed:
        return fail(USER_ID_NOT_PROVIDED, 401)
    try:
        claimed_id = int(claimed)
    except ValueError:
        return fail(USER_ID_FORMAT, 401)
    if claimed_id != user.id:
        return fail(USER_ID_MISMATCH, 401)
    if user.status != ENABLED:
        return fail(USER_BANNED)
    return user


def page_query(request: Request) -> tuple[int, int]:
    """`common.GetPageQuery`: `p` (1-based), `page_size` | `ps` | `size` (10; at most 100)."""
    query = request.query_params

    def number(name: str) -> int:
        try:
            return int(query.get(name, ""))
        except ValueError:
            return 0

    page = number("p")
    if page < 1:
        page = 1
    size = number("page_size") or number("ps") or number("size") or ITEMS_PER_PAGE
    return page, min(size, MAX_PAGE_SIZE)


def _page(tokens: list[TokenRecord], page: int, size: int, total: int) -> dict[str, Any]:
    start = (page - 1) * size
    items = [t.to_api() for t in tokens[start : start + size]] if start >= 0 else []
    return {"page": page, "page_size": size, "total": total, "items": items}


async def list_tokens(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    page, size = page_query(request)
    tokens = gateway.accounts.tokens_of(user.id)
    return ok(_page(tokens, page, size, len(tokens)))


async def search_tokens(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    """`SearchUserTokens`: `keyword` matches the name, `token` the key (without `sk-`); exact
    unless `%` wildcards are used (at most 2, keyword at least 2 characters)."""
    keyword = request.query_params.get("keyword", "")
    key = request.query_params.get("token", "").removeprefix("sk-")
    for pattern in (keyword, key):
        problem = _like_problem(pattern)
        if problem:
            return fail(problem)
    page, size = page_query(request)
    tokens = [
        t
        for t in gateway.accounts.tokens_of(user.id)
        if (not keyword or _like(keyword, t.name)) and (not key or _like(key, t.key))
    ]
    return ok(_page(tokens, page, size, len(tokens)))


def _like_problem(pattern: str) -> str | None:
    if "%%" in pattern:
        return "consecutive % wildcards are not allowed in the search pattern"
    count = pattern.count("%")
    if count > 2:
        return "the search pattern may contain at most 2 % wildcards"
    if count and len(pattern.replace("%", "")) < 2:
        return "when using fuzzy search, the keyword must be at least 2 characters long"
    return None


def _like(pattern: str, value: str) -> bool:
    """SQL LIKE with `%` only (`_` is escaped by new-api)."""
    import re

    regex = ".*".join(re.escape(part) for part in pattern.split("%"))
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _token_id(request: Request) -> int | str:
    raw = request.path_params["id"]
    try:
        return int(raw)
    except ValueError:
        return f'strconv.Atoi: parsing "{raw}": invalid syntax'


def _own_token(gateway: Gateway, user: UserRecord, token_id: int) -> TokenRecord | None:
    token = gateway.accounts.token(token_id)
    return token if token is not None and token.user_id == user.id else None


async def get_token(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    token_id = _token_id(request)
    if isinstance(token_id, str):
        return fail(token_id)
    token = _own_token(gateway, user, token_id)
    return fail(RECORD_NOT_FOUND) if token is None else ok(token.to_api())


async def token_key(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    token_id = _token_id(request)
    if isinstance(token_id, str):
        return fail(token_id)
    token = _own_token(gateway, user, token_id)
    return fail(RECORD_NOT_FOUND) if token is None else ok({"key": token.key})


async def delete_token(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    token_id = _token_id(request)
    token = _own_token(gateway, user, token_id) if isinstance(token_id, int) else None
    if token is None:
        return fail("id 或 userId 为空！" if token_id in (0, "") else RECORD_NOT_FOUND)
    gateway.accounts.delete_token(token)
    return ok(with_data=False)


async def delete_batch(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    body = await _body(request)
    token_ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(token_ids, list) or not token_ids:
        return fail(INVALID_PARAMS)
    deleted = 0
    for token_id in token_ids:
        token = _own_token(gateway, user, token_id) if isinstance(token_id, int) else None
        if token is not None:
            gateway.accounts.delete_token(token)
            deleted += 1
    return ok(deleted)


async def _body(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        return error


TOKEN_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": int,
    "name": str,
    "status": int,
    "expired_time": int,
    "remain_quota": int,
    "unlimited_quota": bool,
    "model_limits_enabled": bool,
    "model_limits": str,
    "allow_ips": (str, type(None)),
    "group": str,
    "cross_group_retry": bool,
}


def _token_body(body: Any) -> dict[str, Any] | str:
    """The JSON body bound to a Token as gin's `ShouldBindJSON` would; a message when it
    can't be (Go's `encoding/json` wording)."""
    if isinstance(body, orjson.JSONDecodeError):
        return "invalid character in JSON body"  # Go names the character; close enough
    if not isinstance(body, dict):
        return "json: cannot unmarshal into Go value of type model.Token"
    for name, expected in TOKEN_FIELDS.items():
        value = body.get(name)
        if name in body and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            go_type = {int: "int", str: "string", bool: "bool"}.get(
                expected if isinstance(expected, type) else str, "string"
            )
            return (
                f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                f"Token.{name} of type {go_type}"
            )
    return body


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def _quota_problem(fields: dict[str, Any]) -> str | None:
    if len(fields.get("name", "")) > 50:
        return NAME_TOO_LONG
    if not fields.get("unlimited_quota", False):
        quota = fields.get("remain_quota", 0)
        if quota < 0:
            return QUOTA_NEGATIVE
        if quota > MAX_QUOTA:
            return QUOTA_TOO_LARGE
    return None


async def add_token(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    fields = _token_body(await _body(request))
    if isinstance(fields, str):
        return fail(fields)
    problem = _quota_problem(fields)
    if problem:
        return fail(problem)
    limits = fields.get("model_limits", "")
    token = gateway.create_token(
        fields.get("name", ""),
        user_id=user.id,
        remain_quota=fields.get("remain_quota", 0),
        unlimited_quota=fields.get("unlimited_quota", False),
        model_limits=limits.split(",") if fields.get("model_limits_enabled", False) else None,
        expired_time=fields.get("expired_time") or -1,  # gorm's `default:-1` fills a zero
        allow_ips=fields.get("allow_ips") or "",
        group=fields.get("group", ""),
    )
    token.model_limits = limits  # kept as sent, even when limits are off
    gateway.accounts.put_token(token)
    return ok(with_data=False)


async def update_token(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    fields = _token_body(await _body(request))
    if isinstance(fields, str):
        return fail(fields)
    problem = _quota_problem(fields)
    if problem:
        return fail(problem)
    token_id = fields.get("id", 0)
    token = _own_token(gateway, user, token_id) if token_id else None
    if token is None:
        return fail("id 或 userId 为空！" if not token_id else RECORD_NOT_FOUND)
    status = fields.get("status", 0)
    if status == ENABLED:
        expired = token.expired_time != -1 and token.expired_time <= gateway.clock
        if token.status == EXPIRED and expired:
            return fail(EXPIRED_CANNOT_ENABLE)
        if token.status == EXHAUSTED and token.remain_quota <= 0 and not token.unlimited_quota:
            return fail(EXHAUSTED_CANNOT_ENABLE)
    if request.query_params.get("status_only", ""):  # the status alone is written
        gateway.accounts.set_status(token.id, status)
        return ok(replace(token, status=status).to_api())
    # Every field is written, zero values included (gorm `Select(...)`); a copy: the record
    # read may be the store's own object.
    token = replace(
        token,
        name=fields.get("name", ""),
        expired_time=fields.get("expired_time", 0),
        remain_quota=fields.get("remain_quota", 0),
        unlimited_quota=fields.get("unlimited_quota", False),
        model_limits_enabled=fields.get("model_limits_enabled", False),
        model_limits=fields.get("model_limits", ""),
        allow_ips=fields.get("allow_ips") or "",
        group=fields.get("group", ""),
    )
    gateway.accounts.put_token(token)
    return ok(token.to_api())


async def user_self(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    user = gateway.accounts.user(user.id) or user
    sidebar: dict[str, Any] = {"admin": False} if user.role < 10 else {"admin": {"setting": False}}
    return ok(
        {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "status": user.status,
            "email": user.email,
            "github_id": "",
            "discord_id": "",
            "oidc_id": "",
            "wechat_id": "",
            "telegram_id": "",
            "group": user.group,
            "quota": user.quota,
            "used_quota": user.used_quota,
            "request_count": user.request_count,
            "aff_code": "",
            "aff_count": 0,
            "aff_quota": 0,
            "aff_history_quota": 0,
            "inviter_id": 0,
            "linux_do_id": "",
            "setting": "",
            "stripe_customer": "",
            "sidebar_modules": "",
            "permissions": {
                "sidebar_settings": user.role != 100,
                "sidebar_modules": {} if user.role == 100 else sidebar,
            },
        }
    )


async def user_models(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    """The models a channel serves to any group the user may use."""
    usable = access.usable_groups(gateway.spec, user.group)
    models = [
        name
        for name, price in gateway.spec.models.items()
        if price.groups is None or any(group in usable for group in price.groups)
    ]
    return ok(models)


async def user_groups(request: Request, gateway: Gateway, user: UserRecord | None) -> Response:
    """`GetUserGroups`: the groups the user may use, with ratio and description."""
    return ok(access.user_groups(gateway.spec, user.group if user is not None else ""))


# --- Routes authenticated by a relay key ------------------------------------------------------


def _with_token(
    request: Request,
    gateway: Gateway,
    handler: Callable[[Request, Gateway, TokenRecord], Response],
) -> Response:
    """`TokenAuthReadOnly` for `/api/usage/token/`; the relay's `TokenAuth` for the billing
    routes (an unusable key answers the gateway's 401)."""
    from mockserver.gateway.admission import key_of

    path = request.url.path
    if path.startswith("/api/"):  # TokenAuthReadOnly: any status, any quota
        if not request.headers.get("authorization", ""):
            return fail("Token not provided", 401)
        token = gateway.accounts.token_by_key(key_of(request.scope))
        if token is None:
            return fail("Invalid token", 401)
        user = gateway.accounts.user(token.user_id)
        if user is None or user.status != ENABLED:
            return fail(USER_BANNED, 403)
        return handler(request, gateway, token)
    try:
        caller = gateway.authenticate(request.scope)
    except APIError as error:
        body = getattr(error, "body", {})
        return Response(orjson.dumps(body), error.status, error.headers, "application/json")
    response = handler(request, gateway, gateway.accounts.token(caller.token.id) or caller.token)
    response.headers[REQUEST_ID_HEADER] = caller.request_id
    return response


def token_usage(request: Request, gateway: Gateway, token: TokenRecord) -> Response:
    limits = [m for m in token.model_limits.split(",") if m]
    return _json(
        {
            "code": True,
            "message": "ok",
            "data": {
                "object": "token_usage",
                "name": token.name,
                "total_granted": token.remain_quota + token.used_quota,
                "total_used": token.used_quota,
                "total_available": token.remain_quota,
                "unlimited_quota": token.unlimited_quota,
                "model_limits": dict.fromkeys(limits, True),
                "model_limits_enabled": token.model_limits_enabled,
                "expires_at": max(token.expired_time, 0),
            },
        }
    )


MAX_RECENT_ITEMS = 1000  # common.MaxRecentItems


def token_logs(request: Request, gateway: Gateway, token: TokenRecord) -> Response:
    """`GET /api/log/token`: the key's newest logs first, numbered from 1."""
    logs = [log for log in gateway.accounts.logs() if log.token_id == token.id]
    newest = logs[::-1][:MAX_RECENT_ITEMS]
    data = [log.to_api(number) for number, log in enumerate(newest, 1)]
    return _json({"success": True, "message": "", "data": data})


async def user_logs(request: Request, gateway: Gateway, user: UserRecord) -> Response:
    """`GET /api/log/self`: the user's logs, newest first, paged, filtered by `type`,
    `token_name`, `model_name` (LIKE), `group`, `request_id`, `start_timestamp`,
    `end_timestamp`."""
    query = request.query_params
    model = query.get("model_name", "")
    problem = _like_problem(model)
    if problem:
        return fail(problem)

    def number(name: str) -> int:
        try:
            return int(query.get(name, ""))
        except ValueError:
            return 0

    kind, start, end = number("type"), number("start_timestamp"), number("end_timestamp")
    logs = [
        log
        for log in gateway.accounts.logs(user_id=user.id)[::-1]
        if (not kind or log.type == kind)
        and (not model or _like(model, log.model_name))
        and query.get("token_name", log.token_name) in ("", log.token_name)
        and query.get("group", log.group) in ("", log.group)
        and query.get("request_id", log.request_id) in ("", log.request_id)
        and (not start or log.created_at >= start)
        and (not end or log.created_at <= end)
    ]
    page, size = page_query(request)
    first = (page - 1) * size
    items = [log.to_api(first + n) for n, log in enumerate(logs[first : first + size], 1)]
    return ok({"page": page, "page_size": size, "total": len(logs), "items": items})


def subscription(request: Request, gateway: Gateway, token: TokenRecord) -> Response:
    amount = (token.remain_quota + token.used_quota) / pricing.QUOTA_PER_UNIT
    if token.unlimited_quota:
        amount = 100000000
    return _json(
        {
            "object": "billing_subscription",
            "has_payment_method": True,
            "soft_limit_usd": amount,
            "hard_limit_usd": amount,
            "system_hard_limit_usd": amount,
            "access_until": max(token.expired_time, 0),
        }
    )


def usage(request: Request, gateway: Gateway, token: TokenRecord) -> Response:
    return _json({"object": "list", "total_usage": token.used_quota / pricing.QUOTA_PER_UNIT * 100})
