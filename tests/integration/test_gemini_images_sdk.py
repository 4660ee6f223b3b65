"""`google-genai` asking Gemini's image models for pictures: `inlineData` PNG parts of the
size `imageConfig` asks for, text kept or dropped as `responseModalities` says, streamed too."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from google import genai
from google.genai import types
from PIL import Image

from tests.conftest import StartServer


@pytest.fixture
def client(start_server: StartServer) -> Iterator[genai.Client]:
    server = start_server()
    made = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.url))
    yield made
    made.close()


def pictures(parts: list[Any]) -> list[Image.Image]:
    found = []
    for part in parts:
        if part.inline_data is not None:
            assert part.inline_data.mime_type == "image/png"
            image = Image.open(io.BytesIO(part.inline_data.data))
            image.load()
            found.append(image)
    return found


@pytest.mark.parametrize(
    ("aspect", "size", "expected"),
    [("16:9", None, (1344, 768)), ("1:1", None, (1024, 1024)), ("3:4", "2K", (1728, 2368))],
)
def test_image_parts_of_the_asked_size(
    client: genai.Client, aspect: str, size: str | None, expected: tuple[int, int]
) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio=aspect, image_size=size),
    )
    response = client.models.generate_content(
        model="gemini-3-pro-image-preview" if size else "gemini-2.5-flash-image",
        contents="a lighthouse on a cliff",
        config=config,
    )
    assert response.candidates and response.candidates[0].content
    parts = response.candidates[0].content.parts or []
    assert [image.size for image in pictures(parts)] == [expected]
    assert any(part.text for part in parts)  # TEXT was asked for too


def test_image_only_and_streamed(client: genai.Client) -> None:
    config = types.GenerateContentConfig(response_modalities=["IMAGE"])
    response = client.models.generate_content(
        model="gemini-2.5-flash-image", contents="a red kite", config=config
    )
    assert response.candidates and response.candidates[0].content
    parts = response.candidates[0].content.parts or []
    assert len(parts) == 1 and len(pictures(parts)) == 1
    streamed = [
        part
        for chunk in client.models.generate_content_stream(
            model="gemini-2.5-flash-image", contents="a red kite", config=config
        )
        for part in (chunk.candidates[0].content.parts or [])  # type: ignore[index, union-attr]
    ]
    assert len(streamed) == 1
    same = streamed[0].inline_data.data  # type: ignore[union-attr]
    assert same == parts[0].inline_data.data  # type: ignore[union-attr]


def test_text_models_answer_no_pictures(client: genai.Client) -> None:
    response = client.models.generate_content(model="gemini-2.5-flash", contents="hello")
    assert response.candidates and response.candidates[0].content
    assert pictures(response.candidates[0].content.parts or []) == []
