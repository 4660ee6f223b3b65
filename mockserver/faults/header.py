"""`x-mock-fault`: break one request without writing a scenario.

The header holds `key=value` pairs separated by `;` or `,`, with the keys of a scenario's
`fault:` (nested ones dotted), validated by the same model:

    x-mock-fault: status=503
    x-mock-fault: preset=rate_limit; retry_after=0.2
    x-mock-fault: disconnect_after=3
    x-mock-fault: connection=reset
    x-mock-fault: latency.ttft=0.5, latency.tokens_per_second=20
    x-mock-fault: status=500; headers.x-request-id=req_1

A bad header is a 400 in the dialect's shape naming the key, never a silent no-op.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockserver.core.errors import APIError

if TYPE_CHECKING:
    from mockserver.scenario import FaultSpec

HEADER = "x-mock-fault"
ERROR_CODE = "mock_invalid_fault_header"
_NESTED = ("latency", "headers")


def fault_from_headers(headers: Mapping[str, str]) -> FaultSpec | None:
    """The fault a request asks for (lower-case header names), or None without the header."""
    raw = headers.get(HEADER)
    return None if raw is None else parse_fault_header(raw)


def parse_fault_header(raw: str) -> FaultSpec:
    """`"status=429; retry_after=0.2"` -> FaultSpec(status=429, retry_after=0.2), or an
    `APIError` 400 naming what is wrong."""
    # Here, not at the top: most requests carry no header, and the models load pydantic.
    from pydantic import ValidationError

    from mockserver.scenario import FaultSpec, LatencySpec

    data: dict[str, Any] = {}
    for part in raw.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not key:
            raise invalid(f"expected key=value, got {part!r}")
        top, _, sub = key.partition(".")
        _check_key(top, FaultSpec.accepted_keys())
        if not sub:
            data[top] = value
        elif top == "latency":
            _check_key(sub, LatencySpec.accepted_keys(), prefix="latency.")
            data.setdefault("latency", {})[sub] = _number(value)
        elif top == "headers":
            data.setdefault("headers", {})[sub] = value
        else:
            raise invalid(
                f"{top!r} takes no sub-key (only {' and '.join(_NESTED)} do), got {key!r}"
            )
    if not data:
        raise invalid("the header is empty; write key=value pairs such as status=503")
    try:
        # Lax validation: every value arrives as a string ("503", "0.2", "false").
        return FaultSpec.model_validate(data, strict=False)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "fault"
        got = first.get("input")
        shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
        raise invalid(f"{where}: {first['msg']}{shown}") from None


def invalid(detail: str, keys: list[str] | None = None) -> APIError:
    """The 400 for a bad header, listing the keys it may use (a fault's, unless told)."""
    from mockserver.scenario import FaultSpec

    listed = ", ".join(keys or FaultSpec.accepted_keys())
    return APIError(
        400,
        f"Invalid {HEADER} header: {detail}. Keys: {listed}.",
        type="invalid_request_error",
        param=HEADER,
        code=ERROR_CODE,
    )


def _check_key(key: str, accepted: list[str], prefix: str = "") -> None:
    if key in accepted:
        return
    close = difflib.get_close_matches(key, accepted, n=1)
    hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
    raise invalid(f"unknown key '{prefix}{key}'{hint}", [prefix + name for name in accepted])


def _number(value: str) -> Any:
    """Latency values are seconds: "0.5" -> 0.5 (anything else is left for the model to
    reject with its own message)."""
    try:
        return float(value)
    except ValueError:
        return value
