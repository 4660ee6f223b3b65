"""Async tasks recorded with their polls, from an upstream that is a second mockserver: a
video through the official `openai` SDK (create, retrieve until done, download), Midjourney
and Suno over raw HTTP; then replayed with the upstream gone: the same task ids, the same
progression poll by poll, the same failure and the same video bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from mockserver.cli import main
from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from mockserver.record.tasks import Recording, State
from tests.record.recording import each, record_through_proxy

UPSTREAM = """
version: 1
seed: 11
rules:
  - name: waves
    match: {model: sora-2, last_user: {contains: waves}}
    task:
      stages: [QUEUED, {status: IN_PROGRESS, progress: 40}, {status: IN_PROGRESS, progress: 80}]
  - name: fox
    match: {model: mj_imagine}
    task: {stages: [SUBMITTED, {status: IN_PROGRESS, progress: 60}]}
  - name: boat
    match: {model: kling-v1}
    task: {stages: [SUBMITTED, IN_PROGRESS]}  # Kling shows no progress: one state each
  - name: rain-fails
    match: {model: suno_music}
    task:
      stages: [QUEUED, IN_PROGRESS]
      fail_at: IN_PROGRESS
      reason: the lyrics were refused
"""
KEY = "sk-live-SECRET-task-key-0123456789"
POLLS = 10  # bounded: a task that never finishes fails the test instead of hanging it


def video(base: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
    created = client.videos.create(model="sora-2", prompt="ocean waves at dusk")
    seen: list[Any] = [created.id, (created.status, created.progress)]
    for _ in range(POLLS):
        polled = client.videos.retrieve(created.id)
        seen.append((polled.status, polled.progress))
        if polled.status in ("completed", "failed"):
            break
    content = client.videos.download_content(created.id).read()
    seen.append(hashlib.sha256(content).hexdigest())
    client.close()
    return seen


def midjourney(base: str) -> list[Any]:
    headers = {"mj-api-secret": KEY}
    with httpx.Client(base_url=base, headers=headers) as client:
        answer = client.post("/mj/submit/imagine", json={"prompt": "a red fox in snow"}).json()
        task_id = answer["result"]
        seen: list[Any] = [answer["code"], task_id]
        for _ in range(POLLS):
            task = client.get(f"/mj/task/{task_id}/fetch").json()
            seen.append((task["id"], task["status"], task["progress"], task["failReason"]))
            if task["status"] in ("SUCCESS", "FAILURE"):
                break
    return seen


def suno(base: str) -> list[Any]:
    headers = {"authorization": f"Bearer {KEY}"}
    body = {"gpt_description_prompt": "a song about rain", "mv": "chirp-v3-5"}
    with httpx.Client(base_url=base, headers=headers) as client:
        task_id = client.post("/suno/submit/music", json=body).json()["data"]
        seen: list[Any] = [task_id]
        for _ in range(POLLS):
            data = client.get(f"/suno/fetch/{task_id}").json()["data"]
            seen.append((data["task_id"], data["status"], data["progress"], data["fail_reason"]))
            if data["status"] in ("SUCCESS", "FAILURE"):
                break
    return seen


def kling(base: str) -> list[Any]:
    headers = {"authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        answer = client.post("/kling/v1/videos/text2video", json={"prompt": "a paper boat"})
        task_id = answer.json()["data"]["task_id"]
        seen: list[Any] = [task_id, answer.json()["data"]["task_status"]]
        for _ in range(POLLS):
            data = client.get(f"/kling/v1/videos/text2video/{task_id}").json()["data"]
            seen.append(data["task_status"])
            if data["task_status"] in ("succeed", "failed"):
                break
        url = data["task_result"]["videos"][0]["url"]
    # Fetched from where the answer points (the vendor's file host, here the server polled).
    seen.append(hashlib.sha256(httpx.get(url).content).hexdigest())
    return seen


SESSIONS: dict[str, Callable[[str], list[Any]]] = {
    "video": video,
    "midjourney": midjourney,
    "suno": suno,
    "kling": kling,
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("tasks")
    yield record_through_proxy(folder, UPSTREAM, "tasks", each(SESSIONS))


def test_recorded_progressions_are_the_upstream_s(recorded: tuple[Path, dict[str, Any]]) -> None:
    seen = recorded[1]
    assert seen["video"][1:-1] == [
        ("queued", 0),
        ("in_progress", 40),
        ("in_progress", 80),
        ("completed", 100),
    ]
    assert [state[1] for state in seen["midjourney"][2:]] == ["IN_PROGRESS", "SUCCESS"]
    assert seen["suno"][-1][1:] == ("FAILURE", "100%", "the lyrics were refused")


@pytest.mark.parametrize("family", list(SESSIONS))
def test_replay_gives_the_same_ids_progression_and_bytes(
    recorded: tuple[Path, dict[str, Any]], family: str
) -> None:
    path, through = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        assert SESSIONS[family](replay.url) == through[family]


def test_file_validates_names_the_video_and_holds_no_key(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path = recorded[0]
    assert main(["validate", str(path)]) == 0
    rules = {rule["name"]: rule for rule in yaml.safe_load(path.read_text())["rules"]}
    waves = next(rule for name, rule in rules.items() if name.startswith("ocean-waves"))
    assert waves["match"]["model"] == "sora-2"
    assert waves["task"]["id"] == recorded[1]["video"][0]
    media = path.parent / waves["task"]["file"]
    assert hashlib.sha256(media.read_bytes()).hexdigest() == recorded[1]["video"][-1]
    boat = next(rule for name, rule in rules.items() if name.startswith("a-paper-boat"))
    kling_file = path.parent / boat["task"]["file"]
    assert hashlib.sha256(kling_file.read_bytes()).hexdigest() == recorded[1]["kling"][-1]
    rain = next(rule for name, rule in rules.items() if name.startswith("a-song-about-rain"))
    assert rain["task"]["fail_at"] == "IN_PROGRESS"
    assert rain["task"]["reason"] == "the lyrics were refused"
    for written in path.parent.rglob("*"):
        if written.is_file():
            assert KEY.encode() not in written.read_bytes(), written


def test_only_distinct_states_become_stages() -> None:
    recording = Recording("r", {}, "video", "task_1")
    recording.states.append(State("QUEUED"))
    assert not recording.saw(State("QUEUED"))  # the same state again: no new stage
    assert recording.saw(State("IN_PROGRESS", 30))
    assert not recording.saw(State("IN_PROGRESS", 30))
    assert recording.saw(State("IN_PROGRESS", 70))
    assert recording.saw(State("SUCCESS", 100))
    assert recording.spec()["stages"] == [
        {"status": "QUEUED", "progress": 0},
        {"status": "IN_PROGRESS", "progress": 30},
        {"status": "IN_PROGRESS", "progress": 70},
    ]
    assert recording.finished


def test_new_episodes_replays_a_recorded_task_and_appends_a_new_one(
    recorded: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from mockserver.http.app import create_app
    from mockserver.scenario import load_paths
    from mockserver.server_state import MockState
    from mockserver.settings import Settings

    path = tmp_path / "episodes.yaml"
    path.write_text(recorded[0].read_text(encoding="utf-8"))
    (tmp_path / "media").mkdir()
    for media in (recorded[0].parent / "media").iterdir():
        (tmp_path / "media" / media.name).write_bytes(media.read_bytes())
    (tmp_path / "upstream.yaml").write_text(UPSTREAM)
    upstream_state = MockState(Settings(), load_paths([tmp_path / "upstream.yaml"]))
    upstream = ServerThread(create_app(state=upstream_state)).start()
    proxy = ServerThread(recording_app(path, RecordMode.NEW_EPISODES, upstream.url)).start()
    try:
        assert video(proxy.url) == recorded[1]["video"]  # from the recording
        with httpx.Client(base_url=proxy.url) as client:
            answer = client.post("/mj/submit/imagine", json={"prompt": "an owl at night"}).json()
            states = [client.get(f"/mj/task/{answer['result']}/fetch").json()["status"]]
            states.append(client.get(f"/mj/task/{answer['result']}/fetch").json()["status"])
    finally:
        proxy.stop()
        upstream.stop()
    asked = [entry.endpoint for entry in upstream_state.journal.entries()]
    assert not any(endpoint.startswith("/v1/videos") for endpoint in asked)
    polls = [f"/mj/task/{answer['result']}/fetch"] * 2
    # the finished grid, fetched by the recorder from where the answer points
    assert asked == ["/mj/submit/imagine", *polls, f"/mj/image/{answer['result']}"]
    assert states == ["IN_PROGRESS", "SUCCESS"]
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    assert [rule["name"] for rule in rules][-1] == "an-owl-at-night"
    assert rules[-1]["task"]["id"] == answer["result"]
    assert main(["validate", str(path)]) == 0


def test_each_stage_lasts_as_long_as_the_upstream_showed_it() -> None:
    recording = Recording("r", {}, "video", "task_1")
    for state, at in ((State("QUEUED"), 100.0), (State("IN_PROGRESS", 50), 103.04)):
        assert recording.saw(state, at)
    assert not recording.saw(State("IN_PROGRESS", 50), 110.0)  # the same state: no new stage
    assert recording.saw(State("SUCCESS", 100), 131.0)
    assert recording.spec()["stages"] == [
        {"status": "QUEUED", "progress": 0, "seconds": 3.0},
        {"status": "IN_PROGRESS", "progress": 50, "seconds": 28.0},
    ]
