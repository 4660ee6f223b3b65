"""Status faults: a scenario's `fault: {preset: ..., status: ...}` as the error each vendor sends.

A preset names a failure; the words, status and type are the vendor's own (wire-formats.md),
from each dialect's `preset_error` (`protocols/<vendor>/errors.py`):

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
from typing import TYPE_CHECKING

from msgspec import Struct

from mockserver.core.errors import APIError

if TYPE_CHECKING:
    from mockserver.protocols.dialect import Dialect
    from mockserver.scenario import FaultSpec

# Made-up but plausible numbers for a preset's "Limit N, Used N" (a real bucket says its own).
PRESET_RPM = 500
DEFAULT_RETRY_AFTER = 1.0  # seconds a rate_limit preset asks the client to wait

# Which preset a bare status stands for.
STATUS_PRESETS = {
    429: "rate_limit",
    401: "invalid_key",
    500: "server_error",
    503: "overloaded",
    529: "overloaded",
}


class ErrorContext(Struct, frozen=True):
    """What a preset's words need from the request: the dialect (whose vendor words it), the
    model, the caller's key and, for `context_length`, the model's window and the prompt."""

    dialect: Dialect
    model: str
    api_key: str | None = None
    context_window: int = 0
    prompt_tokens: int = 0


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
    if preset == "context_length":
        limit = max(context.context_window, 1)
        return context.dialect.context_exceeded(limit, limit + context.prompt_tokens, None)
    return context.dialect.preset_error(preset, context, wait)


def generic_error(status: int, context: ErrorContext) -> APIError:
    """A status no preset describes, in the vendor's words."""
    return context.dialect.generic_error(status, context)
