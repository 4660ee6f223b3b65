"""A rule answers image and speech requests with a file from disk (`reply: {file: ...}`),
through the official `openai` SDK: the file as it is when it already fits the request,
converted to the asked size and format when it doesn't."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from mockserver.media.audio import SpeechRecipe, duration_of, encode, samples
from tests.conftest import StartServer

RULES = """
version: 1
rules:
  - name: fox-picture
    match: {last_user: fox}
    reply: {file: media/fox.png}
  - name: ideogram-fox
    match: {model: ideogram-v3-generate, last_user: fox}
    reply: {file: media/fox.png}
  - name: greeting
    match: {last_user: hello}
    reply: {file: media/hello.wav}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    media = tmp_path / "media"
    media.mkdir()
    picture = Image.new("RGB", (1024, 1024), (200, 80, 20))
    picture.paste((20, 40, 200), (100, 100, 400, 400))
    picture.save(media / "fox.png")
    speech = samples(SpeechRecipe(seed=1, text="hello there, how are you today?"))
    (media / "hello.wav").write_bytes(encode(speech, "wav"))
    (tmp_path / "media.yaml").write_text(RULES)
    return tmp_path


@pytest.fixture
def server(start_server: StartServer, folder: Path) -> Any:
    return start_server(folder / "media.yaml")


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_ideogram_answers_with_the_file_too(server: Any) -> None:
    response = httpx.post(
        server.url + "/ideogram/v1/ideogram-v3/generate",
        files={"prompt": (None, "a fox"), "aspect_ratio": (None, "16x9")},
    )
    assert response.status_code == 200, response.text
    item = response.json()["data"][0]
    image = Image.open(io.BytesIO(httpx.get(item["url"]).content))
    assert item["resolution"] == f"{image.width}x{image.height}" and image.width > image.height
    assert image.convert("RGB").getpixel((5, 5))[0] > 150  # type: ignore[index]  # the file's orange


def test_a_fitting_picture_is_sent_as_it_is(client: openai.OpenAI, folder: Path) -> None:
    result = client.images.generate(model="dall-e-3", prompt="a fox", size="1024x1024")
    assert result.data is not None
    served = httpx.get(result.data[0].url or "").content
    assert served == (folder / "media" / "fox.png").read_bytes()


def test_a_picture_is_converted_to_the_asked_size_and_format(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="gpt-image-1", prompt="a fox", size="1536x1024", output_format="jpeg"
    )
    assert result.data is not None
    image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json or "")))
    assert (image.format, image.size) == ("JPEG", (1536, 1024))
    red, _green, blue = image.convert("RGB").getpixel((1400, 900))  # type: ignore[misc]
    assert red > 150 and blue < 80  # the file's colours, not a generated picture's


def test_other_prompts_still_get_generated_pictures(client: openai.OpenAI, folder: Path) -> None:
    result = client.images.generate(model="dall-e-3", prompt="a whale", size="1024x1024")
    assert result.data is not None
    assert (
        httpx.get(result.data[0].url or "").content != (folder / "media" / "fox.png").read_bytes()
    )


def test_a_recording_in_the_asked_container_is_sent_as_it_is(
    client: openai.OpenAI, folder: Path
) -> None:
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="hello world", response_format="wav"
    )
    assert audio.content == (folder / "media" / "hello.wav").read_bytes()


@pytest.mark.parametrize("fmt", ["mp3", "flac", "aac", "opus", "pcm"])
def test_a_recording_is_converted_to_the_asked_format(
    client: openai.OpenAI, folder: Path, fmt: Any
) -> None:
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="hello world", response_format=fmt
    )
    expected = duration_of((folder / "media" / "hello.wav").read_bytes())
    seconds = len(audio.content) / 2 / 24_000 if fmt == "pcm" else duration_of(audio.content)
    assert seconds == pytest.approx(expected, rel=0.1)
