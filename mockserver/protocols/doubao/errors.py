"""Ark's (Volcengine's) error shape, shared by Doubao's image and video routes:
`{"error": {"code", "message", "param"?, "type"}}`, the message ending in Ark's request id."""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError


def ark_error(
    status: int, code: str, message: str, param: str | None = None, kind: str | None = None
) -> APIError:
    """Ark's error: `code` and `type` ride on the neutral error's code and type (the type
    Ark gives the status unless `kind` says otherwise)."""
    return APIError(status, message, type=kind or _kind(status), code=code, param=param)


def invalid(param: str, detail: str) -> APIError:
    return ark_error(
        400,
        "InvalidParameter",
        f"The parameter `{param}` specified in the request is not valid: {detail}",
        param,
    )


ARK_KINDS = ("BadRequest", "Unauthorized", "Forbidden", "NotFound", "TooManyRequests")
ARK_CODES = {
    400: "InvalidParameter",
    401: "AuthenticationError",
    403: "AccessDenied",
    404: "InvalidEndpointOrModel.NotFound",
    429: "RateLimitExceeded.EndpointRPMExceeded",
}


def render_error(error: APIError, request_key: str = "") -> dict[str, Any]:
    """Ark's envelope; an error from elsewhere (a scripted fault, OpenAI's words) gets Ark's
    code and type for its status."""
    code = error.code if error.code and "_" not in error.code else None
    code = code or ARK_CODES.get(error.status, "InternalServiceError")
    kind = error.type if error.type in ARK_KINDS else _kind(error.status)
    message = f"{error.message} Request id: {request_id(request_key or error.message)}"
    body: dict[str, Any] = {"code": code, "message": message}
    if error.param:
        body["param"] = error.param
    body["type"] = kind
    return {"error": body}


def missing(param: str) -> APIError:
    return ark_error(
        400,
        "MissingParameter",
        f"The request failed because it is missing one or multiple required parameters: `{param}`.",
        param,
    )


def not_found(task_id: str) -> APIError:
    return ark_error(
        404,
        "ResourceNotFound",
        f"The specified task `{task_id}` is not found.",
        "task_id",
    )


def _kind(status: int) -> str:
    kinds = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
    return kinds.get(status, "InternalServiceError" if status >= 500 else "BadRequest")


def request_id(key: str) -> str:
    """Ark's request id: 20 digits of time and 24 hex characters (here from the request)."""
    return "0217" + ids.hex_digest(key, "ark-request", 16) + ids.hex_digest(key, "ark-rid", 24)
