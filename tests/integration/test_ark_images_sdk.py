"""Doubao Seedream in Ark's own shape through the official Ark runtime SDK
(`volcenginesdkarkruntime.Ark`), bare (`/api/v3`) and under the gateway's `/volc` prefix:
pictures of the asked size, Ark's usage and errors, links that expire after 24 hours."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from PIL import Image
from volcenginesdkarkruntime import Ark, AsyncArk
from volcenginesdkarkruntime._exceptions import ArkAPIError

from tests.conftest import StartServer

RULES = """
version: 1
seed: 3
rules:
  - name: refused
    match: {last_user: forbidden}
    fault: {preset: content_filter}
  - name: busy
    match: {last_user: busy}
    fault: {status: 429}
"""
MODEL = "doubao-seedream-4-0-250828"


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


@pytest.fixture(params=["/api/v3", "/volc/api/v3"])
def client(server: Any, request: pytest.FixtureRequest) -> Ark:
    return Ark(base_url=server.url + request.param, api_key="sk-test", max_retries=0)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_generate_answers_urls_of_the_asked_size(client: Ark) -> None:
    result = client.images.generate(model=MODEL, prompt="a red fox", size="2K", watermark=False)
    assert result.model == MODEL and len(result.data) == 1
    item = result.data[0]
    assert item.size == "2048x2048"
    assert "X-Tos-Expires=86400" in item.url
    picture = opened(httpx.get(item.url).content)
    assert (picture.format, picture.size) == ("JPEG", (2048, 2048))
    assert result.usage.generated_images == 1
    assert result.usage.output_tokens == 2048 * 2048 // 256 == result.usage.total_tokens


def test_b64_json_png_of_a_custom_size(client: Ark) -> None:
    result = client.images.generate(
        model=MODEL,
        prompt="a lighthouse",
        size="1280x720",
        response_format="b64_json",
        output_format="png",
    )
    picture = opened(base64.b64decode(result.data[0].b64_json))
    assert (picture.format, picture.size) == ("PNG", (1280, 720))


def test_sequential_generation_makes_the_pictures_the_prompt_asks_for(client: Ark) -> None:
    from volcenginesdkarkruntime.types.images.images import SequentialImageGenerationOptions

    result = client.images.generate(
        model=MODEL,
        prompt="four images of a fox through the seasons",
        size="1K",
        sequential_image_generation="auto",
        sequential_image_generation_options=SequentialImageGenerationOptions(max_images=3),
    )
    assert len(result.data) == 3 and result.usage.generated_images == 3
    urls = {item.url for item in result.data}
    assert len(urls) == 3


def test_seedream_3_sizes_and_errors(client: Ark) -> None:
    result = client.images.generate(model="doubao-seedream-3-0-t2i-250415", prompt="a kite")
    assert result.data[0].size == "1024x1024"
    with pytest.raises(ArkAPIError) as caught:
        client.images.generate(model=MODEL, prompt="a kite", size="100x100")
    error: Any = caught.value
    assert error.status_code == 400 and error.code == "InvalidParameter"
    assert error.param == "size" and "Request id:" in error.message
    with pytest.raises(ArkAPIError) as missing:
        client.images.generate(model="doubao-nope", prompt="a kite")
    assert missing.value.status_code == 404  # type: ignore[attr-defined]
    assert missing.value.code == "InvalidEndpointOrModel.NotFound"  # type: ignore[attr-defined]


def test_scripted_faults_in_arks_words(client: Ark) -> None:
    with pytest.raises(ArkAPIError) as refused:
        client.images.generate(model=MODEL, prompt="something forbidden")
    assert refused.value.code == "InputTextSensitiveContentDetected"  # type: ignore[attr-defined]
    with pytest.raises(ArkAPIError) as busy:
        client.images.generate(model=MODEL, prompt="busy now")
    assert busy.value.status_code == 429  # type: ignore[attr-defined]


def test_stream_events(client: Ark) -> None:
    stream = client.images.generate(model=MODEL, prompt="a boat", size="1K", stream=True)
    events = list(stream)
    assert [event.type for event in events] == [
        "image_generation.partial_succeeded",
        "image_generation.completed",
    ]
    assert opened(httpx.get(events[0].url).content).size == (1024, 1024)  # type: ignore[union-attr]
    # The SDK's union can't tell the two events apart (`type` is a plain str): the completed
    # event is read as a generating one, its usage left a dict.
    usage: Any = events[1].usage  # type: ignore[union-attr]
    assert (usage["generated_images"] if isinstance(usage, dict) else usage.generated_images) == 1


async def test_async_client(server: Any) -> None:
    client = AsyncArk(base_url=server.url + "/api/v3", api_key="sk-test", max_retries=0)
    result = await client.images.generate(model=MODEL, prompt="a harbour", size="1K")
    assert result.data[0].size == "1024x1024"


def test_links_expire_after_a_day_of_scenario_time(server: Any, client: Ark) -> None:
    url = client.images.generate(model=MODEL, prompt="a fox", size="1K").data[0].url
    assert httpx.get(url).status_code == 200
    httpx.post(server.url + "/_mock/tasks/clock?advance=86400")
    expired = httpx.get(url)
    assert expired.status_code == 403 and b"<Code>AccessDenied</Code>" in expired.content
    assert b"Request has expired" in expired.content


def test_same_request_same_bytes(client: Ark) -> None:
    first = client.images.generate(
        model=MODEL, prompt="a fox", size="1K", response_format="b64_json"
    )
    again = client.images.generate(
        model=MODEL, prompt="a fox", size="1K", response_format="b64_json"
    )
    assert first.data[0].b64_json == again.data[0].b64_json
