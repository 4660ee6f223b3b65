"""Faults: what a `fault:` does to a request, wherever it was declared (a rule, a sequence
step, `fail_times`, scenario-level `chaos:`, or the `x-mock-fault` header).

One fault may combine effects; they are applied in this order:

- `connection` (empty_response, reset, garbage, hang): the response is replaced by a broken
  connection (`mockserver.http.responses.BrokenConnection`);
- `status` / `preset` (except content_filter): the vendor's error response (`presets`); with a
  stream key they describe the in-stream error event instead;
- `preset: content_filter`: the reply ends with finish reason content_filter;
- stream keys (`disconnect_after`, ... , `malformed_event_at`): the stream is cut (`stream`);
- `latency`: overrides the pacing (`mockserver.engine.latency`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from mockserver.faults.chaos import Chaos, ChaosHit
from mockserver.faults.header import HEADER, fault_from_headers, parse_fault_header
from mockserver.faults.presets import ErrorContext, retry_headers, status_error
from mockserver.faults.stream import Cut, cut_body, cut_stream, has_stream_fault

if TYPE_CHECKING:
    from mockserver.scenario import FaultSpec

FaultSource = Literal["rule", "chaos", "header"]

__all__ = [
    "HEADER",
    "Chaos",
    "ChaosHit",
    "Cut",
    "ErrorContext",
    "FaultSource",
    "cut_body",
    "cut_stream",
    "fault_from_headers",
    "has_stream_fault",
    "in_stream_error_spec",
    "is_status",
    "parse_fault_header",
    "retry_headers",
    "status_error",
    "summarize",
]


def summarize(fault: FaultSpec, source: str | None = None) -> dict[str, Any]:
    """The journal's record of a fault: its non-empty fields and where it came from."""
    record = fault.model_dump(exclude_none=True, by_alias=True)
    if source is not None:
        record["source"] = source
    return record


def is_status(fault: FaultSpec) -> bool:
    """Whether the client gets an error response in place of the reply."""
    if fault.connection is not None or has_stream_fault(fault):
        return False
    return fault.status is not None or fault.preset not in (None, "content_filter")


def in_stream_error_spec(fault: FaultSpec) -> FaultSpec:
    """The status fault an `error_event_after` sends (a server error unless it names one)."""
    if fault.status is not None or fault.preset not in (None, "content_filter"):
        return fault
    return fault.model_copy(update={"preset": "server_error"})
