"""Callbacks: a Midjourney task scripted with `callbacks: true` POSTs itself to its
`notifyHook` on each change, retrying a hook that fails; the journal records each delivery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.http.server_thread import ServerThread
from mockserver.testing.handle import MockServer


class Hook:
    """A receiver that fails its first `failures` calls, then keeps what it is sent."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.received: list[dict[str, Any]] = []

    async def endpoint(self, request: Request) -> Response:
        self.calls += 1
        if self.calls <= self.failures:
            return Response(status_code=500)
        self.received.append(orjson.loads(await request.body()))
        return Response(status_code=200)


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    receiver = Hook(failures=1)
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    with ServerThread(app) as server:
        yield receiver, f"{server.url}/hook"


def test_each_change_is_posted_and_a_failing_hook_retried(
    mockserver: MockServer, hook: tuple[Hook, str]
) -> None:
    receiver, url = hook
    mockserver.add_rule(name="hooked", match={"last_user": "hook"}, task={"callbacks": True})
    mj = httpx.Client(base_url=mockserver.url)
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "hook me", "notifyHook": url})
    task_id = task_id.json()["result"]
    for _ in range(3):
        mj.get(f"/mj/task/{task_id}/fetch")
    assert mockserver.state.notifier.wait()
    assert [body["status"] for body in receiver.received] == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
    assert receiver.received[-1]["id"] == task_id and len(receiver.received[-1]["buttons"]) == 9
    deliveries = mockserver.requests(dialect="callback")
    assert [entry.status for entry in deliveries] == [500, 200, 200, 200]


def test_clock_tasks_call_back_when_the_clock_moves(
    mockserver: MockServer, hook: tuple[Hook, str]
) -> None:
    receiver, url = hook
    receiver.failures = 0
    mockserver.add_rule(
        name="clocked", match={"last_user": "tick"}, task={"callbacks": True, "advance": "clock"}
    )
    mj = httpx.Client(base_url=mockserver.url)
    mj.post("/mj/submit/imagine", json={"prompt": "tick", "notifyHook": url})
    mockserver.advance_clock(100)
    assert mockserver.state.notifier.wait()
    assert [body["status"] for body in receiver.received] == ["SUCCESS"]


def test_no_callbacks_unless_the_scenario_asks(
    mockserver: MockServer, hook: tuple[Hook, str]
) -> None:
    receiver, url = hook
    mj = httpx.Client(base_url=mockserver.url)
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "quiet", "notifyHook": url})
    mj.get(f"/mj/task/{task_id.json()['result']}/fetch")
    assert mockserver.state.notifier.wait()
    assert receiver.calls == 0


def test_kling_posts_its_task_object_to_callback_url(
    mockserver: MockServer, hook: tuple[Hook, str]
) -> None:
    receiver, url = hook
    receiver.failures = 0
    mockserver.add_rule(name="kling-hook", match={"model": "kling-*"}, task={"callbacks": True})
    client = httpx.Client(base_url=mockserver.url)
    body = {"model_name": "kling-v1", "prompt": "kite", "callback_url": url}
    task_id = client.post("/kling/v1/videos/text2video", json=body).json()["data"]["task_id"]
    for _ in range(2):
        client.get(f"/kling/v1/videos/text2video/{task_id}")
    assert mockserver.state.notifier.wait()
    assert [b["task_status"] for b in receiver.received] == ["processing", "succeed"]
    assert receiver.received[-1]["task_result"]["videos"][0]["url"].endswith(f"{task_id}.mp4")


def test_vendor_video_families_post_their_own_task_objects(
    mockserver: MockServer, hook: tuple[Hook, str]
) -> None:
    """Doubao (`callback_url`), Hailuo (`callback_url`) and Luma (`notify_hook`): each
    change in the vendor's own shape."""
    receiver, url = hook
    receiver.failures = 0
    mockserver.add_rule(name="hooked", match={"last_user": "hooked"}, task={"callbacks": True})
    client = httpx.Client(base_url=mockserver.url)
    ark = "/volc/v1/contents/generations/tasks"
    body = {"model": "doubao-seedance-1-0-lite-t2v-250428", "callback_url": url,
            "content": [{"type": "text", "text": "hooked --rs 480p"}]}  # fmt: skip
    doubao = client.post(ark, json=body).json()["id"]
    minimax = client.post("/minimax/v1/video_generation", json={
        "model": "T2V-01", "prompt": "hooked", "callback_url": url,
    }).json()["task_id"]  # fmt: skip
    luma = client.post("/luma/generations", json={"user_prompt": "hooked", "notify_hook": url})
    for _ in range(3):
        client.get(f"{ark}/{doubao}")
        client.get("/minimax/v1/query/video_generation", params={"task_id": minimax})
        client.get(f"/luma/generations/{luma.json()['id']}")
    assert mockserver.state.notifier.wait()
    statuses: dict[str, list[str]] = {}
    for sent in receiver.received:
        if "base_resp" in sent:
            statuses.setdefault("minimax", []).append(sent["status"])
        elif "state" in sent:
            statuses.setdefault("luma", []).append(sent["state"])
        else:
            statuses.setdefault("doubao", []).append(sent["status"])
    assert statuses == {
        "doubao": ["running", "succeeded"],
        "minimax": ["Queueing", "Processing", "Success"],
        "luma": ["processing", "completed"],
    }
