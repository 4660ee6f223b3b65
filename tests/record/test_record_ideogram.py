"""Ideogram's routes recorded through raw HTTP (the gateway passes Ideogram's shape through, as
the Ideogram tests call it) from an upstream that is a second mockserver: each picture is
fetched from the URL the upstream gave and written beside the recording; replayed with the
upstream gone, the same bytes, prompt and resolution come back."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from PIL import Image

from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.record.recording import assert_valid_and_keyless, record_through_proxy

UPSTREAM = """
version: 1
seed: 11
rules:
  - name: magic
    match: {model: "ideogram-*", last_user: poster}
    reply: {content: "A bold retro poster, magic-prompted."}
  - name: described
    match: {model: ideogram-legacy-describe}
    reply: {content: "A blue square on white."}
  - name: refused
    match: {model: ideogram-v3-generate, last_user: forbidden}
    fault: {status: 422, message: "Prompt failed the safety check"}
"""
KEY = "ideogram-live-SECRET-key-0123456789"
HEADERS = {"Api-Key": KEY, "Authorization": f"Bearer {KEY}"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def session(base: str) -> dict[str, Any]:
    """Each call's answer: for pictures, (sha of each picture, prompt, resolution)."""
    seen: dict[str, Any] = {}

    def pictures(response: httpx.Response) -> list[tuple[str, str, str]]:
        assert response.status_code == 200, response.text
        return [
            (sha(httpx.get(item["url"]).content), item["prompt"], item["resolution"])
            for item in response.json()["data"]
        ]

    v3 = base + "/ideogram/v1/ideogram-v3/"
    seen["generate"] = pictures(
        httpx.post(
            v3 + "generate",
            headers=HEADERS,
            files={
                "prompt": (None, "a city poster"),
                "aspect_ratio": (None, "16x9"),
                "num_images": (None, "2"),
            },
        )
    )
    image = ("in.png", png((640, 480)), "image/png")
    seen["edit"] = pictures(
        httpx.post(
            v3 + "edit",
            headers=HEADERS,
            files={"image": image, "mask": image, "prompt": (None, "a lake at dawn")},
        )
    )
    seen["legacy"] = pictures(
        httpx.post(
            base + "/ideogram/generate",
            headers=HEADERS,
            json={"image_request": {"prompt": "a fox", "aspect_ratio": "ASPECT_1_1", "seed": 7}},
        )
    )
    seen["remix"] = pictures(
        httpx.post(
            base + "/ideogram/remix",
            headers=HEADERS,
            files={
                "image_request": (None, json.dumps({"prompt": "a fox in snow"})),
                "image_file": ("in.png", png((512, 512)), "image/png"),
            },
        )
    )
    described = httpx.post(
        base + "/ideogram/describe",
        headers=HEADERS,
        files={"image_file": ("in.png", png((512, 512)), "image/png")},
    )
    seen["describe"] = described.json()["descriptions"][0]["text"]
    refused = httpx.post(
        v3 + "generate", headers=HEADERS, files={"prompt": (None, "something forbidden")}
    )
    seen["refused"] = (refused.status_code, refused.json()["error"]["message"])
    return seen


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("ideogram")
    yield record_through_proxy(folder, UPSTREAM, "ideogram", session)


def test_pictures_are_fetched_and_written_as_files(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, seen = recorded
    rules = {
        rule["match"]["model"]: rule
        for rule in yaml.safe_load(path.read_text())["rules"]
        if "reply" in rule
    }
    generate = rules["ideogram-v3-generate"]
    assert generate["match"]["last_user"] == {"equals": "a city poster"}
    choices = generate["reply"]["choices"]
    files = [sha((path.parent / choice["file"]).read_bytes()) for choice in choices]
    assert files == [picture for picture, _, _ in seen["generate"]]
    assert choices[0]["content"] == "A bold retro poster, magic-prompted."
    assert rules["ideogram-legacy-remix"]["match"]["last_user"] == {"equals": "a fox in snow"}
    assert rules["ideogram-legacy-describe"]["reply"] == {"content": "A blue square on white."}
    assert rules["ideogram-v3-edit"]["reply"]["file"].endswith(".png")


def test_replayed_with_the_same_pictures(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, seen = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        again = session(replay.url)
    assert again == seen
    assert seen["refused"] == (422, "Prompt failed the safety check")
    assert seen["generate"][0][1] == "A bold retro poster, magic-prompted."


def test_file_validates_and_holds_no_key(recorded: tuple[Path, dict[str, Any]]) -> None:
    path = recorded[0]
    assert_valid_and_keyless(path, KEY)
