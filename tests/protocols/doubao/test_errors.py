"""Ark's error shape, shared by Doubao's image and video routes."""

from __future__ import annotations

from mockserver.core.errors import APIError
from mockserver.protocols.doubao import errors as ark_errors


def test_errors_render_in_arks_envelope() -> None:
    error = ark_errors.invalid("size", "too small")
    body = ark_errors.render_error(error, "k")["error"]
    assert (body["code"], body["param"], body["type"]) == ("InvalidParameter", "size", "BadRequest")
    assert body["message"].startswith("The parameter `size` specified in the request is not valid")
    scripted_fault = APIError(429, "slow down", code="rate_limit_exceeded")
    scripted = ark_errors.render_error(scripted_fault)["error"]
    assert (scripted["code"], scripted["type"]) == (
        "RateLimitExceeded.EndpointRPMExceeded",
        "TooManyRequests",
    )


def test_a_missing_task_names_its_id() -> None:
    body = ark_errors.render_error(ark_errors.not_found("cgt-1"), "k")["error"]
    assert (body["code"], body["param"], body["type"]) == (
        "ResourceNotFound",
        "task_id",
        "NotFound",
    )
    assert "Request id: 0217" in body["message"]
