"""Pictures inside chat answers through the official `openai` SDK, as the gateway returns them:
Gemini image models' `inlineData` as markdown data URLs, gpt-4o-image-style models' markdown
links to a PNG this server serves. Sync and streamed, the same request the same picture."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from tests.conftest import SCENARIOS, StartServer

DATA_IMAGE = re.compile(r"!\[image\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)")
LINK_IMAGE = re.compile(r"!\[image\]\((http://[^)]+\.png)\)")
PROMPT = "Draw a cat on a sofa"


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(SCENARIOS / "chat_images.yaml")


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def inline_pictures(content: str) -> list[bytes]:
    return [base64.b64decode(found) for found in DATA_IMAGE.findall(content)]


def ask(client: openai.OpenAI, model: str, **extra: Any) -> str:
    result = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": PROMPT}], **extra
    )
    return result.choices[0].message.content or ""


def ask_streamed(client: openai.OpenAI, model: str, **extra: Any) -> str:
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": PROMPT}], stream=True, **extra
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


@pytest.mark.parametrize("model", ["gemini-2.5-flash-image", "gemini-3-pro-image-preview"])
def test_gemini_image_model_answers_with_a_markdown_data_url(
    client: openai.OpenAI, model: str
) -> None:
    content = ask(client, model)
    # new-api joins the text part and the image part with a newline.
    assert content.startswith("Here is your cat.\n![image](data:image/png;base64,")
    pictures = inline_pictures(content)
    assert len(pictures) == 1
    assert opened(pictures[0]).size == (1024, 1024)
    assert ask(client, model) == content


def test_image_config_sets_the_size_and_the_stream_carries_the_same_picture(
    client: openai.OpenAI,
) -> None:
    config = {"extra_body": {"google": {"image_config": {"aspect_ratio": "16:9"}}}}
    content = ask(client, "gemini-2.5-flash-image", extra_body=config)
    picture = inline_pictures(content)[0]
    assert opened(picture).size == (1344, 768)
    streamed = ask_streamed(client, "gemini-2.5-flash-image", extra_body=config)
    # Streamed, the image arrives in its own chunk: no newline before it.
    assert streamed.startswith("Here is your cat.![image](data:image/png;base64,")
    assert inline_pictures(streamed) == [picture]


def test_the_gemini_openai_route_and_the_native_route_draw_the_same_picture(
    server: Any, client: openai.OpenAI
) -> None:
    gemini_route = openai.OpenAI(
        base_url=server.url + "/v1beta/openai", api_key="sk-test", max_retries=0
    )
    via_gemini_route = inline_pictures(ask(gemini_route, "gemini-2.5-flash-image"))
    assert via_gemini_route == inline_pictures(ask(client, "gemini-2.5-flash-image"))
    native = httpx.post(
        server.url + "/v1beta/models/gemini-2.5-flash-image:generateContent",
        headers={"x-goog-api-key": "k"},
        json={"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
    ).json()
    parts = native["candidates"][0]["content"]["parts"]
    native_data = [base64.b64decode(p["inlineData"]["data"]) for p in parts if "inlineData" in p]
    assert native_data == via_gemini_route


def test_a_text_model_answers_without_pictures(client: openai.OpenAI) -> None:
    assert "![image]" not in ask(client, "gpt-4o-mini")


@pytest.mark.parametrize("model", ["gpt-4o-image", "gpt-4o-image-vip", "sora_image"])
def test_gpt_4o_image_models_link_to_a_served_png(
    server: Any, client: openai.OpenAI, model: str
) -> None:
    content = ask(client, model)
    assert content.startswith("Here is your cat.\n\n![image](")
    links = LINK_IMAGE.findall(content)
    assert len(links) == 1
    assert links[0].startswith(server.url + "/_mock/files/img-")
    response = httpx.get(links[0])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert opened(response.content).size == (1024, 1024)
    again = ask(client, model)
    assert again == content
    streamed = ask_streamed(client, model)
    assert streamed == content
    assert httpx.get(LINK_IMAGE.findall(streamed)[0]).content == response.content


def test_modalities_is_not_needed_and_changes_nothing(client: openai.OpenAI) -> None:
    # new-api asks Gemini for images by model name; it doesn't read `modalities`.
    plain = ask(client, "gemini-2.5-flash-image")
    assert ask(client, "gemini-2.5-flash-image", modalities=["image", "text"]) == plain


@pytest.mark.parametrize(
    ("google", "wrong", "right"),
    [
        ({"imageConfig": {"aspectRatio": "16:9"}}, "imageConfig", "image_config"),
        (
            {"image_config": {"aspectRatio": "16:9"}},
            "image_config.aspectRatio",
            "image_config.aspect_ratio",
        ),
        (
            {"image_config": {"imageSize": "2K"}},
            "image_config.imageSize",
            "image_config.image_size",
        ),
    ],
)
def test_gemini_camel_case_image_config_is_refused_as_new_api_does(
    client: openai.OpenAI, google: dict[str, Any], wrong: str, right: str
) -> None:
    with pytest.raises(openai.InternalServerError) as refused:
        ask(client, "gemini-2.5-flash-image", extra_body={"extra_body": {"google": google}})
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["message"] == (
        f"extra_body.google.{wrong} is not supported, use extra_body.google.{right} instead"
    )
    assert error["code"] == "convert_request_failed"
