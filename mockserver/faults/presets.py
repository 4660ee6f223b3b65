"""Status faults: a scenario's `fault: {preset: ..., status: ...}` as the error each vendor sends.

A preset names a failure; the words, status and type are the vendor's own (wire-formats.md):

| preset | OpenAI | Anthropic | Gemini |
| --- | --- | --- | --- |
| rate_limit | 429 rate_limit_exceeded | 429 rate_limit_error | 429 RESOURCE_EXHAUSTED |
| overloaded | 503 server_error | 529 overloaded_error | 503 UNAVAILABLE |
| server_error | 500 server_error | 500 api_error | 500 INTERNAL |
| invalid_key | 401 invalid_api_key | 401 authentication_error | 400 API_KEY_INVALID |
| insufficient_quota | 429 insufficient_quota | 400 credit balance too low | 429 quota |
| context_length | the dialect's own context-window error | | |

A bare `status: N` takes the preset with that status when there is one (429, 401, 500, 503,
529), else a generic body. `message`, `type`, `code`, `param` and `headers` in the fault win over
the preset's; `retry_after` adds `retry-after` / `retry-after-ms` (the `rate_limit` preset asks
for 1 s unless told otherwise), `should_retry` adds `x-should-retry`. The neutral `APIError`
is rendered by the dialect as usual.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import TYPE_CHECKING

from msgspec import Struct

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.faults.vendor import Vendor, masked_key, openai_organization, vendor_of

if TYPE_CHECKING:
    from mockserver.protocols.dialect import Dialect
    from mockserver.scenario import FaultSpec

# Made-up but plausible numbers for a preset's "Limit N, Used N" (a real bucket says its own).
PRESET_RPM = 500
DEFAULT_RETRY_AFTER = 1.0  # seconds a rate_limit preset asks the client to wait

OPENAI_RATE_LIMIT_DOCS = "https://platform.openai.com/account/rate-limits"
ANTHROPIC_RATE_LIMIT_DOCS = "https://docs.claude.com/en/api/rate-limits"
ANTHROPIC_SALES = "https://www.anthropic.com/contact-sales"

OPENAI_OVERLOADED = (
    "That model is currently overloaded with other requests. You can retry your request, or "
    "contact us through our help center at help.openai.com if the error persists."
)
OPENAI_SERVER_ERROR = (
    "The server had an error processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center at help.openai.com if you keep seeing this "
    "error."
)
OPENAI_QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)
ANTHROPIC_CREDIT = (
    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing "
    "to upgrade or purchase credits."
)
GEMINI_EXHAUSTED = "Resource has been exhausted (e.g. check quota)."
GEMINI_OVERLOADED = "The model is overloaded. Please try again later."

# Which preset a bare status stands for.
STATUS_PRESETS = {
    429: "rate_limit",
    401: "invalid_key",
    500: "server_error",
    503: "overloaded",
    529: "overloaded",
}


class ErrorContext(Struct, frozen=True):
    """What a preset's words need from the request: the vendor (through the dialect), the
    model, the caller's key and, for `context_length`, the model's window and the prompt."""

    dialect: Dialect
    model: str
    api_key: str | None = None
    context_window: int = 0
    prompt_tokens: int = 0

    @property
    def vendor(self) -> Vendor:
        return vendor_of(self.dialect.name)


def status_error(fault: FaultSpec, context: ErrorContext) -> APIError:
    """The error a status fault answers with (the preset's, with the fault's overrides)."""
    preset = fault.preset or STATUS_PRESETS.get(fault.status or 500)
    retry_after = fault.retry_after
    if retry_after is None and fault.preset == "rate_limit":
        retry_after = DEFAULT_RETRY_AFTER
    if preset:
        base = preset_error(preset, context, retry_after or DEFAULT_RETRY_AFTER)
    else:
        base = generic_error(fault.status or 500, context)
    status = fault.status or base.status
    same_status = status == base.status
    headers = dict(base.headers)
    if retry_after is not None:
        headers.update(retry_headers(retry_after))
    if fault.should_retry is not None:
        headers["x-should-retry"] = "true" if fault.should_retry else "false"
    headers.update(fault.headers or {})
    return APIError(
        status,
        fault.message if fault.message is not None else base.message,
        type=fault.type or (base.type if same_status else None),
        code=fault.code if fault.code is not None else (base.code if same_status else None),
        param=fault.param if fault.param is not None else base.param,
        headers=headers,
    )


def retry_headers(seconds: float) -> dict[str, str]:
    """`retry-after` in whole seconds (rounded up) and `retry-after-ms`, as OpenAI sends them."""
    return {
        "retry-after": str(math.ceil(seconds)),
        "retry-after-ms": str(math.ceil(seconds * 1000)),
    }


def wait_words(seconds: float) -> str:
    """OpenAI's "Please try again in ..." duration, rounded up to the millisecond like
    `retry-after-ms`: 20ms, 1s, 26.604s."""
    millis = math.ceil(seconds * 1000)
    if millis < 1000:
        return f"{millis}ms"
    return f"{millis / 1000:.3f}".rstrip("0").rstrip(".") + "s"


def preset_error(preset: str, context: ErrorContext, wait: float = DEFAULT_RETRY_AFTER) -> APIError:
    """The vendor's error for a named preset (`content_filter` is a reply, not an error);
    `wait` is the delay a rate-limit message asks for."""
    vendor = context.vendor
    if preset == "context_length":
        limit = max(context.context_window, 1)
        return context.dialect.context_exceeded(limit, limit + context.prompt_tokens, None)
    if vendor == "anthropic":
        return _anthropic(preset, context)
    if vendor == "gemini":
        return _gemini(preset)
    error = _openai(preset, context, wait)
    if vendor == "gateway":
        return _as_gateway(error, context)
    return error


def generic_error(status: int, context: ErrorContext) -> APIError:
    """A status no preset describes: the HTTP reason phrase in the vendor's shape (Gemini's
    dialect fills in Google's default message for an empty one)."""
    if context.vendor == "gemini":
        return APIError(status, "")
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    error = APIError(status, phrase)
    return _as_gateway(error, context) if context.vendor == "gateway" else error


