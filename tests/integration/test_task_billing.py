"""Gateway mode on the task routes: a submission is charged `model_price × 500000 ×
group_ratio × seconds` before anything is created (the gateway's 403 when the key can't pay),
kept on SUCCESS, refunded once on FAILURE (scripted, or a timeout on the task clock), shown in
the journal and the usage logs — through the official `openai` SDK and raw HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai
import pytest

from tests.gateway.gateway_scenario import http

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

MAIN = "sk-taskmain000000000000000000000000000000000000000"
TIGHT = "sk-tasktight00000000000000000000000000000000000000"
VIP = "sk-taskvip0000000000000000000000000000000000000000"
ALICE = {"Authorization": "alice-access", "New-Api-User": "1"}
SCENARIO = f"""
version: 1
seed: 7
rules:
  - name: doomed
    match: {{last_user: {{contains: doomed}}}}
    task: {{fail_at: IN_PROGRESS, reason: content policy}}
  - name: timeout
    match: {{last_user: {{contains: forever}}}}
    task: {{advance: clock, fail_at: IN_PROGRESS, reason: "任务超时（1440分钟）"}}
gateway:
  groups: {{default: 1, vip: 0.5}}
  users:
    - {{id: 1, username: alice, quota: 10000000, access_token: alice-access}}
    - {{id: 2, username: bob, group: vip, quota: 10000000, access_token: bob-access}}
  models:
    sora-2: {{model_price: 0.1}}
    mj_imagine: {{model_price: 0.05}}
    suno_music: {{model_price: 0.2}}
    doubao-seedance-1-0-pro-250528: {{model_price: 0.05}}
  tokens:
    - {{name: main, key: {MAIN}, remain_quota: 1000000}}
    - {{name: tight, key: {TIGHT}, remain_quota: 300000}}
    - {{name: vip, user: 2, key: {VIP}, unlimited_quota: true}}
"""


def price(dollars: float, group_ratio: float = 1.0, seconds: int = 1) -> int:
    """new-api's per-call task quota, written out: dollars × 500,000 × group × seconds."""
    return int(dollars * 500_000 * group_ratio * seconds)


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server(SCENARIO)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def used(server: ServerThread, key: str) -> int:
    found: int = http.get(f"{server.url}/api/usage/token/", headers=bearer(key)).json()["data"][
        "total_used"
    ]
    return found


def user_quota(server: ServerThread) -> int:
    found: int = http.get(f"{server.url}/api/user/self", headers=ALICE).json()["data"]["quota"]
    return found


def logs(server: ServerThread) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = http.get(f"{server.url}/api/log/self", headers=ALICE).json()[
        "data"
    ]["items"]
    return found


def submit_video(server: ServerThread, key: str, prompt: str, seconds: str = "8") -> Any:
    body = {"model": "sora-2", "prompt": prompt, "seconds": seconds}
    return http.post(f"{server.url}/v1/videos", json=body, headers=bearer(key))


def poll_video(server: ServerThread, key: str, video_id: str) -> dict[str, Any]:
    found: dict[str, Any] = http.get(
        f"{server.url}/v1/videos/{video_id}", headers=bearer(key)
    ).json()
    return found


def test_the_sdk_submit_is_charged_at_submission_and_kept_on_success(
    server: ServerThread,
) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=MAIN, max_retries=0)
    before = user_quota(server)
    raw = client.videos.with_raw_response.create(model="sora-2", prompt="a calm lake", seconds="8")
    video = raw.parse()
    cost = price(0.1, seconds=8)
    assert raw.headers["x-new-api-other-ratios"] == '{"seconds":8}'
    assert raw.headers["x-oneapi-request-id"]
    assert used(server, MAIN) == cost
    assert user_quota(server) == before - cost
    done = client.videos.poll(video.id)
    assert done.status == "completed"
    assert used(server, MAIN) == cost  # kept
    entry = http.get(f"{server.url}/_mock/requests", params={"key_name": "main"}).json()
    submitted = [e for e in entry["requests"] if e["method"] == "POST"]
    assert [(e["key_name"], e["quota"], e["cost"]) for e in submitted] == [
        ("main", cost, cost / 500_000)
    ]
    consume = [log for log in logs(server) if log["type"] == 2]
    assert [(log["token_name"], log["model_name"], log["quota"]) for log in consume] == [
        ("main", "sora-2", cost)
    ]


def test_a_group_ratio_and_each_family_price(server: ServerThread) -> None:
    assert submit_video(server, VIP, "a vip lake", "4").status_code == 200
    assert used(server, VIP) == price(0.1, 0.5, 4)
    imagine = http.post(
        f"{server.url}/mj/submit/imagine", json={"prompt": "an owl"}, headers=bearer(MAIN)
    )
    assert imagine.json()["code"] == 1
    assert "x-new-api-other-ratios" not in imagine.headers  # Midjourney's own relay
    music = http.post(
        f"{server.url}/suno/submit/music",
        json={"gpt_description_prompt": "a song about owls"},
        headers=bearer(MAIN),
    )
    assert music.json()["code"] == "success"
    assert music.headers["x-new-api-other-ratios"] == "{}"
    assert used(server, MAIN) == price(0.05) + price(0.2)


