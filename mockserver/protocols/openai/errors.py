"""OpenAI's words for the failures a scenario can name (`faults.presets`), for rate limits and
for parameters a model refuses: the messages, types and codes the live API answers with
(wire-formats.md)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import orjson

from mockserver.core.errors import APIError
from mockserver.faults.vendor import masked_key, openai_organization
from mockserver.protocols.openai import validation as v

if TYPE_CHECKING:
    from mockserver.faults.presets import ErrorContext
    from mockserver.gateway.ratelimit import Admission, Refusal

RATE_LIMIT_DOCS = "https://platform.openai.com/account/rate-limits"
OVERLOADED = (
    "That model is currently overloaded with other requests. You can retry your request, or "
    "contact us through our help center at help.openai.com if the error persists."
)
SERVER_ERROR = (
    "The server had an error processing your request. Sorry about that! You can retry your "
    "request, or contact us through our help center at help.openai.com if you keep seeing this "
    "error."
)
QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


def preset_error(preset: str, context: ErrorContext, wait: float) -> APIError:
    from mockserver.faults.presets import PRESET_RPM

    if preset == "rate_limit":
        message = rate_limit_message(
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
        return APIError(503, OVERLOADED, type="server_error")
    if preset == "server_error":
        return APIError(500, SERVER_ERROR, type="server_error")
    if preset == "invalid_key":
        message = (
            f"Incorrect API key provided: {masked_key(context.api_key)}. You can find your API "
            "key at https://platform.openai.com/account/api-keys."
        )
        return APIError(401, message, type="invalid_request_error", code="invalid_api_key")
    if preset == "insufficient_quota":
        return APIError(429, QUOTA, type="insufficient_quota", code="insufficient_quota")
    raise ValueError(f"no error preset named {preset!r}")


def rate_limit_message(
    model: str,
    organization: str,
    kind: str,
    limit: int,
    used: int,
    requested: int,
    wait: float,
) -> str:
    """ "Rate limit reached for gpt-4o in organization org-… on requests per min (RPM): …"."""
    from mockserver.faults.presets import wait_words

    unit = "requests per min (RPM)" if kind == "requests" else "tokens per min (TPM)"
    return (
        f"Rate limit reached for {model} in organization {organization} on {unit}: "
        f"Limit {limit}, Used {used}, Requested {requested}. Please try again in "
        f"{wait_words(wait)}. Visit {RATE_LIMIT_DOCS} to learn more."
    )


def rate_limit_headers(admission: Admission) -> dict[str, str]:
    """`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`."""
    from mockserver.gateway.ratelimit import go_duration

    out: dict[str, str] = {}
    for reading in admission.readings:
        out[f"x-ratelimit-limit-{reading.kind}"] = str(reading.limit)
        out[f"x-ratelimit-remaining-{reading.kind}"] = str(reading.remaining)
        out[f"x-ratelimit-reset-{reading.kind}"] = go_duration(reading.reset)
    return out


def rate_limit_error(refusal: Refusal, model: str, key: str | None) -> APIError:
    organization = openai_organization(key)
    if math.isinf(refusal.wait):
        message = (
            f"Request too large for {model} in organization {organization} on tokens per min "
            f"(TPM): Limit {refusal.limit}, Requested {refusal.requested}. The input or output "
            f"tokens must be reduced in order to run successfully. Visit {RATE_LIMIT_DOCS} to "
            "learn more."
        )
    else:
        message = rate_limit_message(
            model,
            organization,
            refusal.kind,
            refusal.limit,
            refusal.used,
            refusal.requested,
            refusal.wait,
        )
    return APIError(429, message, type=refusal.kind, code="rate_limit_exceeded")


LOGPROBS_NOT_ALLOWED = "You are not allowed to request logprobs from this model"


def unsupported_parameter(param: str, hint: str = "") -> APIError:
    return v.bad(
        f"Unsupported parameter: '{param}' is not supported with this model.{hint}",
        param,
        "unsupported_parameter",
    )


def unsupported_value(param: str, value: Any) -> APIError:
    shown = orjson.dumps(value).decode()
    return v.bad(
        f"Unsupported value: '{param}' does not support {shown} with this model. Only the "
        "default (1) value is supported.",
        param,
        "unsupported_value",
    )
