"""`x-mock-fault`: the header's pairs validated as a scenario `fault:`."""

from __future__ import annotations

import pytest

from mockserver.core.errors import APIError
from mockserver.faults import fault_from_headers, parse_fault_header
from mockserver.scenario import FaultSpec, LatencySpec


def test_pairs_become_a_fault_spec() -> None:
    assert parse_fault_header("status=503") == FaultSpec(status=503)
    assert parse_fault_header("preset=rate_limit; retry_after=0.2") == FaultSpec(
        preset="rate_limit", retry_after=0.2
    )
    assert parse_fault_header(" status = 500 , should_retry=false ;") == FaultSpec(
        status=500, should_retry=False
    )
    assert parse_fault_header("connection=reset").connection == "reset"
    assert parse_fault_header("disconnect_after=3").disconnect_after == 3


def test_dotted_keys_fill_latency_and_headers() -> None:
    fault = parse_fault_header("latency.ttft=0.5; latency.tokens_per_second=20")
    assert fault.latency == LatencySpec(ttft=0.5, tokens_per_second=20)
    fault = parse_fault_header("status=500; headers.x-request-id=req_1")
    assert fault.headers == {"x-request-id": "req_1"}


def test_no_header_no_fault() -> None:
    assert fault_from_headers({"authorization": "Bearer x"}) is None
    assert fault_from_headers({"x-mock-fault": "status=429"}) == FaultSpec(status=429)


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("stauts=503", "unknown key 'stauts' (did you mean 'status'?)"),
        ("status", "expected key=value, got 'status'"),
        ("status=abc", "status: Input should be a valid integer"),
        ("status=700", "status: Input should be less than or equal to 599"),
        ("preset=slow", "preset: Input should be"),
        ("latency.ttf=1", "unknown key 'latency.ttf' (did you mean 'latency.ttft'?)"),
        ("status.x=1", "'status' takes no sub-key"),
        ("  ;  ", "the header is empty"),
        ("message=hi", "a fault needs at least one effect"),
        ("connection=melt", "connection: Input should be"),
    ],
)
def test_a_bad_header_is_a_400_naming_the_problem(raw: str, complaint: str) -> None:
    with pytest.raises(APIError) as raised:
        parse_fault_header(raw)
    error = raised.value
    assert (error.status, error.param) == (400, "x-mock-fault")
    assert error.code == "mock_invalid_fault_header"
    assert complaint in error.message
    assert error.message.startswith("Invalid x-mock-fault header: ")


def test_a_bad_latency_key_lists_the_latency_keys() -> None:
    with pytest.raises(APIError) as raised:
        parse_fault_header("latency.speed=3")
    assert raised.value.message.endswith(
        "Keys: latency.delay, latency.ttft, latency.tokens_per_second, latency.chunk_interval, "
        "latency.jitter, latency.recorded."
    )
