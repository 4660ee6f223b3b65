"""Doubao Seedance through Volcengine's own Ark runtime SDK (`volcenginesdkarkruntime`), pointed
at Ark's path under the mock (`/api/v3`) and the gateway's (`/volc/v1`): create, get until
succeeded, list with filters, delete; Ark's errors as the SDK's exceptions; async too."""

from __future__ import annotations

import asyncio
import io

import av
import httpx
import pytest
from volcenginesdkarkruntime import Ark, AsyncArk
from volcenginesdkarkruntime._exceptions import ArkBadRequestError, ArkNotFoundError

from mockserver.testing.handle import MockServer

MODEL = "doubao-seedance-1-0-lite-t2v-250428"


@pytest.fixture(params=["/api/v3", "/volc/v1"])
def ark(mockserver: MockServer, request: pytest.FixtureRequest) -> Ark:
    return Ark(base_url=f"{mockserver.url}{request.param}", api_key=mockserver.api_key)


def test_create_get_list_and_delete(ark: Ark) -> None:
    tasks = ark.content_generation.tasks
    created = tasks.create(
        model=MODEL, content=[{"type": "text", "text": "a tram in the rain"}],
        resolution="480p", ratio="16:9", duration=5,
    )  # fmt: skip
    assert created.id.startswith("cgt-")
    statuses = [tasks.get(task_id=created.id).status for _ in range(2)]
    assert statuses == ["running", "succeeded"]
    done = tasks.get(task_id=created.id)
    assert (done.resolution, done.ratio, done.duration, done.framespersecond) == (
        "480p", "16:9", 5, 24,
    )  # fmt: skip
    assert done.usage.completion_tokens == 864 * 480 * 24 * 5 // 1024
    with av.open(io.BytesIO(httpx.get(done.content.video_url).content)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height, container.duration) == (864, 480, 5 * av.time_base)
    other = tasks.create(model=MODEL, content=[{"type": "text", "text": "x --rs 480p"}])
    listed = tasks.list(page_num=1, page_size=10, status="succeeded")
    assert listed.total == 1 and [t.id for t in listed.items] == [created.id]
    assert [t.id for t in tasks.list(task_ids=[other.id]).items] == [other.id]
    tasks.delete(task_id=other.id)  # queued: cancelled
    assert tasks.get(task_id=other.id).status == "cancelled"


def test_arks_errors_as_the_sdks_exceptions(ark: Ark) -> None:
    tasks = ark.content_generation.tasks
    with pytest.raises(ArkBadRequestError) as bad:
        tasks.create(model=MODEL, content=[{"type": "text", "text": "x"}], duration=7)
    assert bad.value.code == "InvalidParameter" and bad.value.param == "duration"
    with pytest.raises(ArkNotFoundError) as unknown:
        tasks.get(task_id="cgt-20250101000000-zzzzz")
    assert unknown.value.code == "ResourceNotFound"


def test_async_client(mockserver: MockServer) -> None:
    async def run() -> list[str]:
        client = AsyncArk(base_url=f"{mockserver.url}/api/v3", api_key=mockserver.api_key)
        created = await client.content_generation.tasks.create(
            model=MODEL, content=[{"type": "text", "text": "async --rs 480p"}]
        )
        seen = [await client.content_generation.tasks.get(task_id=created.id) for _ in range(2)]
        return [task.status for task in seen]

    assert asyncio.run(run()) == ["running", "succeeded"]
