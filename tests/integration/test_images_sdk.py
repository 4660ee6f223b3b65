"""The official `openai` SDK's images calls against a real server: every picture opens in
Pillow with the asked size and format, URLs and base64 carry the same bytes, bad requests
get OpenAI's errors, scenario rules script revised prompts and faults."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from mockserver.tokens.tokenizer import get_tokenizer
from tests.conftest import StartServer

RULES = """
version: 1
seed: 11
rules:
  - name: fox-revised
    match: {model: dall-e-3, last_user: fox}
    reply: {content: "A scripted fox, {{ 'revised' }}."}
  - name: refused
    match: {last_user: forbidden}
    fault: {preset: content_filter}
  - name: busy
    match: {last_user: busy}
    fault: {status: 429}
"""


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png(size: tuple[int, int], mode: str = "RGBA", alpha: int = 255) -> bytes:
    out = io.BytesIO()
    colour: Any = (200, 30, 30, alpha) if mode == "RGBA" else (200, 30, 30)
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


@pytest.mark.parametrize(
    ("model", "size"),
    [("dall-e-2", "256x256"), ("dall-e-2", "512x512"), ("dall-e-3", "1024x1792")],
)
def test_url_answers_serve_pngs_of_the_asked_size(
    client: openai.OpenAI, model: str, size: str
) -> None:
    result = client.images.generate(model=model, prompt="a lighthouse", size=size)  # type: ignore[arg-type]
    assert result.data is not None and len(result.data) == 1
    url = result.data[0].url
    assert url is not None and url.startswith("http://127.0.0.1:")
    response = httpx.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = opened(response.content)
    assert image.format == "PNG" and f"{image.width}x{image.height}" == size
    assert (result.data[0].revised_prompt is not None) == (model == "dall-e-3")


def test_b64_json_carries_the_same_bytes_as_the_url(client: openai.OpenAI) -> None:
    by_url = client.images.generate(model="dall-e-2", prompt="twin", n=3, size="256x256")
    by_b64 = client.images.generate(
        model="dall-e-2", prompt="twin", n=3, size="256x256", response_format="b64_json"
    )
    assert by_url.data is not None and by_b64.data is not None
    fetched = [httpx.get(item.url or "").content for item in by_url.data]
    decoded = [base64.b64decode(item.b64_json or "") for item in by_b64.data]
    assert fetched == decoded
    assert len(set(decoded)) == 3  # n pictures, each its own


@pytest.mark.parametrize(
    ("fmt", "size"), [("png", "1024x1024"), ("jpeg", "1536x1024"), ("webp", "1024x1536")]
)
def test_gpt_image_formats_sizes_and_usage(client: openai.OpenAI, fmt: str, size: str) -> None:
    result = client.images.generate(
        model="gpt-image-1",
        prompt="a watercolour harbour",
        size=size,  # type: ignore[arg-type]
        output_format=fmt,  # type: ignore[arg-type]
        quality="low",
        output_compression=80,
    )
    assert result.data is not None and result.usage is not None
    image = opened(base64.b64decode(result.data[0].b64_json or ""))
    assert image.format == fmt.upper() and f"{image.width}x{image.height}" == size
    assert (result.size, result.output_format, result.quality) == (size, fmt, "low")
    prompt_tokens = get_tokenizer("o200k_base").count("a watercolour harbour")
    assert result.usage.input_tokens_details.text_tokens == prompt_tokens
    assert (
        result.usage.output_tokens == {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400}[size]
    )


def test_gpt_image_transparent_background(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="gpt-image-1", prompt="a sticker", background="transparent", size="1024x1024"
    )
    assert result.data is not None and result.background == "transparent"
    image = opened(base64.b64decode(result.data[0].b64_json or ""))
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_gpt_image_stream_partial_images(client: openai.OpenAI) -> None:
    stream = client.images.generate(
        model="gpt-image-1", prompt="a kite", stream=True, partial_images=2, size="1024x1024"
    )
    events = list(stream)
    assert [event.type for event in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    for event in events:
        assert opened(base64.b64decode(event.b64_json)).size == (1024, 1024)


def test_gpt_image_edit_stream(client: openai.OpenAI) -> None:
    stream = client.images.edit(
        model="gpt-image-1",
        image=("a.png", png((1024, 1024)), "image/png"),
        prompt="a hat",
        stream=True,
        partial_images=1,
    )
    events = list(stream)
    assert [event.type for event in events] == ["image_edit.partial_image", "image_edit.completed"]
    assert opened(base64.b64decode(events[-1].b64_json)).size == (1024, 1024)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"model": "dall-e-3", "size": "256x256"}, "The size is not supported by this model."),
        ({"model": "dall-e-3", "n": 2}, "You must provide n=1 for this model."),
        ({"model": "dall-e-2", "size": "999x999"}, "'999x999' is not one of"),
        ({"model": "gpt-image-1", "size": "512x512"}, "Invalid value: '512x512'."),
        ({"model": "dall-e-2", "n": 11}, "Expected a value <= 10, but got 11"),
        ({"model": "dall-e-2", "prompt": ""}, "Missing required parameter: 'prompt'."),
        ({"model": "dall-e-2", "prompt": "x" * 1001}, "maximum length 1000"),
        ({"model": "dall-e-3", "style": "pastel"}, "Invalid value: 'pastel'."),
    ],
)
def test_bad_requests_get_openai_errors(
    client: openai.OpenAI, request_: dict[str, Any], message: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(**{"prompt": "a cat", **request_})
    assert message in caught.value.message
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]


def test_edit_with_mask_and_several_images(client: openai.OpenAI) -> None:
    image, mask = png((512, 512)), png((512, 512), alpha=0)
    result = client.images.edit(
        model="dall-e-2",
        image=("base.png", image, "image/png"),
        mask=("mask.png", mask, "image/png"),
        prompt="add a hat",
        size="256x256",
    )
    assert result.data is not None
    assert opened(httpx.get(result.data[0].url or "").content).size == (256, 256)
    several = client.images.edit(
        model="gpt-image-1",
        image=[("a.png", png((640, 400)), "image/png"), ("b.png", png((300, 300)), "image/png")],
        prompt="combine them",
        output_format="jpeg",
    )
    assert several.data is not None and several.usage is not None
    picture = opened(base64.b64decode(several.data[0].b64_json or ""))
    assert picture.format == "JPEG" and picture.size == (1536, 1024)  # the first image's shape
    assert several.usage.input_tokens_details.image_tokens > 0


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (png((128, 128), alpha=0), "mask and image must have the same dimensions"),
        (png((512, 512), mode="RGB"), "got RGB"),
    ],
)
def test_bad_masks_are_refused(client: openai.OpenAI, mask: bytes, message: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(
            model="dall-e-2",
            image=("base.png", png((512, 512)), "image/png"),
            mask=("mask.png", mask, "image/png"),
            prompt="add a hat",
        )
    assert message in caught.value.message
    assert caught.value.body["param"] == "mask"  # type: ignore[index]


def test_edit_of_a_non_image_and_without_image(server: Any, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="could not read"):
        client.images.edit(model="gpt-image-1", image=("x.png", b"nope", "image/png"), prompt="x")
    response = httpx.post(server.url + "/v1/images/edits", data={"prompt": "x"}, files={"y": b"1"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Missing required parameter: 'image'."


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_variations_are_not_implemented_by_the_gateway(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.images.create_variation(image=("a.png", png((256, 256)), "image/png"))
    assert caught.value.status_code == 501
    assert caught.value.body == {  # type: ignore[comparison-overlap]
        "message": "API not implemented",
        "type": "new_api_error",
        "param": "",
        "code": "api_not_implemented",
    }


def test_rules_script_revised_prompts_and_faults(server: Any, client: openai.OpenAI) -> None:
    result = client.images.generate(model="dall-e-3", prompt="a sleepy fox")
    assert result.data is not None
    assert result.data[0].revised_prompt == "A scripted fox, revised."
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.generate(model="dall-e-3", prompt="something forbidden")
    assert refused.value.code == "content_policy_violation"
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model="gpt-image-1", prompt="busy busy")
    journal = server.app.state.mock.journal.entries()
    assert [entry.rule for entry in journal[-3:]] == ["fox-revised", "refused", "busy"]
    assert [entry.status for entry in journal[-3:]] == [200, 400, 429]
    assert journal[-1].fault is not None and journal[-1].fault["status"] == 429


def test_other_image_models_answer_as_the_gateway_converts_them(server: Any) -> None:
    response = httpx.post(
        server.url + "/v1/images/generations",
        json={"model": "flux-1.1-pro", "prompt": "a barn", "size": "640x480"},
    )
    item = response.json()["data"][0]
    assert set(item) == {"url", "b64_json", "revised_prompt"} and item["b64_json"] == ""
    assert opened(httpx.get(item["url"]).content).size == (640, 480)
    seedream = httpx.post(
        server.url + "/v1/images/generations",
        json={
            "model": "doubao-seedream-4-0-250828",
            "prompt": "a barn",
            "size": "2K",
            "response_format": "b64_json",
            "watermark": False,
        },
    ).json()["data"][0]
    assert seedream["url"] == "" and opened(base64.b64decode(seedream["b64_json"])).size == (
        2048,
        2048,
    )


async def test_async_client(server: Any) -> None:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    result = await client.images.generate(
        model="gpt-image-1", prompt="async harbour", output_format="webp", size="1024x1024"
    )
    assert result.data is not None
    assert opened(base64.b64decode(result.data[0].b64_json or "")).format == "WEBP"
    edited = await client.images.edit(
        model="dall-e-2", image=("a.png", png((256, 256)), "image/png"), prompt="x", size="256x256"
    )
    assert edited.data is not None and edited.data[0].url is not None
    await client.close()


def test_rate_limits_and_fault_header_apply_to_images(start_server: StartServer) -> None:
    server = start_server(
        """
        version: 1
        rules: []
        rate_limits:
          - {model: "dall-e-*", rpm: 2}
        """
    )
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    for _ in range(2):
        client.images.generate(model="dall-e-2", prompt="limited", size="256x256")
    with pytest.raises(openai.RateLimitError):
        client.images.generate(model="dall-e-2", prompt="limited", size="256x256")
    with pytest.raises(openai.InternalServerError):
        client.images.generate(
            model="gpt-image-1", prompt="x", extra_headers={"x-mock-fault": "status=500"}
        )