def test_a_failed_task_is_refunded_once(server: ServerThread) -> None:
    before = user_quota(server)
    video_id = submit_video(server, MAIN, "a doomed ship").json()["id"]
    assert used(server, MAIN) == price(0.1, seconds=8)
    statuses = [poll_video(server, MAIN, video_id)["status"] for _ in range(4)]
    assert statuses == ["in_progress", "failed", "failed", "failed"]
    assert used(server, MAIN) == 0  # refunded, and only once for three failed polls
    assert user_quota(server) == before
    refunds = [log for log in logs(server) if log["type"] == 4]
    assert len(refunds) == 1 and video_id in refunds[0]["content"]


def test_a_vendor_shaped_family_is_charged_and_refunded_the_same_way(
    server: ServerThread,
) -> None:
    tasks = f"{server.url}/volc/v1/contents/generations/tasks"

    def seedance(text: str) -> str:
        body = {
            "model": "doubao-seedance-1-0-pro-250528",
            "content": [{"type": "text", "text": text + " --dur 5"}],
        }
        made = http.post(tasks, json=body, headers=bearer(MAIN))
        assert made.status_code == 200, made.text
        task_id: str = made.json()["id"]
        return task_id

    kept = seedance("a quiet harbour")
    assert used(server, MAIN) == price(0.05, seconds=5)
    doomed = seedance("a doomed harbour")
    assert used(server, MAIN) == 2 * price(0.05, seconds=5)
    states = {
        task_id: [
            http.get(f"{tasks}/{task_id}", headers=bearer(MAIN)).json()["status"] for _ in range(5)
        ][-1]
        for task_id in (kept, doomed)
    }
    assert states == {kept: "succeeded", doomed: "failed"}
    assert used(server, MAIN) == price(0.05, seconds=5)  # the failed one given back
    unpaid = http.post(tasks, json={"model": "doubao-seedance-1-0-pro-250528"}, headers={})
    assert unpaid.status_code == 401  # the key first, as on every relay route


def test_a_timeout_on_the_task_clock_is_refunded_without_a_poll(server: ServerThread) -> None:
    video_id = submit_video(server, MAIN, "waiting forever", "4").json()["id"]
    assert used(server, MAIN) == price(0.1, seconds=4)
    for _ in range(2):
        http.post(f"{server.url}/_mock/tasks/clock", params={"advance": "60"})
    assert used(server, MAIN) == 0
    failed = poll_video(server, MAIN, video_id)
    assert failed["status"] == "failed"
    assert used(server, MAIN) == 0


def test_a_key_that_cannot_pay_gets_the_gateways_403_and_no_task(server: ServerThread) -> None:
    refused = submit_video(server, TIGHT, "too long for this key", "8")
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "pre_consume_token_quota_failed"
    assert body["data"] is None
    assert "need quota: ＄0.800000" in body["message"]
    listed = http.get(f"{server.url}/v1/videos", headers=bearer(MAIN)).json()["data"]
    assert listed == []
    assert used(server, TIGHT) == 0
    assert submit_video(server, TIGHT, "short enough", "4").status_code == 200
    assert used(server, TIGHT) == price(0.1, seconds=4)


def test_the_sdk_sees_the_gateways_errors(server: ServerThread) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=TIGHT, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        client.videos.create(model="sora-2", prompt="too long", seconds="12")
    bad = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-nobody", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.videos.create(model="sora-2", prompt="who am I")
    assert "Invalid token" in str(caught.value)
    unpriced = http.post(
        f"{server.url}/v1/videos", json={"model": "sora-2-pro", "prompt": "x"}, headers=bearer(MAIN)
    )
    assert unpriced.status_code == 503
    assert unpriced.json()["error"]["code"] == "model_not_found"


def test_midjourney_without_quota_answers_in_its_own_shape(
    start_server: Callable[..., ServerThread],
) -> None:
    poor = SCENARIO.replace("remain_quota: 300000", "remain_quota: 1000")
    server = start_server(poor)
    refused = http.post(
        f"{server.url}/mj/submit/imagine", json={"prompt": "an owl"}, headers=bearer(TIGHT)
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == 4
    assert refused.json()["description"].startswith("quota_not_enough")
    # served files need no key (new-api serves /mj/image outside its auth); polls do
    assert http.get(f"{server.url}/mj/image/unknown").status_code == 404
    assert http.get(f"{server.url}/v1/videos/task_x/content").status_code == 404
    unknown = http.get(f"{server.url}/mj/task/1/fetch")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["type"] == "new_api_error"
