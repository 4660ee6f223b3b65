"""Suno through raw HTTP, as a client written from the gateway's docs does it: submit music,
poll to SUCCESS, play the clips' audio; lyrics; errors in new-api's task shape."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from mockserver.testing.handle import MockServer


@pytest.fixture
def suno(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def poll(suno: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    seen = []
    for _ in range(10):
        answer = suno.get(f"/suno/fetch/{task_id}")
        assert answer.status_code == 200
        envelope = answer.json()
        assert (envelope["code"], envelope["message"]) == ("success", "")
        seen.append(envelope["data"])
        if seen[-1]["status"] in ("SUCCESS", "FAILURE"):
            return seen
    raise AssertionError(f"task {task_id} never finished: {seen[-1]}")


def test_music_in_inspiration_mode_gives_two_playable_clips(suno: httpx.Client) -> None:
    submitted = suno.post(
        "/suno/submit/music", json={"gpt_description_prompt": "a calm lofi song about rain"}
    ).json()
    assert submitted["code"] == "success" and submitted["data"].startswith("task_")
    seen = poll(suno, submitted["data"])
    assert [t["status"] for t in seen] == ["QUEUED", "IN_PROGRESS", "SUCCESS"]
    assert [t["data"][0]["status"] for t in seen] == ["queued", "streaming", "complete"]
    done = seen[-1]
    assert (done["action"], done["platform"], done["progress"]) == ("MUSIC", "suno", "100%")
    clips = done["data"]
    assert len(clips) == 2 and clips[0]["id"] != clips[1]["id"]
    for clip in clips:
        assert clip["model_name"] == "chirp-v3-0"
        assert clip["title"] == "A Calm Lofi Song"
        audio = httpx.get(clip["audio_url"])
        assert audio.headers["content-type"] == "audio/mpeg"
        with av.open(io.BytesIO(audio.content)) as container:
            samples = sum(frame.samples for frame in container.decode(audio=0))
            assert samples / container.streams.audio[0].rate == pytest.approx(
                clip["metadata"]["duration"], abs=0.05
            )
        cover = Image.open(io.BytesIO(httpx.get(clip["image_url"]).content))
        assert cover.format == "JPEG"


def test_custom_mode_and_batch_fetch(suno: httpx.Client) -> None:
    body = {"prompt": "[Verse]\nhello", "title": "Hi", "tags": "pop", "mv": "chirp-v4"}
    first = suno.post("/suno/submit/music", json=body).json()["data"]
    lyrics = suno.post("/suno/submit/lyrics", json={"prompt": "the sea at night"}).json()["data"]
    batch = suno.post("/suno/fetch", json={"ids": [first, lyrics, "task_missing"]}).json()
    assert [t["task_id"] for t in batch["data"]] == [first, lyrics]
    clip = batch["data"][0]["data"][0]
    assert (clip["title"], clip["metadata"]["tags"], clip["model_name"]) == (
        "Hi",
        "pop",
        "chirp-v4",
    )
    done = poll(suno, lyrics)[-1]
    assert done["action"] == "LYRICS"
    assert done["data"]["status"] == "complete" and done["data"]["text"].startswith("[Verse]")


def test_errors_in_the_gateways_task_shape(suno: httpx.Client) -> None:
    empty = suno.post("/suno/submit/lyrics", json={})
    assert empty.status_code == 400
    assert empty.json() == {"code": "invalid_request", "message": "prompt_empty", "data": None}
    other = suno.post("/suno/submit/remix", json={"prompt": "x"})
    assert other.json() == {"code": "invalid_request", "message": "invalid_action", "data": None}
    assert suno.get("/suno/fetch/task_missing").json()["code"] == "task_not_exist"


def test_a_scenario_fails_a_song(mockserver: MockServer, suno: httpx.Client) -> None:
    mockserver.add_rule(
        name="policy", match={"last_user": "copyrighted"}, task={"fail_at": "QUEUED", "reason": "x"}
    )
    task_id = suno.post("/suno/submit/music", json={"prompt": "copyrighted lyrics"}).json()["data"]
    done = poll(suno, task_id)[-1]
    assert (done["status"], done["fail_reason"]) == ("FAILURE", "x")
    assert done["data"][0]["status"] == "error" and done["data"][0]["audio_url"] == ""


def test_a_scenario_scripts_the_lyrics(mockserver: MockServer, suno: httpx.Client) -> None:
    """`task: {lyrics: ...}` (what a recording writes): served as written; a part left out is
    the mock's own, as without the script."""
    mockserver.add_rule(
        name="written", match={"last_user": "harbour"},
        task={"lyrics": {"id": "lyr-1", "title": "Harbour", "text": "[Verse]\nBoats sleep"}},
    )  # fmt: skip
    mockserver.add_rule(
        name="text only", match={"last_user": "tide"}, task={"lyrics": {"text": "Low tide"}}
    )
    task_id = suno.post("/suno/submit/lyrics", json={"prompt": "a harbour song"}).json()["data"]
    *before, done = poll(suno, task_id)
    assert (done["data"]["id"], done["data"]["title"], done["data"]["text"]) == (
        "lyr-1", "Harbour", "[Verse]\nBoats sleep",
    )  # fmt: skip
    assert all(seen["data"]["text"] == "" for seen in before)  # only once finished
    task_id = suno.post("/suno/submit/lyrics", json={"prompt": "the tide"}).json()["data"]
    lyrics = poll(suno, task_id)[-1]["data"]
    assert (lyrics["title"], lyrics["text"]) == ("The Tide", "Low tide")
    assert lyrics["id"] and lyrics["id"] != "lyr-1"
