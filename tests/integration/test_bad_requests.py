"""Bad requests through a real server get OpenAI's own error shape and status — never a 500, a
traceback or an HTML page — and the server keeps serving."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from mockserver.tokens.tokenizer import get_tokenizer
from tests.conftest import StartServer
from tests.openapi_spec import validate

AUTH = {"authorization": "Bearer sk-test"}
SMALL_MODEL = """
version: 1
models:
  - {id: tiny-model, context_window: 50, max_output_tokens: 10}
"""


@pytest.fixture
def url(start_server: StartServer) -> str:
    return start_server(SMALL_MODEL, catalog="strict").url  # unknown models get a 404


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    validate("ErrorResponse", body)
    return dict(body["error"])


def test_unknown_path_and_wrong_method(url: str) -> None:
    missing = httpx.post(f"{url}/v1/foo", json={}, headers=AUTH)
    assert missing.status_code == 404
    assert error_of(missing)["message"] == "Invalid URL (POST /v1/foo)"
    wrong = httpx.get(f"{url}/v1/chat/completions", headers=AUTH)
    assert wrong.status_code == 405
    assert error_of(wrong)["message"] == "Invalid method for URL (GET /v1/chat/completions)"


def test_invalid_json_and_body_too_large(url: str) -> None:
    broken = httpx.post(
        f"{url}/v1/chat/completions",
        content=b"{not json",
        headers=AUTH | {"content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert error_of(broken)["message"].startswith("We could not parse the JSON body")
    huge = httpx.post(
        f"{url}/v1/chat/completions",
        content=b"x" * (33 * 1024 * 1024),
        headers=AUTH | {"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert error_of(huge)["code"] == "request_too_large"


def test_unknown_model_and_context_length_through_the_sdk(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "model_not_found"
    assert "The model `gpt-9` does not exist" in missing.value.message
    with pytest.raises(openai.BadRequestError) as long:
        client.chat.completions.create(
            model="tiny-model", messages=[{"role": "user", "content": "word " * 60}]
        )
    assert long.value.code == "context_length_exceeded"
    assert "This model's maximum context length is 50 tokens." in long.value.message
    expected = 3 + 1 + get_tokenizer("o200k_base").count("word " * 60) + 3  # chat framing
    assert f"your messages resulted in {expected} tokens" in long.value.message
    # ...and the server still answers everyone else
    ok = client.chat.completions.create(
        model="tiny-model", messages=[{"role": "user", "content": "hi"}]
    )
    assert ok.choices[0].message.content
