"""Faults: turning a scenario's `fault:` into what the client meets (issue: fault injection)."""

from __future__ import annotations

from typing import Any

from mockserver.errors import APIError
from mockserver.scenario import FaultSpec


def summarize(fault: FaultSpec) -> dict[str, Any]:
    """The journal's record of a fault: its non-empty fields."""
    return fault.model_dump(exclude_none=True, by_alias=True)


def status_error(fault: FaultSpec) -> APIError:
    status = fault.status or 500
    return APIError(
        status,
        fault.message or "The server had an error while processing your request.",
        type=fault.type,
        code=fault.code,
        param=fault.param,
        headers=fault.headers,
    )
