"""Task billing under `mockserver serve --workers 2`: both workers charge one balance, each
submission once; polls racing on both workers end a failing task once, so it is refunded
once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.integration.served import serve

KEY = "sk-taskworkers0000000000000000000000000000000000000"
AUTH = {"authorization": f"Bearer {KEY}"}
SCENARIO = f"""\
version: 1
rules:
  - name: doomed
    match: {{last_user: {{contains: doomed}}}}
    task: {{fail_at: IN_PROGRESS, reason: content policy}}
gateway:
  users:
    - {{id: 1, username: alice, quota: 10000000, access_token: alice-access}}
  models:
    sora-2: {{model_price: 0.1}}
  tokens:
    - {{name: shared, key: {KEY}, remain_quota: 3000000}}
"""
COST = int(0.1 * 500_000 * 1 * 4)  # model_price × 500,000 × group ratio × seconds
POLLS = 6


def used(client: httpx.Client) -> int:
    found: int = client.get("/api/usage/token/", headers=AUTH).json()["data"]["total_used"]
    return found


def test_two_workers_charge_once_and_refund_once(tmp_path: Path) -> None:
    with serve("--workers", "2", logs=tmp_path) as served, served.client() as client:
        assert client.post("/_mock/scenarios?replace=1", content=SCENARIO).status_code == 200
        assert client.post("/_mock/reset").status_code == 200
        workers: set[int] = set()
        for round_ in range(5):  # until both workers have answered (the kernel spreads them)
            prompts = [f"doomed ship {round_}.{n}" for n in range(4)] + [f"calm lake {round_}"]
            ids = []
            for prompt in prompts:
                body = {"model": "sora-2", "prompt": prompt, "seconds": "4"}
                answer = client.post("/v1/videos", json=body, headers=AUTH)
                assert answer.status_code == 200, answer.text
                ids.append(answer.json()["id"])
            assert used(client) == COST * (len(prompts) + round_)

            def poll(video_id: str) -> str:
                with served.client() as own:
                    got: dict[str, Any] = own.get(f"/v1/videos/{video_id}", headers=AUTH).json()
                    return str(got["status"])

            with ThreadPoolExecutor(8) as pool:  # every task polled by racing requests
                statuses = list(pool.map(poll, [i for i in ids for _ in range(POLLS)]))
            assert statuses.count("failed") + statuses.count("completed") >= len(ids)
            # the four failed ones refunded exactly once each; the completed one kept
            assert used(client) == COST * (round_ + 1)
            entries = client.get("/_mock/requests").json()["requests"]
            workers |= {entry["worker"] for entry in entries if entry["method"] == "GET"}
            if len(workers) == 2:
                break
        assert len(workers) == 2, "one worker took every poll"
        logs = client.get(
            "/api/log/self", headers={"Authorization": "alice-access", "New-Api-User": "1"}
        ).json()["data"]["items"]
        refunds = [log for log in logs if log["type"] == 4]
        assert len(refunds) == 4 * (round_ + 1)
        assert len({log["content"] for log in refunds}) == len(refunds)  # one per task


def test_a_charge_kept_in_the_state_file_is_refunded_after_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with serve("--state", str(state), logs=tmp_path / "first") as served, served.client() as c:
        assert c.post("/_mock/scenarios?replace=1", content=SCENARIO).status_code == 200
        body = {"model": "sora-2", "prompt": "a doomed ship", "seconds": "4"}
        video_id = c.post("/v1/videos", json=body, headers=AUTH).json()["id"]
        assert used(c) == COST
    with serve("--state", str(state), logs=tmp_path / "second") as served, served.client() as c:
        assert used(c) == COST  # the balance and the task's charge kept
        statuses = [c.get(f"/v1/videos/{video_id}", headers=AUTH).json()["status"] for _ in "ab"]
        assert statuses == ["in_progress", "failed"]
        assert used(c) == 0
