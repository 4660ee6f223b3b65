"""The vendors' own task APIs recorded with their polls, from an upstream that is a second
mockserver: Doubao Seedance through Volcengine's Ark SDK, Wan video and text-to-image through
`dashscope`, Runway through `runwayml`, Replicate through `replicate`; Hailuo, Luma, Jimeng and
fal over raw HTTP. Then replayed with the upstream gone: the same ids, the same statuses poll by
poll (a failure with its reason), and the upstream's own file bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dashscope
import httpx
import pytest
import replicate
import yaml
from dashscope import ImageSynthesis, VideoSynthesis
from runwayml import RunwayML
from volcenginesdkarkruntime import Ark

from mockserver.cli import main
from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.record.recording import each, record_through_proxy

UPSTREAM = """
version: 1
seed: 23
rules:
  - name: runway-progress
    match: {model: gen4_turbo}
    task:
      stages: [QUEUED, {status: IN_PROGRESS, progress: 30}, {status: IN_PROGRESS, progress: 70}]
  - name: jimeng-refuses
    match: {last_user: {contains: refuse}}
    task: {stages: [SUBMITTED, IN_PROGRESS], fail_at: IN_PROGRESS, reason: the prompt was refused}
"""
KEY = "sk-live-SECRET-vendor-key-0123456789"
POLLS = 10  # bounded: a task that never finishes fails the test instead of hanging it


def sha(url: str) -> str:
    return hashlib.sha256(httpx.get(url).raise_for_status().content).hexdigest()


def doubao(base: str) -> list[Any]:
    tasks = Ark(base_url=f"{base}/api/v3", api_key=KEY).content_generation.tasks
    created = tasks.create(
        model="doubao-seedance-1-0-lite-t2v-250428",
        content=[{"type": "text", "text": "a tram in the rain --rs 480p"}],
    )
    seen: list[Any] = [created.id]
    for _ in range(POLLS):
        task = tasks.get(task_id=created.id)
        seen.append(task.status)
        if task.status in ("succeeded", "failed"):
            break
    return [*seen, sha(task.content.video_url)]


def _dashscope(base: str, call: Callable[[], list[Any]]) -> list[Any]:
    before = dashscope.base_http_api_url
    dashscope.base_http_api_url = f"{base}/alibailian/api/v1"
    try:
        return call()
    finally:
        dashscope.base_http_api_url = before


def wan(base: str) -> list[Any]:
    def call() -> list[Any]:
        submitted = VideoSynthesis.async_call(
            model="wan2.2-t2v-plus", prompt="a lantern on a lake", size="832*480", api_key=KEY
        )
        seen: list[Any] = [submitted.output.task_id, submitted.output.task_status]
        for _ in range(POLLS):
            fetched = VideoSynthesis.fetch(submitted, api_key=KEY)
            seen.append(fetched.output.task_status)
            if fetched.output.task_status in ("SUCCEEDED", "FAILED"):
                break
        return [*seen, sha(fetched.output.video_url)]

    return _dashscope(base, call)


def text2image(base: str) -> list[Any]:
    def call() -> list[Any]:
        submitted = ImageSynthesis.async_call(
            model="wanx2.1-t2i-turbo", prompt="a lighthouse", n=2, size="512*512", api_key=KEY
        )
        seen: list[Any] = [submitted.output.task_id, submitted.output.task_status]
        for _ in range(POLLS):
            fetched = ImageSynthesis.fetch(submitted, api_key=KEY)
            seen.append(fetched.output.task_status)
            if fetched.output.task_status in ("SUCCEEDED", "FAILED"):
                break
        return [*seen, *(sha(result.url) for result in fetched.output.results)]

    return _dashscope(base, call)


def runway(base: str) -> list[Any]:
    client = RunwayML(api_key=KEY, base_url=f"{base}/runwayml", max_retries=0)
    created = client.image_to_video.create(
        model="gen4_turbo", prompt_image="https://example.com/frame.png", ratio="960:960"
    )
    seen: list[Any] = [created.id]
    for _ in range(POLLS):
        task = client.tasks.retrieve(created.id)
        seen.append((task.status, getattr(task, "progress", None)))
        if task.status in ("SUCCEEDED", "FAILED"):
            break
    client.close()
    return [*seen, sha(task.output[0])]  # type: ignore[union-attr]


def replicate_video(base: str) -> list[Any]:
    client = replicate.Client(api_token=KEY, base_url=f"{base}/replicate")
    prediction = client.models.predictions.create(
        model="minimax/video-01", input={"prompt": "a heron takes off"}
    )
    seen: list[Any] = [prediction.id, prediction.status]
    for _ in range(POLLS):
        prediction = client.predictions.get(prediction.id)
        seen.append(prediction.status)
        if prediction.status in ("succeeded", "failed"):
            break
    return [*seen, sha(str(prediction.output))]


def minimax(base: str) -> list[Any]:
    with httpx.Client(base_url=f"{base}/minimax/v1", headers=_bearer()) as client:
        body = {"model": "MiniMax-Hailuo-02", "prompt": "a kite over dunes", "resolution": "512P"}
        task_id = client.post("/video_generation", json=body).json()["task_id"]
        seen: list[Any] = [task_id]
        for _ in range(POLLS):
            task = client.get("/query/video_generation", params={"task_id": task_id}).json()
            seen.append(task["status"])
            if task["status"] in ("Success", "Fail"):
                break
        file = client.get("/files/retrieve", params={"file_id": task["file_id"]}).json()["file"]
    return [*seen, sha(file["download_url"])]


def luma(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers=_bearer()) as client:
        body = {"user_prompt": "cat dance", "aspect_ratio": "9:16", "resolution": "540p"}
        created = client.post("/luma/generations", json=body).json()
        seen: list[Any] = [created["id"], created["state"]]
        for _ in range(POLLS):
            generation = client.get(f"/luma/generations/{created['id']}").json()
            seen.append(generation["state"])
            if generation["state"] in ("completed", "failed"):
                break
    return [*seen, sha(generation["video"]["url"])]


def jimeng(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers=_bearer()) as client:
        body = {"prompt": "refuse these paper cranes", "duration": 5}
        task_id = client.post("/jimeng/submit/videos", json=body).json()["data"]["task_id"]
        seen: list[Any] = [task_id]
        for _ in range(POLLS):
            data = client.get(f"/jimeng/fetch/{task_id}").json()["data"]
            seen.append((data["task_status"], data["fail_reason"]))
            if data["task_status"] in ("SUCCESS", "FAILURE"):
                break
    return seen


def fal(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers={"authorization": f"Key {KEY}"}) as client:
        body = {"prompt": "a fern", "image_size": "square"}
        queued = client.post("/fal-ai/flux/schnell", json=body).json()
        here = f"/fal-ai/flux/requests/{queued['request_id']}"  # the proxy's, not the answer's
        seen: list[Any] = [queued["request_id"], queued["status"]]
        for _ in range(POLLS):
            status = client.get(f"{here}/status").json()
            seen.append(status["status"])
            if status["status"] == "COMPLETED":
                break
        images = client.get(here).json()["images"]
    return [*seen, *(sha(image["url"]) for image in images)]


def _bearer() -> dict[str, str]:
    return {"authorization": f"Bearer {KEY}"}


SESSIONS: dict[str, Callable[[str], list[Any]]] = {
    "doubao": doubao,
    "wan": wan,
    "text2image": text2image,
    "runway": runway,
    "replicate": replicate_video,
    "minimax": minimax,
    "luma": luma,
    "jimeng": jimeng,
    "fal": fal,
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("vendor-tasks")
    yield record_through_proxy(folder, UPSTREAM, "vendors", each(SESSIONS))


def test_recorded_progressions_are_the_upstream_s(recorded: tuple[Path, dict[str, Any]]) -> None:
    seen = recorded[1]
    assert seen["doubao"][1:-1] == ["running", "succeeded"]
    assert seen["wan"][1:-1] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert seen["text2image"][1:-2] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert seen["runway"][1:-1] == [("RUNNING", 0.3), ("RUNNING", 0.7), ("SUCCEEDED", None)]
    assert seen["replicate"][1:-1] == ["starting", "processing", "succeeded"]
    assert seen["minimax"][1:-1] == ["Queueing", "Processing", "Success"]
    assert seen["luma"][1:-1] == ["pending", "processing", "completed"]
    assert seen["jimeng"][1:] == [("IN_PROGRESS", ""), ("FAILURE", "the prompt was refused")]
    assert seen["fal"][1:-1] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


@pytest.mark.parametrize("family", list(SESSIONS))
def test_replay_gives_the_same_ids_statuses_and_bytes(
    recorded: tuple[Path, dict[str, Any]], family: str
) -> None:
    path, through = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        assert SESSIONS[family](replay.url) == through[family]


def test_file_validates_keeps_the_upstream_s_files_and_holds_no_key(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, through = recorded
    assert main(["validate", str(path)]) == 0
    rules = yaml.safe_load(path.read_text())["rules"]
    tasks = {rule["task"]["id"]: rule["task"] for rule in rules}
    assert set(tasks) == {seen[0] for seen in through.values()}
    pictures = tasks[through["text2image"][0]]["files"]  # two outputs: one file each
    digests = [hashlib.sha256((path.parent / name).read_bytes()).hexdigest() for name in pictures]
    assert digests == through["text2image"][-2:]
    video = tasks[through["doubao"][0]]["file"]
    assert hashlib.sha256((path.parent / video).read_bytes()).hexdigest() == through["doubao"][-1]
    failed = tasks[through["jimeng"][0]]
    assert (failed["fail_at"], failed["reason"]) == ("IN_PROGRESS", "the prompt was refused")
    assert "file" not in failed
    for written in path.parent.rglob("*"):
        if written.is_file():
            assert KEY.encode() not in written.read_bytes(), written
