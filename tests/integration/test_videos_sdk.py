"""OpenAI's Videos API through the official `openai` SDK: create_and_poll completes, the MP4
it downloads is what PyAV reads back with the requested length and size, remix, list, delete,
and failures scripted by the scenario."""

from __future__ import annotations

import io

import av
import openai
import pytest
from PIL import Image

from mockserver.testing.handle import MockServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's Sora notice


def test_create_and_poll_completes_with_a_real_mp4(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    video = client.videos.create_and_poll(
        model="sora-2", prompt="a cat on a skateboard", seconds="8", size="1280x720"
    )
    assert video.status == "completed"
    assert video.progress == 100
    assert video.id.startswith("task_")
    assert (video.seconds, video.size, video.model) == ("8", "1280x720", "sora-2")
    assert video.completed_at is not None and video.completed_at > video.created_at

    content = client.videos.download_content(video.id)
    with av.open(io.BytesIO(content.read())) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1280, 720)
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(8.0)
        assert sum(1 for _ in container.decode(video=0)) > 0


def test_a_fresh_task_reads_queued_then_moves_one_stage_per_poll(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    video = client.videos.create(model="sora-2", prompt="waves")
    assert (video.status, video.progress, video.seconds, video.size) == (
        "queued",
        0,
        "4",
        "720x1280",
    )
    statuses = [client.videos.retrieve(video.id).status for _ in range(3)]
    assert statuses == ["in_progress", "completed", "completed"]


def test_thumbnail_and_spritesheet_variants(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    video = client.videos.create_and_poll(model="sora-2-pro", prompt="city", size="1792x1024")
    thumbnail = client.videos.download_content(video.id, variant="thumbnail").read()
    assert Image.open(io.BytesIO(thumbnail)).size == (1792, 1024)
    sheet = client.videos.download_content(video.id, variant="spritesheet").read()
    assert Image.open(io.BytesIO(sheet)).format == "JPEG"


def test_remix_makes_a_new_video_from_a_completed_one(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    source = client.videos.create_and_poll(model="sora-2", prompt="a red balloon", seconds="4")
    remix = client.videos.remix(source.id, prompt="make it blue")
    assert remix.remixed_from_video_id == source.id
    assert remix.id != source.id and remix.status == "queued"
    done = client.videos.poll(remix.id)
    assert (done.status, done.prompt, done.seconds) == ("completed", "make it blue", "4")


def test_list_and_delete(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    first = client.videos.create(model="sora-2", prompt="one")
    second = client.videos.create(model="sora-2", prompt="two")
    listed = [video.id for video in client.videos.list()]
    assert listed == [second.id, first.id]
    deleted = client.videos.delete(first.id)
    assert deleted.deleted and deleted.id == first.id
    assert [video.id for video in client.videos.list(order="asc")] == [second.id]
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.retrieve(first.id)
    assert caught.value.body == {
        "code": "task_not_exist",
        "message": "task_not_exist",
        "data": None,
    }


def test_a_scenario_fails_the_task_at_a_stage(mockserver: MockServer) -> None:
    mockserver.add_rule(
        name="blocked",
        match={"last_user": "forbidden"},
        task={"fail_at": "IN_PROGRESS", "reason": "content policy", "code": "moderation_blocked"},
    )
    client = mockserver.openai_client()
    video = client.videos.create_and_poll(model="sora-2", prompt="something forbidden")
    assert video.status == "failed"
    assert video.error is not None
    assert (video.error.code, video.error.message) == ("moderation_blocked", "content policy")
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.download_content(video.id)
    assert "current status: FAILURE" in str(caught.value)
    mockserver.assert_called(rule="blocked", times=1)


def test_bad_requests_get_the_gateways_task_errors(mockserver: MockServer) -> None:
    client = mockserver.openai_client()
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(model="sora-2", prompt="x", size="1792x1024")
    assert caught.value.body == {
        "code": "invalid_size",
        "message": "sora-2 size is invalid",
        "data": None,
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="no model")
    assert caught.value.body["code"] == "missing_model"
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.retrieve("task_nope")
    assert caught.value.body["code"] == "task_not_exist"
    with pytest.raises(openai.NotFoundError):
        client.videos.download_content("task_nope")


def test_a_fault_rule_refuses_the_submission(mockserver: MockServer) -> None:
    mockserver.add_rule(name="busy", match={"model": "sora-2-pro"}, fault={"status": 503})
    client = mockserver.openai_client(max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.videos.create(model="sora-2-pro", prompt="anything")
    assert caught.value.status_code == 503


async def test_async_client_create_and_poll(mockserver: MockServer) -> None:
    client = mockserver.async_openai_client()
    video = await client.videos.create_and_poll(model="sora-2", prompt="async cat")
    assert video.status == "completed"
    data = (await client.videos.download_content(video.id)).read()
    assert data[4:8] == b"ftyp"


def test_input_reference_goes_as_multipart(mockserver: MockServer) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (720, 1280), (10, 20, 30)).save(picture, format="PNG")
    client = mockserver.openai_client()
    video = client.videos.create(
        model="sora-2",
        prompt="animate this",
        input_reference=("ref.png", picture.getvalue(), "image/png"),
    )
    assert video.status == "queued"
    entry = mockserver.requests(endpoint="/v1/videos").last
    assert entry.body["input_reference"] == f"<{len(picture.getvalue())} bytes>"
    assert entry.body["prompt"] == "animate this"
