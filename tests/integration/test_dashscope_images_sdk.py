"""Qwen-Image and Wan in DashScope's own shape through the official `dashscope` SDK, bare
(`/api/v1`) and under the gateway's `/alibailian` prefix: the synchronous multimodal
generation, the asynchronous text-to-image task fetched until it succeeds, DashScope's errors
and its links' 24-hour expiry."""

from __future__ import annotations

import io
from http import HTTPStatus
from typing import Any

import dashscope
import httpx
import pytest
from dashscope import ImageSynthesis, MultiModalConversation
from PIL import Image

from tests.conftest import StartServer

RULES = """
version: 1
seed: 4
rules:
  - name: refused
    match: {last_user: forbidden}
    fault: {preset: content_filter}
  - name: broken-task
    match: {last_user: broken}
    task: {fail_at: IN_PROGRESS, reason: "The image generation failed."}
"""


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


@pytest.fixture(params=["/api/v1", "/alibailian/api/v1"])
def base(server: Any, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    url = server.url + request.param
    monkeypatch.setattr(dashscope, "base_http_api_url", url)
    return url


def opened(url: str) -> Image.Image:
    image = Image.open(io.BytesIO(httpx.get(url).content))
    image.load()
    return image


def ask(text: str, **parameters: Any) -> Any:
    messages = [{"role": "user", "content": [{"text": text}]}]
    return MultiModalConversation.call(
        api_key="sk-test", model="qwen-image-plus", messages=messages, **parameters
    )


def test_qwen_image_synchronously(base: str) -> None:
    response = ask("a red fox in the snow", size="1664*928", watermark=False)
    assert response.status_code == HTTPStatus.OK, response
    url = response.output.choices[0].message.content[0]["image"]
    assert "Expires=" in url and "Signature=" in url
    assert opened(url).size == (1664, 928)
    assert response.usage.width == 1664 and response.usage.height == 928
    assert response.usage.image_count == 1


def test_errors_in_dashscopes_words(base: str) -> None:
    bad = ask("a fox", size="1000*1000")
    assert bad.status_code == 400 and bad.code == "InvalidParameter"
    refused = ask("something forbidden")
    assert refused.status_code == 400 and refused.code == "DataInspectionFailed"
    unknown = MultiModalConversation.call(
        api_key="sk-test",
        model="qwen-nope",
        messages=[{"role": "user", "content": [{"text": "x"}]}],
    )
    assert unknown.status_code == 400 and unknown.message == "Model not exist."


def test_text_to_image_task_fetched_until_it_succeeds(base: str) -> None:
    submitted = ImageSynthesis.async_call(
        api_key="sk-test", model="wanx2.1-t2i-turbo", prompt="a lighthouse", n=2, size="1024*768"
    )
    assert submitted.status_code == HTTPStatus.OK, submitted
    assert submitted.output.task_status == "PENDING"
    statuses = []
    for _ in range(5):
        fetched = ImageSynthesis.fetch(submitted, api_key="sk-test")
        statuses.append(fetched.output.task_status)
        if fetched.output.task_status == "SUCCEEDED":
            break
    assert statuses == ["RUNNING", "SUCCEEDED"]
    results = fetched.output.results
    assert len(results) == 2 and fetched.usage.image_count == 2
    assert {opened(result.url).size for result in results} == {(1024, 768)}
    assert results[0].orig_prompt == "a lighthouse"


def test_a_scripted_task_failure(base: str) -> None:
    submitted = ImageSynthesis.async_call(api_key="sk-test", model="qwen-image", prompt="broken")
    fetched = ImageSynthesis.fetch(submitted, api_key="sk-test")
    while fetched.output.task_status in ("PENDING", "RUNNING"):
        fetched = ImageSynthesis.fetch(submitted, api_key="sk-test")
    assert fetched.output.task_status == "FAILED"
    assert fetched.output["message"] == "The image generation failed."


def test_an_unknown_task_and_a_synchronous_call_refused(server: Any, base: str) -> None:
    unknown = ImageSynthesis.fetch("0000-unknown", api_key="sk-test")
    assert unknown.output.task_status == "UNKNOWN"
    refused = httpx.post(
        base + "/services/aigc/text2image/image-synthesis",
        json={"model": "qwen-image", "input": {"prompt": "x"}},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "AccessDenied"


def test_links_expire_after_a_day_of_scenario_time(server: Any, base: str) -> None:
    url = ask("a kite").output.choices[0].message.content[0]["image"]
    assert httpx.get(url).status_code == 200
    httpx.post(server.url + "/_mock/tasks/clock?advance=86400")
    expired = httpx.get(url)
    assert expired.status_code == 403 and b"Request has expired." in expired.content
