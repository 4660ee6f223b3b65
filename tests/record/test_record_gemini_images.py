"""Gemini's image output recorded from an upstream that is a second mockserver: through
`google-genai` (`inlineData` image parts, streamed and not) and through the gateway's Chat
Completions with the `openai` SDK (the picture as a markdown data URL in the content). Each
picture is written beside the recording and named by its choice's `file:`; replayed with the
upstream gone, the same pictures, text and usage come back, byte for byte."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from google import genai
from google.genai import types

from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.record.recording import assert_valid_and_keyless, record_through_proxy

UPSTREAM = """
version: 1
seed: 9
rules:
  - name: kite
    match: {last_user: kite}
    reply: {content: "Here is a red kite over the dunes."}
"""
KEY = "AIza-live-SECRET-gemini-key-0123456789"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parts_seen(parts: list[Any]) -> list[tuple[str, str]]:
    """Each part as (kind, text or the sha of its picture)."""
    seen = []
    for part in parts:
        if part.inline_data is not None:
            seen.append((part.inline_data.mime_type or "", sha(part.inline_data.data or b"")))
        elif part.text is not None:
            seen.append(("text", part.text))
    return seen


def session(base: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=base))
    both = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="16:9"),
    )
    drawn = client.models.generate_content(
        model="gemini-2.5-flash-image", contents="draw a kite", config=both
    )
    assert drawn.candidates and drawn.candidates[0].content
    seen["both"] = parts_seen(drawn.candidates[0].content.parts or [])
    seen["both_usage"] = drawn.usage_metadata.model_dump() if drawn.usage_metadata else None
    only = types.GenerateContentConfig(response_modalities=["IMAGE"])
    streamed = [
        part
        for chunk in client.models.generate_content_stream(
            model="gemini-2.5-flash-image", contents="a lighthouse at night", config=only
        )
        for part in (chunk.candidates[0].content.parts or [])  # type: ignore[index, union-attr]
    ]
    seen["streamed"] = parts_seen(streamed)
    client.close()
    chat = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
    answered = chat.chat.completions.create(
        model="gemini-2.5-flash-image",
        messages=[{"role": "user", "content": "a kite in a storm"}],
        extra_body={"google": {"image_config": {"aspect_ratio": "1:1"}}},
    )
    seen["chat"] = answered.choices[0].message.content
    seen["chat_usage"] = answered.usage.model_dump() if answered.usage else None
    pieces = chat.chat.completions.create(
        model="gemini-2.5-flash-image",
        messages=[{"role": "user", "content": "a harbour at dawn"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = [], None
    for chunk in pieces:
        text += [choice.delta.content or "" for choice in chunk.choices]
        usage = chunk.usage.model_dump() if chunk.usage else usage
    seen["chat_stream"], seen["chat_stream_usage"] = "".join(text), usage
    chat.close()
    return seen


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("gemini-images")
    yield record_through_proxy(folder, UPSTREAM, "gemini", session)


def test_pictures_are_kept_as_files(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, seen = recorded
    text = path.read_text(encoding="utf-8")
    assert "base64" not in text  # the pictures are files, not YAML
    rules = {rule["match"]["last_user"]["equals"]: rule for rule in yaml.safe_load(text)["rules"]}
    kite = rules["draw a kite"]["reply"]
    assert kite["content"] == "Here is a red kite over the dunes."
    picture = (path.parent / kite["file"]).read_bytes()
    assert ("image/png", sha(picture)) == seen["both"][-1]
    assert kite["usage"]["prompt_tokens"] > 0
    lighthouse = rules["a lighthouse at night"]["reply"]
    assert sha((path.parent / lighthouse["file"]).read_bytes()) == seen["streamed"][0][1]
    storm = rules["a kite in a storm"]["reply"]
    assert storm["content"] == "Here is a red kite over the dunes."  # the picture taken out
    data_url = seen["chat"].split("(data:image/png;base64,", 1)[1].rstrip(")")
    assert (path.parent / storm["file"]).read_bytes() == base64.b64decode(data_url)


def test_replayed_byte_for_byte(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, seen = recorded
    assert [kind for kind, _ in seen["both"]] == ["text", "image/png"]
    assert [kind for kind, _ in seen["streamed"]] == ["image/png"]
    assert "![image](data:image/png;base64," in seen["chat_stream"]
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        again = session(replay.url)
    assert again == seen


def test_file_validates_and_holds_no_key(recorded: tuple[Path, dict[str, Any]]) -> None:
    path = recorded[0]
    assert_valid_and_keyless(path, KEY)


def test_replay_sends_the_kept_file(recorded: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The pictures come from the files (a drawn one would be the same here: the upstream
    draws from the prompt alone), so a file edited by hand is what the replay sends."""
    import io
    import shutil

    from PIL import Image

    path = recorded[0]
    copy = tmp_path / "recordings"
    shutil.copytree(path.parent, copy)
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    for rule in rules:
        kept = copy / rule["reply"]["file"]
        with Image.open(kept) as image:
            size = image.size
        out = io.BytesIO()
        Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
        kept.write_bytes(out.getvalue())
    red = {rule["match"]["last_user"]["equals"]: (copy / rule["reply"]["file"]) for rule in rules}
    with ServerThread(recording_app(copy / path.name, RecordMode.REPLAY, None)) as replay:
        again = session(replay.url)
    assert again["both"][-1] == ("image/png", sha(red["draw a kite"].read_bytes()))
    assert again["streamed"][0][1] == sha(red["a lighthouse at night"].read_bytes())
    data_url = again["chat"].split("(data:image/png;base64,", 1)[1].rstrip(")")
    assert base64.b64decode(data_url) == red["a kite in a storm"].read_bytes()
    assert again["chat_stream"].endswith(
        base64.b64encode(red["a harbour at dawn"].read_bytes()).decode() + ")"
    )
