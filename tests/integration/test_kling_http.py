"""Kling's video API under `/kling`, through raw HTTP as a client written from Kling's docs:
text2video → query until `succeed` → the MP4; image2video; its errors."""

from __future__ import annotations

import io

import av
import httpx
import pytest

from mockserver.testing.handle import MockServer


@pytest.fixture
def kling(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def test_text2video_until_it_succeeds(kling: httpx.Client) -> None:
    body = {"model_name": "kling-v1", "prompt": "a paper boat", "duration": "10",
            "aspect_ratio": "9:16", "external_task_id": "mine-1"}  # fmt: skip
    submitted = kling.post("/kling/v1/videos/text2video", json=body).json()
    assert (submitted["code"], submitted["message"]) == (0, "SUCCEED")
    data = submitted["data"]
    assert data["task_status"] == "submitted" and data["task_info"] == {
        "external_task_id": "mine-1"
    }
    assert len(data["task_id"]) == 18 and data["created_at"] % 1000 == 0

    path = f"/kling/v1/videos/text2video/{data['task_id']}"
    statuses = [kling.get(path).json()["data"]["task_status"] for _ in range(2)]
    assert statuses == ["processing", "succeed"]
    done = kling.get(path).json()["data"]
    [video] = done["task_result"]["videos"]
    assert video["duration"] == "10" and done["final_unit_deduction"] == "2"
    with av.open(io.BytesIO(httpx.get(video["url"]).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (720, 1280)
        assert container.duration == 10 * av.time_base


def test_image2video_and_errors(kling: httpx.Client) -> None:
    missing = kling.post("/kling/v1/videos/image2video", json={"prompt": "move"})
    assert missing.status_code == 400
    assert missing.json()["code"] == 1201 and missing.json()["message"] == "image is required"
    ok = kling.post("/kling/v1/videos/image2video", json={"image": "https://x/y.png"}).json()
    task_id = ok["data"]["task_id"]
    wrong_kind = kling.get(f"/kling/v1/videos/text2video/{task_id}")
    assert wrong_kind.status_code == 404 and wrong_kind.json()["code"] == 1203
    bad = kling.post("/kling/v1/videos/text2video", json={"prompt": "x", "duration": "7"})
    assert bad.json()["message"] == "duration must be 5 or 10; got '7'"


def test_a_scenario_fails_a_kling_task(mockserver: MockServer, kling: httpx.Client) -> None:
    mockserver.add_rule(
        name="risk", match={"last_user": "risky"}, task={"fail_at": "SUBMITTED", "reason": "risk"}
    )
    task_id = kling.post("/kling/v1/videos/text2video", json={"prompt": "risky"}).json()
    data = kling.get(f"/kling/v1/videos/text2video/{task_id['data']['task_id']}").json()["data"]
    assert (data["task_status"], data["task_status_msg"]) == ("failed", "risk")
    assert "task_result" not in data
