"""Ideogram under `/ideogram` (raw HTTP: the gateway passes its shape through): 3.0's
multipart actions and the legacy ones; pictures open in Pillow at the answered resolution."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest
from PIL import Image

from mockserver.protocols.ideogram.images import size_for_aspect
from tests.conftest import StartServer

RULES = """
version: 1
rules:
  - name: magic
    match: {model: "ideogram-*", last_user: poster}
    reply: {content: "A bold retro poster, magic-prompted."}
"""


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


def fetched(url: str) -> Image.Image:
    image = Image.open(io.BytesIO(httpx.get(url).content))
    image.load()
    return image


def test_v3_generate(server: Any) -> None:
    response = httpx.post(
        server.url + "/ideogram/v1/ideogram-v3/generate",
        files={
            "prompt": (None, "a city poster"),
            "aspect_ratio": (None, "16x9"),
            "num_images": (None, "2"),
            "rendering_speed": (None, "TURBO"),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"].endswith("+00:00")
    assert len(body["data"]) == 2
    first = body["data"][0]
    assert set(first) == {"prompt", "resolution", "is_image_safe", "seed", "url", "style_type"}
    assert first["prompt"] == "A bold retro poster, magic-prompted."  # the rule's
    width, height = size_for_aspect("16x9")
    assert first["resolution"] == f"{width}x{height}"
    assert fetched(first["url"]).size == (width, height)


@pytest.mark.parametrize("action", ["edit", "remix", "reframe", "replace-background"])
def test_v3_image_actions(server: Any, action: str) -> None:
    fields: dict[str, Any] = {"image": ("in.png", png((640, 480)), "image/png")}
    if action != "reframe":
        fields["prompt"] = (None, "a lake")
    if action == "edit":
        fields["mask"] = ("mask.png", png((640, 480)), "image/png")
    if action == "reframe":
        fields["resolution"] = (None, "1024x768")
    response = httpx.post(server.url + f"/ideogram/v1/ideogram-v3/{action}", files=fields)
    assert response.status_code == 200, response.text
    item = response.json()["data"][0]
    expected = (1024, 768) if action == "reframe" else (640, 480)
    assert fetched(item["url"]).size == expected


def test_legacy_generate_remix_upscale_describe(server: Any) -> None:
    generated = httpx.post(
        server.url + "/ideogram/generate",
        json={"image_request": {"prompt": "a fox", "aspect_ratio": "ASPECT_1_1", "seed": 7}},
    ).json()
    assert generated["data"][0]["seed"] == 7
    assert fetched(generated["data"][0]["url"]).size == (1024, 1024)
    image = ("in.png", png((512, 512)), "image/png")
    request = json.dumps({"prompt": "a fox in snow"})
    remix = httpx.post(
        server.url + "/ideogram/remix",
        files={"image_request": (None, request), "image_file": image},
    )
    assert fetched(remix.json()["data"][0]["url"]).size == (512, 512)
    upscale = httpx.post(
        server.url + "/ideogram/upscale",
        files={"image_request": (None, "{}"), "image_file": image},
    )
    assert fetched(upscale.json()["data"][0]["url"]).size == (1024, 1024)
    described = httpx.post(server.url + "/ideogram/describe", files={"image_file": image})
    assert described.json()["descriptions"][0]["text"]


def test_ideogram_bad_requests(server: Any) -> None:
    no_prompt = httpx.post(
        server.url + "/ideogram/v1/ideogram-v3/generate", files={"aspect_ratio": (None, "1x1")}
    )
    assert no_prompt.status_code == 400
    assert no_prompt.json()["error"]["message"] == "prompt is required"
    bad_aspect = httpx.post(
        server.url + "/ideogram/v1/ideogram-v3/generate",
        files={"prompt": (None, "x"), "aspect_ratio": (None, "7x5")},
    )
    assert "Invalid aspect_ratio '7x5'" in bad_aspect.json()["error"]["message"]
    no_image = httpx.post(
        server.url + "/ideogram/v1/ideogram-v3/edit", files={"prompt": (None, "x")}
    )
    assert no_image.json()["error"]["message"] == "image is required"
    unknown = httpx.post(server.url + "/ideogram/v1/ideogram-v3/paint", files={"a": (None, "b")})
    assert unknown.status_code == 404
