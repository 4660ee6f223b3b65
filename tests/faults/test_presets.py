"""Status faults rendered by each dialect: the vendor's status, body and retry headers."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mockserver.core.errors import APIError
from mockserver.engine.pipeline import error_response
from mockserver.faults import ErrorContext, retry_headers, status_error
from mockserver.faults.presets import wait_words
from mockserver.faults.vendor import api_key_of, masked_key, vendor_of
from mockserver.protocols.anthropic.messages import AnthropicDialect
from mockserver.protocols.dialect import Dialect
from mockserver.protocols.gemini.generate import GeminiDialect
from mockserver.protocols.newapi.errors import GatewayDialect
from mockserver.protocols.openai.chat import ChatDialect
from mockserver.scenario import FaultSpec

CHAT, ANTHROPIC, GEMINI, GATEWAY = (
    ChatDialect(),
    AnthropicDialect(),
    GeminiDialect(),
    GatewayDialect(),
)


def render(dialect: Dialect, **fault: Any) -> tuple[int, dict[str, str], Any]:
    """(status, headers, body) the client gets for a fault, through the dialect."""
    context = ErrorContext(dialect, "gpt-4o", "sk-test-abcdef123456", 8192, 100)
    error = status_error(FaultSpec.model_validate(fault), context)
    response = error_response(dialect, error)
    headers = {k.decode(): v.decode() for k, v in response.raw_headers}
    return response.status_code, headers, orjson.loads(response.body)


@pytest.mark.parametrize(
    ("preset", "status", "error_type", "code"),
    [
        ("rate_limit", 429, "requests", "rate_limit_exceeded"),
        ("overloaded", 503, "server_error", None),
        ("server_error", 500, "server_error", None),
        ("invalid_key", 401, "invalid_request_error", "invalid_api_key"),
        ("insufficient_quota", 429, "insufficient_quota", "insufficient_quota"),
        ("context_length", 400, "invalid_request_error", "context_length_exceeded"),
    ],
)
def test_openai_presets(preset: str, status: int, error_type: str, code: str | None) -> None:
    got_status, _, body = render(CHAT, preset=preset)
    assert got_status == status
    assert set(body) == {"error"}
    assert body["error"]["type"] == error_type
    assert body["error"]["code"] == code
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_openai_rate_limit_preset_words_and_headers() -> None:
    _, headers, body = render(CHAT, preset="rate_limit", retry_after=0.25)
    assert body["error"]["message"].startswith("Rate limit reached for gpt-4o in organization org-")
    assert (
        "on requests per min (RPM): Limit 500, Used 500, Requested 1." in body["error"]["message"]
    )
    assert "Please try again in 250ms." in body["error"]["message"]
    assert headers["retry-after"] == "1" and headers["retry-after-ms"] == "250"
    _, default_headers, _ = render(CHAT, preset="rate_limit")
    assert default_headers["retry-after-ms"] == "1000"  # the preset asks for a second


def test_invalid_key_quotes_the_key_masked() -> None:
    _, _, body = render(CHAT, preset="invalid_key")
    assert "Incorrect API key provided: sk-*************3456." in body["error"]["message"]
    assert masked_key(None) == "sk-***"


def test_context_length_uses_the_dialects_own_error() -> None:
    _, _, body = render(CHAT, preset="context_length")
    assert body["error"]["message"].startswith("This model's maximum context length is 8192")
    assert body["error"]["param"] == "messages"


@pytest.mark.parametrize(
    ("preset", "status", "error_type"),
    [
        ("rate_limit", 429, "rate_limit_error"),
        ("overloaded", 529, "overloaded_error"),
        ("server_error", 500, "api_error"),
        ("invalid_key", 401, "authentication_error"),
        ("insufficient_quota", 400, "invalid_request_error"),
    ],
)
def test_anthropic_presets(preset: str, status: int, error_type: str) -> None:
    got_status, headers, body = render(ANTHROPIC, preset=preset)
    assert got_status == status
    assert body["type"] == "error" and body["error"]["type"] == error_type
    assert body["request_id"] == headers["request-id"]
    retryable = status in (429, 500, 529)
    assert headers["x-should-retry"] == ("true" if retryable else "false")


def test_anthropic_overloaded_says_overloaded_and_503_becomes_529() -> None:
    assert render(ANTHROPIC, preset="overloaded")[2]["error"]["message"] == "Overloaded"
    assert render(ANTHROPIC, status=503)[0] == 529
    assert (
        "of 500 requests per minute"
        in render(ANTHROPIC, preset="rate_limit")[2]["error"]["message"]
    )


@pytest.mark.parametrize(
    ("preset", "status", "google_status"),
    [
        ("rate_limit", 429, "RESOURCE_EXHAUSTED"),
        ("overloaded", 503, "UNAVAILABLE"),
        ("server_error", 500, "INTERNAL"),
        ("invalid_key", 400, "INVALID_ARGUMENT"),
        ("insufficient_quota", 429, "RESOURCE_EXHAUSTED"),
    ],
)
def test_gemini_presets(preset: str, status: int, google_status: str) -> None:
    got_status, _, body = render(GEMINI, preset=preset)
    assert got_status == status
    assert body["error"]["code"] == status
    assert body["error"]["status"] == google_status
    assert body["error"]["message"]  # Google's default wording when the preset has none


def test_gemini_rate_limit_carries_retry_info() -> None:
    _, _, body = render(GEMINI, preset="rate_limit", retry_after=3)
    assert body["error"]["message"] == "Resource has been exhausted (e.g. check quota)."
    retry = [d for d in body["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]


def test_gateway_presets_take_new_api_shape() -> None:
    status, _, body = render(GATEWAY, preset="invalid_key")
    assert status == 401
    assert body["error"]["type"] == "new_api_error"
    assert body["error"]["message"].startswith("Invalid token (request id: ")
    status, _, body = render(GATEWAY, preset="insufficient_quota")
    assert (status, body["error"]["code"]) == (403, "insufficient_user_quota")
    assert render(GATEWAY, status=418)[2]["error"]["param"] == ""


def test_a_bare_status_takes_the_preset_of_that_status() -> None:
    assert render(CHAT, status=429)[2]["error"]["code"] == "rate_limit_exceeded"
    assert "retry-after" not in render(CHAT, status=429)[1]  # only the preset invents a wait
    assert render(CHAT, status=503)[2]["error"]["message"].startswith("That model is currently")
    status, _, body = render(CHAT, status=418)
    assert (status, body["error"]["message"]) == (418, "I'm a Teapot")


def test_fault_fields_override_the_preset() -> None:
    status, headers, body = render(
        CHAT,
        preset="server_error",
        status=502,
        message="Bad gateway",
        code="upstream",
        should_retry=False,
        headers={"x-request-id": "req_fixed"},
    )
    assert status == 502
    assert body["error"] == {
        "message": "Bad gateway",
        "type": "server_error",
        "param": None,
        "code": "upstream",
    }
    assert headers["x-should-retry"] == "false"
    assert headers["x-request-id"] == "req_fixed"


def test_retry_headers_round_up() -> None:
    assert retry_headers(0.01) == {"retry-after": "1", "retry-after-ms": "10"}
    assert retry_headers(2) == {"retry-after": "2", "retry-after-ms": "2000"}
    assert [wait_words(s) for s in (0.0204, 1, 26.6041)] == ["21ms", "1s", "26.605s"]


def test_vendor_and_key_reading() -> None:
    assert [vendor_of(n) for n in ("openai.chat", "anthropic.messages", "gemini", "x")] == [
        "openai",
        "anthropic",
        "gemini",
        "openai",
    ]
    assert api_key_of({"authorization": "Bearer sk-a"}) == "sk-a"
    assert api_key_of({"x-api-key": "sk-ant"}) == "sk-ant"
    assert api_key_of({}, {"key": "g"}) == "g"
    assert api_key_of({"authorization": "Basic x"}) is None


def test_every_status_error_is_an_api_error() -> None:
    for status in (400, 404, 409, 422, 500, 502, 504, 529):
        error = status_error(FaultSpec(status=status), ErrorContext(CHAT, "m"))
        assert isinstance(error, APIError) and error.status == status
