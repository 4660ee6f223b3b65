"""What a key may reach, decided by new-api's middleware before its relay reads the request
(commit 9f8a4ec): the token's group (`TokenAuth` against `UserUsableGroups`,
`service/group.go`), and the request's model (`Distribute`, `middleware/distributor.go`):
read from the body (or the Gemini path, or a form), held against the token's model limits,
then a channel for the group. The relay validates the body only after all this, so a request
both malformed and for a forbidden model gets the 403.

    access.check_group(spec, token_group, user_group, request_id)  # end of TokenAuth
    access.distribute(gateway, caller, scope, raw)   # a relay route's body, just read
    access.allow(gateway, caller, model)             # the model, when read another way
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mockserver.gateway import errors
from mockserver.gateway.go_json import read_string_field

if TYPE_CHECKING:
    from starlette.types import Scope

    from mockserver.gateway.admission import Caller, Gateway
    from mockserver.scenario.gateway import GatewaySpec

AUTO_GROUP = "auto"  # as `scenario.gateway` names it (not imported: it loads pydantic)
USER_GROUP_DESCRIPTION = "用户分组"  # the user's own group, always usable
AUTO_RATIO = "自动"  # what `GET /api/user/self/groups` shows as `auto`'s ratio
MODEL_REQUIRED = "Model name not specified, model name cannot be empty"
GEMINI_PATHS = ("/v1beta/models/", "/v1/models/")
# new-api's relay routes (`router/relay-router.go`); the vendor pass-through families that
# aren't new-api's (Ideogram, Ark, DashScope, ...) name their model elsewhere: checked at
# admission, once the route has read it.
RELAY_PREFIXES = ("/v1/", "/v1beta/")


# --- TokenAuth: usable groups --------------------------------------------------------------


def usable_groups(spec: GatewaySpec, user_group: str) -> dict[str, str]:
    """`GetUserUsableGroups`: the setting's groups (name → description), and the user's own."""
    groups = dict(spec.user_usable_groups)
    if user_group and user_group not in groups:
        groups[user_group] = USER_GROUP_DESCRIPTION
    return groups


def auto_groups(spec: GatewaySpec, user_group: str) -> list[str]:
    """`GetUserAutoGroup`: the `auto_groups` the user may use, in their order."""
    usable = usable_groups(spec, user_group)
    return [group for group in spec.auto_groups if group in usable]


def check_group(spec: GatewaySpec, token_group: str, user_group: str, request_id: str) -> None:
    """`TokenAuth`'s last check: a token's own group must be usable by its user, and priced
    (`auto` needs no ratio). new-api words both in Chinese only."""
    if not token_group:
        return
    if token_group not in usable_groups(spec, user_group):
        raise errors.middleware_error(403, f"无权访问 {token_group} 分组", request_id)
    if token_group not in spec.groups and token_group != AUTO_GROUP:
        raise errors.middleware_error(403, f"分组 {token_group} 已被弃用", request_id)


def user_groups(spec: GatewaySpec, user_group: str) -> dict[str, dict[str, Any]]:
    """`GetUserGroups` (`GET /api/user/self/groups`): each priced group the user may use with
    its ratio and description, and `auto` when usable (Go writes a map's keys sorted)."""
    usable = usable_groups(spec, user_group)
    shown: dict[str, dict[str, Any]] = {}
    for name, ratio in spec.groups.items():
        if name in usable:
            shown[name] = {"ratio": int(ratio) if ratio.is_integer() else ratio}
            shown[name]["desc"] = usable[name]
    if AUTO_GROUP in usable:
        shown[AUTO_GROUP] = {"ratio": AUTO_RATIO, "desc": usable[AUTO_GROUP]}
    return dict(sorted(shown.items()))


# --- Distribute: the model ------------------------------------------------------------------


def allow(gateway: Gateway, caller: Caller, model: str) -> None:
    """The distributor's checks of `model`: the token's model limits (403), a name at all
    (400), a channel serving it to the caller's group (503 `model_not_found`)."""
    token, request_id = caller.token, caller.request_id
    if token.model_limits_enabled and model not in token.model_limits.split(","):
        raise errors.middleware_error(403, f"This token has no access to model {model}", request_id)
    if not model:
        raise errors.middleware_error(400, MODEL_REQUIRED, request_id)
    gateway.route(model, caller)


def distribute(gateway: Gateway, caller: Caller, scope: Scope, raw: bytes) -> None:
    """`Distribute` on a relay route whose body was just read: the model read as new-api
    reads it, then `allow`."""
    model = requested_model(scope, raw, caller.request_id)
    if model is not None:
        allow(gateway, caller, model)


def requested_model(scope: Scope, raw: bytes, request_id: str) -> str | None:
    """The model as `getModelRequest` reads it: from the path on Gemini routes, else from a
    JSON or url-encoded body (none from another content type, nor from a multipart body, whose
    routes read their form themselves); the routes' defaults. A JSON body Go can't read into
    `{"model": string}` is the distributor's 400. None: no channel is chosen (a 400 then
    comes from the relay)."""
    path: str = scope["path"]
    if not path.startswith(RELAY_PREFIXES):
        return None
    if path.startswith(GEMINI_PATHS):  # /v1beta/models/{model}:{action}
        name = path.split("/models/", 1)[1]
        return name.split(":", 1)[0]
    content_type = _header(scope, b"content-type")
    model = ""
    if "multipart/form-data" in content_type:
        return None  # read from the form by the route (`allow`)
    if content_type.startswith("application/json"):
        model, problem = read_string_field(raw, "model", "ModelRequest", "middleware")
        if problem is not None:  # wrapped twice: by getModelFromRequest, then by Distribute
            message = f"Invalid request: Invalid request: {problem}"
            raise errors.middleware_error(400, message, request_id)
    elif "application/x-www-form-urlencoded" in content_type:
        fields = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        model = fields.get("model", "")
    return default_model(path, model)


def default_model(path: str, model: str) -> str:
    """The model a route falls back on when the request names none (`getModelRequest`)."""
    if path.startswith("/v1/moderations"):
        return model or "text-moderation-stable"
    if path.startswith("/v1/images/generations"):
        return model or "dall-e"
    if path.startswith("/v1/audio/speech"):
        return model or "tts-1"
    if path.startswith(("/v1/audio/transcriptions", "/v1/audio/translations")):
        return model or "whisper-1"
    return model


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1")).lower()
    return ""
