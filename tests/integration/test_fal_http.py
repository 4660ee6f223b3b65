"""fal.ai's queue API under `/fal-ai`, through raw HTTP as a client written from fal's docs
(its `fal_client` only speaks https to fal's hosts): submit → status until COMPLETED → the
result and its file; the app id or `auto` in the polling paths; cancel; errors."""

from __future__ import annotations

import io

import av
import httpx
import pytest
from PIL import Image

from mockserver.testing.handle import MockServer


@pytest.fixture
def fal(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Key {mockserver.api_key}"}
    )


def test_a_video_request_from_queue_to_mp4(fal: httpx.Client) -> None:
    body = {"prompt": "a lighthouse at dusk", "duration": "5", "aspect_ratio": "9:16"}
    queued = fal.post("/fal-ai/kling-video/v2/master/text-to-video", json=body).json()
    assert (queued["status"], queued["queue_position"]) == ("IN_QUEUE", 0)
    assert queued["status_url"].endswith(
        f"/fal-ai/kling-video/requests/{queued['request_id']}/status"
    )
    early = fal.get(queued["response_url"])
    assert early.status_code == 400 and early.json() == {"detail": "Request is still in progress"}
    statuses = [fal.get(queued["status_url"], params={"logs": "1"}).json() for _ in range(2)]
    assert [s["status"] for s in statuses] == ["IN_PROGRESS", "COMPLETED"]
    assert statuses[0]["logs"][0]["message"] == "Generating..."
    video = fal.get(queued["response_url"]).json()["video"]
    content = httpx.get(video["url"]).content
    assert video["content_type"] == "video/mp4" and video["file_size"] == len(content)
    with av.open(io.BytesIO(content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height, container.duration) == (720, 1280, 5 * av.time_base)
    auto = fal.get(f"/fal-ai/auto/requests/{queued['request_id']}")  # the gateway's `auto`
    assert auto.json()["video"]["url"] == video["url"]


def test_an_image_request_cancel_and_errors(fal: httpx.Client) -> None:
    queued = fal.post("/fal-ai/flux/schnell", json={"prompt": "a fern",
                                                    "image_size": "square"}).json()  # fmt: skip
    for _ in range(2):
        fal.get(queued["status_url"])
    result = fal.get(queued["response_url"]).json()
    assert result["prompt"] == "a fern" and result["has_nsfw_concepts"] == [False]
    image = Image.open(io.BytesIO(httpx.get(result["images"][0]["url"]).content))
    assert (image.format, image.size) == ("PNG", (512, 512))

    other = fal.post("/fal-ai/flux/schnell", json={"prompt": "moss"}).json()
    cancelled = fal.put(other["cancel_url"])
    assert cancelled.status_code == 202 and cancelled.json() == {"status": "CANCELLATION_REQUESTED"}
    assert fal.put(other["cancel_url"]).json() == {"status": "ALREADY_COMPLETED"}
    missing = fal.post("/fal-ai/flux/schnell", json={})
    assert missing.status_code == 422 and missing.json() == {"detail": "prompt: field required"}
    unknown = fal.get("/fal-ai/flux/requests/00000000-0000-0000-0000-000000000000/status")
    assert unknown.status_code == 404
    wrong_app = fal.get(f"/fal-ai/kling-video/requests/{queued['request_id']}")
    assert wrong_app.status_code == 404


def test_a_scenario_fails_a_fal_request(mockserver: MockServer, fal: httpx.Client) -> None:
    mockserver.add_rule(
        name="policy", match={"last_user": "banned"},
        task={"fail_at": "QUEUED", "reason": "content policy violation"},
    )  # fmt: skip
    queued = fal.post("/fal-ai/flux/dev", json={"prompt": "banned"}).json()
    status = fal.get(queued["status_url"]).json()
    assert (status["status"], status["error"]) == ("COMPLETED", "content policy violation")
    failed = fal.get(queued["response_url"])
    assert failed.status_code == 422 and failed.json() == {"detail": "content policy violation"}
