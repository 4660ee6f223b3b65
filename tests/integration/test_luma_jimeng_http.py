"""Luma (`/luma`, the luma-web object of the gateway's docs) and Jimeng (`/jimeng`) through
raw HTTP, as clients written from those docs: generate → poll → the MP4; extend; several by
id; each family's errors and a scripted failure."""

from __future__ import annotations

import io
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from mockserver.testing.handle import MockServer


@pytest.fixture
def client(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def play(url: str) -> tuple[int, int, float]:
    with av.open(io.BytesIO(httpx.get(url).content)) as container:
        stream = container.streams.video[0]
        return stream.width, stream.height, container.duration / av.time_base


def luma_until_done(client: httpx.Client, generation_id: str) -> list[dict[str, Any]]:
    return [client.get(f"/luma/generations/{generation_id}").json() for _ in range(2)]


def test_luma_generate_extend_and_fetch_several(client: httpx.Client) -> None:
    body = {"user_prompt": "cat dance", "aspect_ratio": "9:16", "resolution": "540p"}
    created = client.post("/luma/generations", json=body).json()
    assert (created["state"], created["video"], created["prompt"]) == ("pending", None, "cat dance")
    assert created["created_at"].endswith("Z")
    seen = luma_until_done(client, created["id"])
    assert [g["state"] for g in seen] == ["processing", "completed"]
    video = seen[-1]["video"]
    assert play(video["url"]) == (540, 960, 5)
    thumbnail = Image.open(io.BytesIO(httpx.get(seen[-1]["thumbnail"]["url"]).content))
    assert thumbnail.size == (540, 960)

    extended = client.post(f"/luma/generations/{created['id']}/extend",
                           json={"user_prompt": "the cat bows"}).json()  # fmt: skip
    assert extended["id"] != created["id"] and extended["state"] == "pending"
    done = luma_until_done(client, extended["id"])[-1]
    assert play(done["video"]["url"]) == (540, 960, 10)
    both = client.post("/luma/tasks", json={"ids": [created["id"], extended["id"], "nope"]})
    assert [g["id"] for g in both.json()] == [created["id"], extended["id"]]


def test_luma_errors(client: httpx.Client) -> None:
    missing = client.post("/luma/generations", json={})
    assert missing.status_code == 400 and missing.json() == {"detail": "user_prompt is required"}
    unknown = client.get("/luma/generations/00000000-0000-4000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Generation not found"}
    pending = client.post("/luma/generations", json={"user_prompt": "x"}).json()
    early = client.post(f"/luma/generations/{pending['id']}/extend", json={"user_prompt": "y"})
    assert early.status_code == 400 and "not completed" in early.json()["detail"]


def test_jimeng_submit_fetch_and_play(client: httpx.Client) -> None:
    body = {"prompt": "paper cranes", "duration": 5, "aspect_ratio": "1:1"}
    submitted = client.post("/jimeng/submit/videos", json=body).json()
    assert (submitted["code"], submitted["message"]) == (0, "success")
    data = submitted["data"]
    assert data["task_id"].startswith("cgt-") and data["task_status"] == "SUBMITTED"
    seen = [client.get(f"/jimeng/fetch/{data['task_id']}").json()["data"] for _ in range(2)]
    assert [(t["task_status"], t["progress"]) for t in seen] == [
        ("IN_PROGRESS", "50%"), ("SUCCESS", "100%"),
    ]  # fmt: skip
    assert play(seen[-1]["video_url"]) == (960, 960, 5)


def test_jimeng_errors_and_a_scripted_failure(mockserver: MockServer, client: httpx.Client) -> None:
    bad = client.post("/jimeng/submit/videos", json={"prompt": "x", "duration": 7})
    assert bad.status_code == 400
    assert bad.json()["code"] == 400 and "duration must be 5 or 10" in bad.json()["message"]
    unknown = client.get("/jimeng/fetch/cgt-20250101000000-zzzzz")
    assert unknown.status_code == 404 and unknown.json()["data"] is None
    mockserver.add_rule(
        name="refused", match={"last_user": "refuse me"},
        task={"fail_at": "SUBMITTED", "reason": "prompt rejected"},
    )  # fmt: skip
    task_id = client.post("/jimeng/submit/videos", json={"prompt": "refuse me"}).json()["data"]
    failed = client.get(f"/jimeng/fetch/{task_id['task_id']}").json()["data"]
    assert (failed["task_status"], failed["fail_reason"], failed["video_url"]) == (
        "FAILURE", "prompt rejected", "",
    )  # fmt: skip
