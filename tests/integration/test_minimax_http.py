"""Hailuo video (MiniMax's API) under `/minimax`, through raw HTTP as a client written from
MiniMax's docs: create → query until Success → files/retrieve → the MP4; errors in
`base_resp`."""

from __future__ import annotations

import io

import av
import httpx
import pytest

from mockserver.testing.handle import MockServer


@pytest.fixture
def minimax(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=f"{mockserver.url}/minimax/v1",
        headers={"Authorization": f"Bearer {mockserver.api_key}"},
    )


def test_create_query_retrieve_and_play(minimax: httpx.Client) -> None:
    body = {"model": "MiniMax-Hailuo-02", "prompt": "a kite over dunes", "resolution": "512P"}
    created = minimax.post("/video_generation", json=body).json()
    assert created["base_resp"] == {"status_code": 0, "status_msg": "success"}
    task_id = created["task_id"]
    assert task_id.isdigit() and len(task_id) == 15
    seen = [minimax.get("/query/video_generation", params={"task_id": task_id}).json()
            for _ in range(3)]  # fmt: skip
    assert [q["status"] for q in seen] == ["Queueing", "Processing", "Success"]
    done = seen[-1]
    assert (done["video_width"], done["video_height"]) == (912, 512)
    file = minimax.get("/files/retrieve", params={"file_id": done["file_id"]}).json()["file"]
    assert file["purpose"] == "video_generation" and file["filename"] == "output.mp4"
    video = httpx.get(file["download_url"]).content
    assert len(video) == file["bytes"]
    with av.open(io.BytesIO(video)) as container:
        assert container.duration == 6 * av.time_base


def test_errors_are_in_base_resp(minimax: httpx.Client) -> None:
    bad = minimax.post("/video_generation", json={"model": "MiniMax-Hailuo-02", "prompt": "x",
                                                  "duration": 7})  # fmt: skip
    assert bad.status_code == 200
    assert bad.json()["base_resp"]["status_code"] == 2013
    assert "duration must be 6 or 10" in bad.json()["base_resp"]["status_msg"]
    unknown = minimax.get("/query/video_generation", params={"task_id": "1"}).json()
    assert unknown["base_resp"]["status_code"] == 2013


def test_a_scenario_fails_a_hailuo_task(mockserver: MockServer, minimax: httpx.Client) -> None:
    mockserver.add_rule(
        name="sensitive", match={"last_user": "gore"},
        task={"fail_at": "SUBMITTED", "reason": "output video sensitive"},
    )  # fmt: skip
    body = {"model": "T2V-01", "prompt": "gore"}
    task_id = minimax.post("/video_generation", json=body).json()["task_id"]
    failed = minimax.get("/query/video_generation", params={"task_id": task_id}).json()
    assert failed["status"] == "Fail" and failed["file_id"] == ""
    assert failed["base_resp"] == {"status_code": 1026, "status_msg": "output video sensitive"}
