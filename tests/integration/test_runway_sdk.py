"""Runway's image-to-video under `/runwayml`, through the official `runwayml` SDK: create →
`wait_for_task_output` → the MP4; retrieve while running; cancel and delete; Runway's
errors."""

from __future__ import annotations

import io

import av
import httpx
import pytest
import runwayml
from runwayml import RunwayML, TaskFailedError
from runwayml.lib import polling

from mockserver.testing.handle import MockServer

IMAGE = "https://example.com/first-frame.png"


@pytest.fixture
def client(mockserver: MockServer, monkeypatch: pytest.MonkeyPatch) -> RunwayML:
    # The SDK waits about 6 s between polls; advance-on-poll tasks need no waiting.
    monkeypatch.setattr(polling, "POLL_TIME", 0)
    monkeypatch.setattr(polling, "POLL_JITTER", 0)
    return RunwayML(api_key=mockserver.api_key, base_url=f"{mockserver.url}/runwayml")


def test_create_and_wait_for_a_playable_video(client: RunwayML) -> None:
    created = client.image_to_video.create(
        model="gen4_turbo", prompt_image=IMAGE, prompt_text="waves", ratio="720:1280", duration=5
    )
    done = created.wait_for_task_output()
    assert done.status == "SUCCEEDED" and done.id == created.id
    assert done.cost.credits == 25
    with av.open(io.BytesIO(httpx.get(done.output[0]).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (720, 1280)
        assert container.duration == 5 * av.time_base


def test_running_progress_then_cancel_and_delete(client: RunwayML) -> None:
    created = client.image_to_video.create(model="gen4_turbo", prompt_image=IMAGE, ratio="960:960")
    running = client.tasks.retrieve(created.id)
    assert running.status == "RUNNING" and running.progress == 0.5
    client.tasks.delete(created.id)
    cancelled = client.tasks.retrieve(created.id)
    assert cancelled.status == "CANCELLED"
    client.tasks.delete(created.id)  # a finished task is deleted
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(created.id)


def test_runways_errors(client: RunwayML, mockserver: MockServer) -> None:
    with pytest.raises(runwayml.BadRequestError) as bad:
        client.image_to_video.create(
            model="gen4_turbo",
            prompt_image=IMAGE,
            ratio="1:1",  # type: ignore[arg-type]
        )
    assert "ratio must be one of" in bad.value.body["error"]  # type: ignore[index]
    versionless = httpx.get(
        f"{mockserver.url}/runwayml/v1/tasks/x",
        headers={"Authorization": f"Bearer {mockserver.api_key}"},
    )
    assert versionless.status_code == 400 and "X-Runway-Version" in versionless.json()["error"]


def test_a_scenario_fails_a_runway_task(client: RunwayML, mockserver: MockServer) -> None:
    mockserver.add_rule(
        name="moderated", match={"last_user": "unsafe"},
        task={"fail_at": "IN_PROGRESS", "reason": "Content moderation",
              "code": "SAFETY.INPUT.TEXT"},
    )  # fmt: skip
    created = client.image_to_video.create(
        model="gen4_turbo", prompt_image=IMAGE, prompt_text="unsafe", ratio="1280:720"
    )
    with pytest.raises(TaskFailedError) as failed:
        created.wait_for_task_output()
    details = failed.value.task_details
    assert (details.status, details.failure, details.failure_code) == (  # type: ignore[union-attr]
        "FAILED", "Content moderation", "SAFETY.INPUT.TEXT",
    )  # fmt: skip