def _openai(preset: str, context: ErrorContext, wait: float) -> APIError:
    if preset == "rate_limit":
        message = openai_rate_limit_message(
            context.model,
            openai_organization(context.api_key),
            "requests",
            PRESET_RPM,
            PRESET_RPM,
            1,
            wait,
        )
        return APIError(429, message, type="requests", code="rate_limit_exceeded")
    if preset == "overloaded":
        return APIError(503, OPENAI_OVERLOADED, type="server_error")
    if preset == "server_error":
        return APIError(500, OPENAI_SERVER_ERROR, type="server_error")
    if preset == "invalid_key":
        message = (
            f"Incorrect API key provided: {masked_key(context.api_key)}. You can find your API "
            "key at https://platform.openai.com/account/api-keys."
        )
        return APIError(401, message, type="invalid_request_error", code="invalid_api_key")
    if preset == "insufficient_quota":
        return APIError(429, OPENAI_QUOTA, type="insufficient_quota", code="insufficient_quota")
    raise ValueError(f"no error preset named {preset!r}")


def openai_rate_limit_message(
    model: str,
    organization: str,
    kind: str,
    limit: int,
    used: int,
    requested: int,
    wait: float,
) -> str:
    """ "Rate limit reached for gpt-4o in organization org-… on requests per min (RPM): …"."""
    unit = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
    return (
        f"Rate limit reached for {model} in organization {organization} on {unit}: "
        f"Limit {limit}, Used {used}, Requested {requested}. Please try again in "
        f"{wait_words(wait)}. Visit {OPENAI_RATE_LIMIT_DOCS} to learn more."
    )


def anthropic_rate_limit_message(organization: str, limit: int, unit: str) -> str:
    """Anthropic's 429 wording; `unit` is "requests" or "input tokens"."""
    return (
        f"This request would exceed the rate limit for your organization ({organization}) of "
        f"{limit:,} {unit} per minute. For details, refer to: {ANTHROPIC_RATE_LIMIT_DOCS}. You "
        "can see the response headers for current usage. Please reduce the prompt length or the "
        "maximum tokens requested, or try again later. You may also contact sales at "
        f"{ANTHROPIC_SALES} to discuss your options for a rate limit increase."
    )


def _anthropic(preset: str, context: ErrorContext) -> APIError:
    from mockserver.protocols.anthropic.messages import organization_id

    if preset == "rate_limit":
        organization = organization_id(context.api_key or "")
        message = anthropic_rate_limit_message(organization, PRESET_RPM, "requests")
        return APIError(429, message, type="rate_limit_error")
    if preset == "overloaded":
        return APIError(529, "Overloaded", type="overloaded_error")
    if preset == "server_error":
        return APIError(500, "Internal server error", type="api_error")
    if preset == "invalid_key":
        return APIError(401, "invalid x-api-key", type="authentication_error")
    if preset == "insufficient_quota":
        return APIError(400, ANTHROPIC_CREDIT, type="invalid_request_error")
    raise ValueError(f"no error preset named {preset!r}")


def _gemini(preset: str) -> APIError:
    # An empty message takes Google's default wording for the status (gemini_errors).
    if preset == "rate_limit":
        return APIError(429, GEMINI_EXHAUSTED)
    if preset == "overloaded":
        return APIError(503, GEMINI_OVERLOADED)
    if preset == "server_error":
        return APIError(500, "")
    if preset == "invalid_key":
        return APIError(400, "", code="invalid_api_key")
    if preset == "insufficient_quota":
        return APIError(429, "")
    raise ValueError(f"no error preset named {preset!r}")


def _as_gateway(error: APIError, context: ErrorContext) -> APIError:
    """new-api's own shape: type `new_api_error`, "(request id: …)" after the message, and
    its codes for a bad token (401 "Invalid token") and an empty quota (403)."""
    request_id = ids.hexchars(ids.digest(context.model, error.status, error.message), "rid", 28)
    if error.code == "invalid_api_key":
        status, message, code = 401, "Invalid token", ""
    elif error.code == "insufficient_quota":
        status, message, code = 403, "user quota is not enough", "insufficient_user_quota"
    else:
        status, message, code = error.status, error.message, error.code or ""
    return APIError(
        status,
        f"{message} (request id: {request_id})",
        type="new_api_error",
        code=code,
        param=error.param,
        headers=error.headers,
    )
