"""Google's error envelope for the Gemini API, with the statuses and words the live API uses.

Every error is `{"error": {"code": 400, "message": ..., "status": "INVALID_ARGUMENT",
"details": [...]}}`; `status` is the google.rpc code name for the HTTP status. Wordings come
from live answers quoted in public bug reports:

- no key at all: 403 PERMISSION_DENIED "Method doesn't allow unregistered callers ...";
- a bad key: 400 (not 401) INVALID_ARGUMENT "API key not valid. Please pass a valid API key."
  with an ErrorInfo (reason API_KEY_INVALID) and a LocalizedMessage;
- an unknown model: 404 NOT_FOUND "models/X is not found for API version v1beta, ...";
- a request body over the limit: 400 INVALID_ARGUMENT "Request payload size exceeds the limit";
- JSON that doesn't fit the proto: 400 with a BadRequest `fieldViolations` detail per problem;
- request validation: "* GenerateContentRequest.contents: contents is not specified\\n" lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from mockserver.core.errors import APIError

STATUS_NAMES: Mapping[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

RATE_LIMIT_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits"
# Used when an error arrives with an empty message (a fault that names only a status).
DEFAULT_MESSAGES: Mapping[int, str] = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: (
        "You exceeded your current quota, please check your plan and billing details. For more "
        f"information on this error, head to: {RATE_LIMIT_DOCS}. To monitor your current usage, "
        "head to: https://ai.dev/rate-limit. "
    ),
    500: (
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"
    ),
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}

API_KEY_INVALID = "API key not valid. Please pass a valid API key."
UNREGISTERED_CALLER = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
SERVICE = "generativelanguage.googleapis.com"
_TYPE_PREFIX = "type.googleapis.com/google.rpc."
_LIMIT_IN_MESSAGE = re.compile(r"limit of (\d+) bytes")


class GeminiError(APIError):
    """An `APIError` carrying Google's status word (in `type`) and its `details` list."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        google_status: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            status, message, type=google_status or status_name(status), code=code, headers=headers
        )
        self.details = [dict(detail) for detail in details]


def status_name(http_status: int) -> str:
    """google.rpc code name for an HTTP status: 429 -> "RESOURCE_EXHAUSTED"."""
    if http_status in STATUS_NAMES:
        return STATUS_NAMES[http_status]
    return "FAILED_PRECONDITION" if 400 <= http_status < 500 else "UNKNOWN"


def wire_status(error: APIError) -> int:
    """The HTTP status Google answers with: a bad key and an oversized body are 400s there."""
    if error.code == "invalid_api_key" or error.status == 413:
        return 400
    return error.status


def error_body(error: APIError) -> dict[str, Any]:
    """The `{"error": {...}}` body for any `APIError`, Gemini-shaped or neutral."""
    status = wire_status(error)
    message = error.message or DEFAULT_MESSAGES.get(status, "")
    details: list[dict[str, Any]] = []
    if isinstance(error, GeminiError):
        google_status = error.type
        details = error.details
    else:
        google_status = status_name(status)
        if error.code == "invalid_api_key":
            message, details = API_KEY_INVALID, api_key_invalid().details
        elif error.status == 413:
            found = _LIMIT_IN_MESSAGE.search(message)
            limit = found.group(1) if found else "20971520"
            message = f"Request payload size exceeds the limit: {limit} bytes."
        elif status == 429:
            details = _quota_details(error)
    body: dict[str, Any] = {"code": status, "message": message, "status": google_status}
    if details:
        body["details"] = details
    return {"error": body}


def _quota_details(error: APIError) -> list[dict[str, Any]]:
    link = {"description": "Learn more about Gemini API quotas", "url": RATE_LIMIT_DOCS}
    details: list[dict[str, Any]] = [{"@type": _TYPE_PREFIX + "Help", "links": [link]}]
    retry_after = error.headers.get("retry-after") or error.headers.get("Retry-After")
    if retry_after:
        try:
            seconds = max(0, round(float(retry_after)))
        except ValueError:
            seconds = 0
        details.append({"@type": _TYPE_PREFIX + "RetryInfo", "retryDelay": f"{seconds}s"})
    return details


def api_key_invalid() -> GeminiError:
    """What Google answers for a key it doesn't know (a 400, not a 401)."""
    return GeminiError(
        400,
        API_KEY_INVALID,
        code="API_KEY_INVALID",
        details=[
            {
                "@type": _TYPE_PREFIX + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": SERVICE},
            },
            {
                "@type": _TYPE_PREFIX + "LocalizedMessage",
                "locale": "en-US",
                "message": API_KEY_INVALID,
            },
        ],
    )


def unregistered_caller() -> GeminiError:
    """What Google answers for a request with no key and no OAuth token."""
    return GeminiError(403, UNREGISTERED_CALLER)


def model_not_found(
    model: str, action: str = "generateContent", version: str = "v1beta"
) -> GeminiError:
    name = model if model.startswith("models/") else f"models/{model}"
    return GeminiError(
        404,
        f"{name} is not found for API version {version}, or is not supported for {action}. "
        "Call ListModels to see the list of available models and their supported methods.",
    )


def input_too_long(count: int, limit: int) -> GeminiError:
    """Gemini checks only the input against the model's input limit, not input + output."""
    return GeminiError(
        400,
        f"The input token count ({count}) exceeds the maximum number of tokens allowed ({limit}).",
    )


def invalid_json() -> GeminiError:
    return payload_errors([(None, "Invalid JSON payload received. Unexpected token.")])


def payload_errors(violations: Sequence[tuple[str | None, str]]) -> GeminiError:
    """JSON that doesn't fit the request proto: every problem in the message and in a
    BadRequest detail, as `(field path or None, description)` pairs."""
    field_violations = [
        {"field": field, "description": text} if field else {"description": text}
        for field, text in violations
    ]
    return GeminiError(
        400,
        "\n".join(text for _, text in violations),
        details=[{"@type": _TYPE_PREFIX + "BadRequest", "fieldViolations": field_violations}],
    )


def request_errors(lines: Sequence[str]) -> GeminiError:
    """Failed request checks: "* GenerateContentRequest.contents: contents is not specified\\n"."""
    return GeminiError(400, "".join(f"* {line}\n" for line in lines))


def unknown_name(name: str, parent: str | None, problem: str = "Cannot find field.") -> str:
    """'Invalid JSON payload received. Unknown name "x" at 'y': Cannot find field.'"""
    at = f" at '{parent}'" if parent else ""
    return f'Invalid JSON payload received. Unknown name "{name}"{at}: {problem}'


def invalid_value(field: str, proto_type: str, value: Any) -> str:
    """Google's wording: Invalid value at 'generation_config.temperature' (TYPE_FLOAT), "hot"."""
    shown = orjson.dumps(value).decode() if isinstance(value, str | int | float | bool) else "{}"
    return f"Invalid value at '{field}' ({proto_type}), {shown}"


EXHAUSTED = "Resource has been exhausted (e.g. check quota)."
OVERLOADED = "The model is overloaded. Please try again later."


def preset_error(preset: str) -> APIError:
    """Google's error for a named preset (`faults.presets`); an empty message takes Google's
    default wording for the status."""
    if preset == "rate_limit":
        return APIError(429, EXHAUSTED)
    if preset == "overloaded":
        return APIError(503, OVERLOADED)
    if preset == "server_error":
        return APIError(500, "")
    if preset == "invalid_key":
        return APIError(400, "", code="invalid_api_key")
    if preset == "insufficient_quota":
        return APIError(429, "")
    raise ValueError(f"no error preset named {preset!r}")
