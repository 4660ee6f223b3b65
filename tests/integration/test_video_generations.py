"""The gateway's unified video API (`/v1/video/generations`) over raw HTTP, and tasks that the
task clock drives (`advance: clock`, moved by `mockserver.advance_clock`)."""

from __future__ import annotations

import httpx
import pytest

from mockserver.testing.handle import MockServer


@pytest.fixture
def gateway(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def test_submit_then_fetch_task_dto(gateway: httpx.Client) -> None:
    submitted = gateway.post(
        "/v1/video/generations",
        json={"model": "veo-3.0-generate-001", "prompt": "a fox", "duration": 8, "size": "720P"},
    )
    assert submitted.status_code == 200
    video = submitted.json()
    assert video["object"] == "video" and video["status"] == "queued" and video["progress"] == 0
    assert video["id"] == video["task_id"] and video["id"].startswith("task_")

    first = gateway.get(f"/v1/video/generations/{video['id']}").json()
    assert first["code"] == "success" and first["message"] == ""
    assert (first["data"]["status"], first["data"]["progress"]) == ("IN_PROGRESS", "50%")
    assert "result_url" not in first["data"]
    done = gateway.get(f"/v1/video/generations/{video['id']}").json()["data"]
    assert (done["status"], done["progress"]) == ("SUCCESS", "100%")
    assert done["task_id"] == video["id"]
    assert done["submit_time"] < done["start_time"] < done["finish_time"]
    assert done["result_url"].endswith(f"/v1/videos/{video['id']}/content")
    mp4 = httpx.get(done["result_url"])
    assert mp4.status_code == 200 and mp4.headers["content-type"] == "video/mp4"
    # the same task read through the OpenAI-style route
    as_openai = gateway.get(f"/v1/videos/{video['id']}").json()
    assert as_openai["status"] == "completed" and as_openai["metadata"]["url"] == done["result_url"]


def test_errors(gateway: httpx.Client) -> None:
    missing = gateway.post("/v1/video/generations", json={"model": "veo-3.0", "prompt": " "})
    assert missing.status_code == 400
    assert missing.json() == {
        "code": "invalid_request",
        "message": "prompt is required",
        "data": None,
    }
    unknown = gateway.get("/v1/video/generations/task_unknown")
    assert unknown.status_code == 400 and unknown.json()["code"] == "task_not_exist"
    # a Midjourney id is not a video task
    mj_id = gateway.post("/mj/submit/imagine", json={"prompt": "x"}).json()["result"]
    assert gateway.get(f"/v1/video/generations/{mj_id}").json()["code"] == "task_not_exist"


def test_a_clock_driven_task_moves_only_when_the_clock_does(
    mockserver: MockServer, gateway: httpx.Client
) -> None:
    mockserver.add_rule(
        name="slow",
        match={"last_user": "slow"},
        task={
            "advance": "clock",
            "stages": ["QUEUED", {"status": "IN_PROGRESS", "seconds": 30}],
            "stage_seconds": 10,
        },
    )
    task_id = gateway.post(
        "/v1/video/generations", json={"model": "kling-v1", "prompt": "slow motion"}
    ).json()["id"]

    def status() -> str:
        data = gateway.get(f"/v1/video/generations/{task_id}").json()["data"]
        return str(data["status"])

    assert [status(), status()] == ["QUEUED", "QUEUED"]  # polls alone don't move it
    mockserver.advance_clock(10)
    assert status() == "IN_PROGRESS"
    mockserver.advance_clock(29)
    assert status() == "IN_PROGRESS"
    mockserver.advance_clock(1)
    assert status() == "SUCCESS"
    done = gateway.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert done["finish_time"] - done["submit_time"] == 40  # scenario time, not the wall clock


def test_the_admin_api_moves_the_task_clock(mockserver: MockServer) -> None:
    admin = httpx.Client(base_url=mockserver.url)
    assert admin.get("/_mock/tasks/clock").json() == {"now": 0}
    assert admin.post("/_mock/tasks/clock", params={"advance": "2.5"}).json() == {"now": 2.5}
    bad = admin.post("/_mock/tasks/clock", params={"advance": "-1"})
    assert bad.status_code == 400 and "expected a number of seconds" in bad.text


def test_the_docs_unified_create_and_query(gateway: httpx.Client) -> None:
    created = gateway.post(
        "/v1/video/create",
        json={"model": "veo3.1-fast", "prompt": "a heron", "aspect_ratio": "9:16"},
    ).json()
    assert created["status"] == "pending" and created["id"].startswith("veo3.1-fast:")
    assert created["status_update_time"] % 1000 == 0
    statuses = []
    for _ in range(2):
        answer = gateway.get("/v1/video/query", params={"id": created["id"]}).json()
        statuses.append(answer["status"])
    assert statuses == ["video_generating", "completed"]
    mp4 = httpx.get(answer["video_url"])
    assert mp4.status_code == 200 and mp4.content[4:8] == b"ftyp"
    sora = gateway.post("/v1/video/create", json={"model": "sora-2", "prompt": "x", "duration": 12})
    assert sora.status_code == 400 and "duration must be 10 or 15" in sora.json()["message"]
    missing = gateway.get("/v1/video/query", params={"id": "veo3:1-x"})
    assert missing.json()["code"] == "task_not_exist"
