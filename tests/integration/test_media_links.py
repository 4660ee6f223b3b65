"""Image URLs expire as OpenAI's do (60 minutes), counted on the scenario's clock: a test
advances the task clock past the lifetime, and the URL answers Azure's 403."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.conftest import StartServer

RULES = """
version: 1
seed: 5
rules: []
"""


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


def advance(server: Any, seconds: int) -> None:
    response = httpx.post(server.url + f"/_mock/tasks/clock?advance={seconds}")
    assert response.status_code == 200, response.text


def test_an_image_url_serves_for_an_hour_of_scenario_time(server: Any) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    result = client.images.generate(model="dall-e-3", prompt="a lighthouse", size="1024x1024")
    assert result.data is not None
    url = result.data[0].url or ""
    assert "?st=" in url and "&se=" in url and "&sig=" in url
    assert httpx.get(url).status_code == 200
    advance(server, 3599)
    assert httpx.get(url).status_code == 200
    advance(server, 1)
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert expired.headers["content-type"].startswith("application/xml")
    assert expired.headers["x-ms-error-code"] == "AuthenticationFailed"
    assert b"has to be after current time" in expired.content
    # A new request now gets a new link, valid again for an hour.
    again = client.images.generate(model="dall-e-3", prompt="a lighthouse", size="1024x1024")
    assert again.data is not None and again.data[0].url != url
    assert httpx.get(again.data[0].url or "").status_code == 200
    # The server's own unsigned handle on the file stays.
    assert httpx.get(url.partition("?")[0]).status_code == 200


def test_a_tampered_link_is_refused(server: Any) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    result = client.images.generate(model="dall-e-2", prompt="a kite", size="256x256")
    assert result.data is not None
    url = result.data[0].url or ""
    tampered = url.replace("se=2025", "se=2026")
    assert tampered != url
    response = httpx.get(tampered)
    assert response.status_code == 403 and b"Signature did not match" in response.content


def test_ideogram_links_expire_too(server: Any) -> None:
    response = httpx.post(
        server.url + "/ideogram/v1/ideogram-v3/generate",
        files={"prompt": (None, "a harbour")},
        headers={"Authorization": "Bearer sk-test"},
    )
    assert response.status_code == 200, response.text
    url = response.json()["data"][0]["url"]
    assert "?exp=" in url and httpx.get(url).status_code == 200
    advance(server, 3600)
    assert httpx.get(url).status_code == 403
