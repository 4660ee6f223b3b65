"""The family descriptions read as each vendor answers: routes found, statuses in new-api's
words, progress, a failure's reason, the finished files' URLs; and the recorder fetching the
files of a task that finished in its submission's answer (Replicate's `Prefer: wait`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from mockserver.http.server_thread import ServerThread
from mockserver.record import tasks
from mockserver.record.cassette import Cassette
from mockserver.record.redact import Redactor
from mockserver.record.task_families import FAL, MINIMAX, RUNWAY
from mockserver.record.task_recorder import TaskRecorder


def test_every_submission_route_is_found_with_its_family() -> None:
    found = {
        path: submission.family if (submission := tasks.submission("POST", path)) else None
        for path in (
            "/api/v3/contents/generations/tasks",
            "/volc/v1/contents/generations/tasks",
            "/alibailian/api/v1/services/aigc/text2image/image-synthesis",
            "/replicate/v1/models/minimax/video-01/predictions",
            "/fal-ai/kling-video/v2/master/text-to-video",
            "/mj-fast/mj/submit/simple-change",
            "/v1/videos/video_123/remix",
            "/v1/chat/completions",
        )
    }
    assert list(found.values()) == [
        "doubao", "doubao", "dashscope", "replicate", "fal", "midjourney", "video", None,
    ]  # fmt: skip
    assert tasks.submission("GET", "/api/v3/contents/generations/tasks") is None


def test_polls_and_results_name_their_task_by_path_or_query() -> None:
    assert tasks.poll("GET", "/minimax/v1/query/video_generation", {"task_id": "106"}) == (
        "106", MINIMAX,
    )  # fmt: skip
    assert tasks.poll("GET", "/fal-ai/flux/requests/abc/status", {}) == ("abc", FAL)
    result = tasks.result("GET", "/minimax/v1/files/retrieve", {"file_id": "205"})
    assert result is not None and result[0] == "205" and result[1].by_ref
    content = "/v1/videos/video_1/content"
    assert tasks.result("GET", content, {})[0] == "video_1"  # type: ignore[index]
    assert tasks.result("GET", content, {"variant": "thumbnail"}) is None  # not the video


def test_readings_in_new_api_s_words() -> None:
    running = tasks.read_state(RUNWAY, {"status": "RUNNING", "progress": 0.37})
    assert running == tasks.State("IN_PROGRESS", 37)
    failed = {"status": "FAILED", "failure": "blocked", "failureCode": "SAFETY"}
    assert tasks.read_state(RUNWAY, failed) == tasks.State("FAILURE", 0, "blocked", "SAFETY")
    done = {"status": "SUCCEEDED", "output": ["http://x/a.mp4", "http://x/b.mp4"]}
    assert tasks.read_state(RUNWAY, done).urls == ("http://x/a.mp4", "http://x/b.mp4")  # type: ignore[union-attr]
    # MiniMax says "success" where a failure's reason goes; its file is named by file_id
    success = {"status": "Success", "file_id": "205", "base_resp": {"status_msg": "success"}}
    assert tasks.read_state(MINIMAX, success) == tasks.State("SUCCESS", ref="205")
    # fal: COMPLETED with an error is a failure
    assert tasks.read_state(FAL, {"status": "COMPLETED", "error": "nsfw"}) == tasks.State(
        "FAILURE", 0, "nsfw"
    )
    assert tasks.read_state(FAL, {"status": "SOMETHING_NEW"}) is None


@pytest.fixture
def file_host() -> Iterator[ServerThread]:
    async def video(request: object) -> Response:
        return Response(b"\x00\x00\x00\x18ftypmp42 recorded", media_type="video/mp4")

    with ServerThread(Starlette(routes=[Route("/out.mp4", video)])) as host:
        yield host


def test_a_task_finished_in_its_submission_s_answer_has_its_file_fetched(
    tmp_path: Path, file_host: ServerThread
) -> None:
    cassette = Cassette(tmp_path / "r.yaml", Redactor())
    recorder = TaskRecorder(cassette)
    path = "/replicate/v1/models/minimax/video-01/predictions"
    submission = tasks.submission("POST", path)
    assert submission is not None
    answer = {"id": "p1", "status": "succeeded", "output": f"{file_host.url}/out.mp4"}
    fields = {"input": {"prompt": "a heron"}}
    asyncio.run(recorder.submitted(path, submission, fields, 201, {}, orjson.dumps(answer)))
    rule = yaml.safe_load((tmp_path / "r.yaml").read_text())["rules"][0]
    assert rule["match"] == {"model": "minimax/video-01", "last_user": {"equals": "a heron"},
                             "turn": 0}  # fmt: skip
    assert rule["task"]["id"] == "p1" and rule["task"]["file"].endswith(".mp4")
    assert (tmp_path / rule["task"]["file"]).read_bytes().endswith(b"recorded")


def test_a_batch_poll_s_items_read_as_single_polls() -> None:
    found = tasks.batch("POST", "/suno/fetch")
    assert found is not None
    route, reading = found
    answer = {"code": "success", "data": [{"task_id": "t1", "status": "IN_PROGRESS",
                                           "progress": "50%"}, {"status": "SUCCESS"}]}  # fmt: skip
    items = tasks.batch_items(route, answer)
    assert [task_id for task_id, _ in items] == ["t1"]  # an item without its id is left out
    assert tasks.read_state(reading, items[0][1]) == tasks.State("IN_PROGRESS", 50)
    assert tasks.batch("POST", "/fast/mj/task/list-by-condition") is not None
    assert tasks.batch("GET", "/luma/tasks") is None
