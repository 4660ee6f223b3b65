"""Doubao Seedance's task API (Volcengine Ark) under `/volc/v1` and `/api/v3`, through raw
HTTP as a client written from Ark's docs: create → get until `succeeded` → the MP4; listings
with filters; cancel; Ark's errors."""

from __future__ import annotations

import io

import av
import httpx
import pytest

from mockserver.testing.handle import MockServer

TASKS = "/volc/v1/contents/generations/tasks"
MODEL = "doubao-seedance-1-0-pro-250528"


@pytest.fixture
def ark(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def text(prompt: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": prompt}]


def test_create_and_poll_until_a_playable_video(ark: httpx.Client) -> None:
    body = {"model": MODEL, "content": text("a red fox in snow --rs 480p --dur 5"), "ratio": "9:16"}
    created = ark.post(TASKS, json=body).json()
    task_id = created["id"]
    assert task_id.startswith("cgt-") and len(task_id) == len("cgt-20250331175019-68d9t")
    seen = [ark.get(f"{TASKS}/{task_id}").json() for _ in range(2)]
    assert [task["status"] for task in seen] == ["running", "succeeded"]
    done = seen[-1]
    assert (done["model"], done["resolution"], done["ratio"], done["duration"]) == (
        MODEL, "480p", "9:16", 5,
    )  # fmt: skip
    assert done["usage"]["completion_tokens"] == 480 * 864 * 24 * 5 // 1024
    with av.open(io.BytesIO(httpx.get(done["content"]["video_url"]).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (480, 864)
        assert container.duration == 5 * av.time_base
    # Ark's own path answers the same task.
    assert ark.get(f"/api/v3/contents/generations/tasks/{task_id}").json()["id"] == task_id


def test_listing_filters_and_pages(ark: httpx.Client) -> None:
    first = ark.post(TASKS, json={"model": MODEL, "content": text("one --rs 480p")}).json()["id"]
    lite = "doubao-seedance-1-0-lite-t2v-250428"
    second = ark.post(TASKS, json={"model": lite, "content": text("two --rs 480p")}).json()["id"]
    ark.get(f"{TASKS}/{first}")
    ark.get(f"{TASKS}/{first}")  # succeeded
    everything = ark.get(TASKS).json()
    assert everything["total"] == 2 and [t["id"] for t in everything["items"]] == [second, first]
    done = ark.get(TASKS, params={"filter.status": "succeeded"}).json()
    assert [t["id"] for t in done["items"]] == [first]
    by_model = ark.get(TASKS, params={"filter.model": lite}).json()
    assert [t["id"] for t in by_model["items"]] == [second]
    by_ids = ark.get(TASKS, params=[("filter.task_ids", first), ("filter.task_ids", "cgt-x")])
    assert [t["id"] for t in by_ids.json()["items"]] == [first]
    page = ark.get(TASKS, params={"page_num": 2, "page_size": 1}).json()
    assert page["total"] == 2 and [t["id"] for t in page["items"]] == [first]


def test_cancel_a_queued_task_and_delete_a_finished_one(ark: httpx.Client) -> None:
    task_id = ark.post(TASKS, json={"model": MODEL, "content": text("x --rs 480p")}).json()["id"]
    assert ark.delete(f"{TASKS}/{task_id}").status_code == 200
    cancelled = ark.get(f"{TASKS}/{task_id}").json()
    assert cancelled["status"] == "cancelled" and "content" not in cancelled
    assert ark.delete(f"{TASKS}/{task_id}").status_code == 200  # finished: its record goes
    assert ark.get(f"{TASKS}/{task_id}").status_code == 404


def test_arks_errors(ark: httpx.Client) -> None:
    no_model = ark.post(TASKS, json={"content": text("x")})
    assert no_model.status_code == 400
    error = no_model.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (
        "MissingParameter", "model", "BadRequest",
    )  # fmt: skip
    bad_ratio = ark.post(TASKS, json={"model": MODEL, "content": text("x"), "ratio": "2:1"})
    assert bad_ratio.json()["error"]["code"] == "InvalidParameter"
    assert "ratio" in bad_ratio.json()["error"]["message"]
    unknown = ark.get(f"{TASKS}/cgt-20250101000000-abcde")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ResourceNotFound"


def test_a_scenario_fails_a_seedance_task(mockserver: MockServer, ark: httpx.Client) -> None:
    mockserver.add_rule(
        name="sensitive", match={"last_user": "forbidden"},
        task={"fail_at": "QUEUED", "reason": "sensitive content", "code": "OutputVideoSensitive"},
    )  # fmt: skip
    body = {"model": MODEL, "content": text("forbidden scene --rs 480p")}
    task_id = ark.post(TASKS, json=body).json()["id"]
    failed = ark.get(f"{TASKS}/{task_id}").json()
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "OutputVideoSensitive", "message": "sensitive content"}
