"""Replicate's predictions under `/replicate`, through the official `replicate` SDK: `run` a
video model and read its MP4; create by version, wait, list, cancel; problem-details errors."""

from __future__ import annotations

import io

import av
import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError

from mockserver.testing.handle import MockServer

VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


@pytest.fixture
def client(mockserver: MockServer, monkeypatch: pytest.MonkeyPatch) -> replicate.Client:
    monkeypatch.setenv("REPLICATE_POLL_INTERVAL", "0")  # advance-on-poll: no need to wait
    return replicate.Client(api_token=mockserver.api_key, base_url=f"{mockserver.url}/replicate")


def test_run_a_video_model_gives_a_playable_mp4(client: replicate.Client) -> None:
    output = client.run("minimax/video-01", input={"prompt": "a heron takes off"})
    # the SDK wraps https URLs in FileOutput; ours is http, so it stays the URL
    assert isinstance(output, str) and output.endswith(".mp4")
    with av.open(io.BytesIO(httpx.get(output).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (1280, 720)
        assert container.duration == 5 * av.time_base


def test_create_by_version_wait_list_and_cancel(client: replicate.Client) -> None:
    prediction = client.predictions.create(version=VERSION, input={"prompt": "a red cube"})
    assert prediction.status == "starting" and len(prediction.id) == 26
    prediction.wait()
    assert prediction.status == "succeeded" and prediction.output.endswith(".png")
    assert prediction.completed_at is not None and prediction.metrics["predict_time"] >= 0
    image = Image.open(io.BytesIO(httpx.get(prediction.output).content))
    assert image.format == "PNG"
    other = client.models.predictions.create(model="black-forest-labs/flux-schnell",
                                             input={"prompt": "x"})  # fmt: skip
    other.cancel()
    assert client.predictions.get(other.id).status == "canceled"
    listed = [p.id for p in client.predictions.list().results]
    assert listed == [other.id, prediction.id]


def test_replicates_errors(client: replicate.Client, mockserver: MockServer) -> None:
    with pytest.raises(ReplicateError) as unknown:
        client.predictions.get("nosuchprediction0000000000")
    assert (unknown.value.status, unknown.value.title) == (404, "Not found")
    with pytest.raises(ReplicateError) as invalid:
        client.predictions.create(version="not-a-version", input={})
    assert invalid.value.status == 422 and "version" in (invalid.value.detail or "")
    mockserver.add_rule(
        name="nsfw", match={"last_user": "forbidden"},
        task={"fail_at": "IN_PROGRESS", "reason": "NSFW content detected"},
    )  # fmt: skip
    with pytest.raises(ModelError) as failed:
        client.run("wan-video/wan-2.2-t2v-fast", input={"prompt": "forbidden"})
    assert failed.value.prediction.error == "NSFW content detected"
