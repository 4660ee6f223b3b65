"""Anthropic's words for the failures a scenario can name (`faults.presets`) and for rate
limits: `{"type": "error", "error": {"type", "message"}}` with the live API's types."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.core.errors import APIError

if TYPE_CHECKING:
    from mockserver.faults.presets import ErrorContext
    from mockserver.gateway.ratelimit import Admission, Refusal

RATE_LIMIT_DOCS = "https://docs.claude.com/en/api/rate-limits"
SALES = "https://www.anthropic.com/contact-sales"
CREDIT = (
    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing "
    "to upgrade or purchase credits."
)
# One token bucket stands for Anthropic's three token limits.
TOKEN_FAMILIES = ("tokens", "input-tokens", "output-tokens")


def rate_limit_message(organization: str, limit: int, unit: str) -> str:
    """Anthropic's 429 wording; `unit` is "requests" or "input tokens"."""
    return (
        f"This request would exceed the rate limit for your organization ({organization}) of "
        f"{limit:,} {unit} per minute. For details, refer to: {RATE_LIMIT_DOCS}. You "
        "can see the response headers for current usage. Please reduce the prompt length or the "
        "maximum tokens requested, or try again later. You may also contact sales at "
        f"{SALES} to discuss your options for a rate limit increase."
    )


def preset_error(preset: str, context: ErrorContext) -> APIError:
    from mockserver.faults.presets import PRESET_RPM
    from mockserver.protocols.anthropic.messages import organization_id

    if preset == "rate_limit":
        organization = organization_id(context.api_key or "")
        return APIError(
            429, rate_limit_message(organization, PRESET_RPM, "requests"), type="rate_limit_error"
        )
    if preset == "overloaded":
        return APIError(529, "Overloaded", type="overloaded_error")
    if preset == "server_error":
        return APIError(500, "Internal server error", type="api_error")
    if preset == "invalid_key":
        return APIError(401, "invalid x-api-key", type="authentication_error")
    if preset == "insufficient_quota":
        return APIError(400, CREDIT, type="invalid_request_error")
    raise ValueError(f"no error preset named {preset!r}")


def rate_limit_headers(admission: Admission, clock: int) -> dict[str, str]:
    """`anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
    the reset as an RFC 3339 time."""
    from mockserver.gateway.ratelimit import rfc3339

    out: dict[str, str] = {}
    for reading in admission.readings:
        reset = rfc3339(clock + admission.elapsed + reading.reset)
        families = ("requests",) if reading.kind == "requests" else TOKEN_FAMILIES
        for family in families:
            out[f"anthropic-ratelimit-{family}-limit"] = str(reading.limit)
            out[f"anthropic-ratelimit-{family}-remaining"] = str(reading.remaining)
            out[f"anthropic-ratelimit-{family}-reset"] = reset
    return out


def rate_limit_error(refusal: Refusal, key: str | None) -> APIError:
    from mockserver.protocols.anthropic.messages import organization_id

    unit = "requests" if refusal.kind == "requests" else "input tokens"
    message = rate_limit_message(organization_id(key or ""), refusal.limit, unit)
    return APIError(429, message, type="rate_limit_error")
