"""DashScope's Wan video synthesis under `/alibailian`, through the official `dashscope` SDK:
async_call → fetch until SUCCEEDED → wait → the MP4; DashScope's errors and UNKNOWN."""

from __future__ import annotations

import io
from http import HTTPStatus

import av
import dashscope
import httpx
import pytest
from dashscope import VideoSynthesis

from mockserver.testing.handle import MockServer


@pytest.fixture
def wan(mockserver: MockServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{mockserver.url}/alibailian/api/v1")
    return mockserver.api_key


def test_async_call_fetch_and_wait_give_a_playable_video(wan: str) -> None:
    submitted = VideoSynthesis.async_call(
        model="wan2.2-t2v-plus", prompt="a lantern on a lake", size="832*480", duration=5,
        api_key=wan,
    )  # fmt: skip
    assert submitted.status_code == HTTPStatus.OK, submitted
    assert submitted.output.task_status == "PENDING"
    statuses = []
    for _ in range(5):
        fetched = VideoSynthesis.fetch(submitted, api_key=wan)
        statuses.append(fetched.output.task_status)
        if statuses[-1] == "SUCCEEDED":
            break
    assert statuses == ["RUNNING", "SUCCEEDED"]
    done = VideoSynthesis.wait(submitted, api_key=wan)  # finished: no waiting
    assert done.output.task_status == "SUCCEEDED"
    assert done.output.submit_time.count(":") == 2 and "." in done.output.end_time
    assert done.usage.video_count == 1
    with av.open(io.BytesIO(httpx.get(done.output.video_url).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (832, 480)
        assert container.duration == 5 * av.time_base


def test_errors_and_unknown_tasks(wan: str) -> None:
    bad = VideoSynthesis.async_call(
        model="wan2.2-t2v-plus", prompt="x", size="800*600", api_key=wan
    )
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.code == "InvalidParameter" and "800*600" in bad.message
    unknown = VideoSynthesis.fetch("0385dc79-5ff8-4d82-bcb6-000000000000", api_key=wan)
    assert unknown.status_code == HTTPStatus.OK and unknown.output.task_status == "UNKNOWN"


def test_only_asynchronous_calls(mockserver: MockServer) -> None:
    answer = httpx.post(
        f"{mockserver.url}/alibailian/api/v1/services/aigc/video-generation/video-synthesis",
        json={"model": "wan2.2-t2v-plus", "input": {"prompt": "x"}},
        headers={"Authorization": f"Bearer {mockserver.api_key}"},
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "AccessDenied"
    assert set(answer.json()) == {"code", "message", "request_id"}


def test_a_scenario_fails_a_wan_task(mockserver: MockServer, wan: str) -> None:
    mockserver.add_rule(
        name="inspect", match={"last_user": "banned"},
        task={"fail_at": "IN_PROGRESS", "reason": "Output data may contain inappropriate content.",
              "code": "DataInspectionFailed"},
    )  # fmt: skip
    submitted = VideoSynthesis.async_call(
        model="wan2.2-t2v-plus", prompt="banned", size="832*480", api_key=wan
    )
    VideoSynthesis.fetch(submitted, api_key=wan)
    failed = VideoSynthesis.fetch(submitted, api_key=wan)
    assert failed.output.task_status == "FAILED"
    assert failed.output.code == "DataInspectionFailed"
