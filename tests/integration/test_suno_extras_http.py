"""Suno's concat, WAV and upload routes through raw HTTP, as a client written from the
gateway's docs: a song's clip → its WAV and a concat task; an upload sent to the storage URL,
reported finished, polled to complete, made into a clip."""

from __future__ import annotations

import io
import wave
from typing import Any

import httpx
import pytest

from mockserver.testing.handle import MockServer


@pytest.fixture
def suno(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def finished(suno: httpx.Client, task_id: str) -> dict[str, Any]:
    for _ in range(10):
        task: dict[str, Any] = suno.get(f"/suno/fetch/{task_id}").json()["data"]
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task
    raise AssertionError(f"{task_id} never finished")


def test_wav_and_concat_of_a_finished_clip(suno: httpx.Client) -> None:
    song = suno.post("/suno/submit/music", json={"gpt_description_prompt": "sea shanty"})
    clip = finished(suno, song.json()["data"])["data"][0]
    answer = suno.get(f"/suno/act/wav/{clip['id']}").json()
    assert (answer["code"], answer["message"]) == ("success", "")
    audio = httpx.get(answer["data"])
    assert audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as file:
        assert (file.getnchannels(), file.getsampwidth()) == (1, 2)
        assert file.getnframes() / file.getframerate() == clip["metadata"]["duration"]

    submitted = suno.post("/suno/submit/concat", json={"clip_id": clip["id"]}).json()
    assert submitted["code"] == "success" and submitted["data"].startswith("task_")
    whole = finished(suno, submitted["data"])
    assert (whole["status"], whole["action"]) == ("SUCCESS", "CONCAT")
    [song_clip] = whole["data"]
    assert song_clip["metadata"]["concat_history"] == [{"id": clip["id"]}]
    assert httpx.get(song_clip["audio_url"]).headers["content-type"] == "audio/mpeg"


def test_unknown_clips_are_the_gateways_errors(suno: httpx.Client) -> None:
    wav = suno.get("/suno/act/wav/not-a-clip")
    assert wav.status_code == 400 and wav.json()["code"] == "task_not_exist"
    concat = suno.post("/suno/submit/concat", json={})
    assert concat.json() == {"code": "invalid_request", "message": "clip_id is required",
                             "data": None}  # fmt: skip


def test_an_upload_from_request_to_clip(suno: httpx.Client) -> None:
    asked = suno.post("/suno/uploads/audio", json={"extension": "mp3"}).json()
    upload_id, fields = asked["id"], asked["fields"]
    assert fields["key"] == f"raw_uploads/{upload_id}.mp3" and not asked["is_file_uploaded"]
    path = f"/suno/uploads/audio/{upload_id}"
    assert suno.get(path).json()["status"] == "processing"  # waits for the file
    sent = httpx.post(asked["url"], data=fields, files={"file": ("a.mp3", b"ID3" + bytes(64))})
    assert sent.status_code == 204
    too_early = suno.post(f"{path}/initialize-clip", json={})
    assert too_early.status_code == 400
    finish = {"upload_type": "file_upload", "upload_filename": "a.mp3"}
    assert suno.post(f"{path}/upload-finish", json=finish).json() == {}
    statuses = [suno.get(path).json() for _ in range(2)]
    assert [s["status"] for s in statuses] == ["passed_artist_moderation", "complete"]
    done = statuses[-1]
    assert done["s3_id"].startswith("m_") and done["error_message"] is None
    assert httpx.get(done["image_url"]).headers["content-type"] == "image/jpeg"
    clip = suno.post(f"{path}/initialize-clip", json={}).json()
    assert done["s3_id"] == f"m_{clip['clip_id']}"
    assert suno.get("/suno/uploads/audio/unknown").json()["code"] == "task_not_exist"
    bad = suno.post("/suno/uploads/audio", json={"extension": "exe"})
    assert bad.status_code == 400 and "extension must be one of" in bad.json()["message"]
