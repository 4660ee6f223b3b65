"""Balances kept as store counters, under `mockserver serve --workers 2 --state FILE`: clients
spending one key at once through both workers, a `PUT /api/token/` between two rounds of
spending (each worker keeps the records its key check reads: the other worker's copy must
follow), the exhausted key's 403, and the numbers after a restart."""

from __future__ import annotations

import threading
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.integration.served import Served, serve

KEY = "sk-countersgateway000000000000000000000000000000"
ACCESS = {"Authorization": "counters-access", "New-Api-User": "1"}
GATEWAY = f"""\
version: 1
rules:
  - name: ping
    match: {{last_user: {{contains: ping}}}}
    reply: {{content: pong}}
gateway:
  users:
    - {{id: 1, username: ci, quota: 100000, access_token: counters-access}}
  models:
    gpt-4o-mini: {{model_ratio: 0.075, completion_ratio: 4}}
  tokens:
    - {{name: shared, key: {KEY}, remain_quota: 120}}
"""
AUTH = {"authorization": f"Bearer {KEY}"}
PRE_CHARGE = int(500 * 0.075)  # (max(prompt, 500) + 0) × model_ratio: what must be left
CLIENTS = 4


def chat(client: httpx.Client) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}
    return client.post("/v1/chat/completions", json=body, headers=AUTH)


def spend_at_once(served: Served) -> list[int]:
    """Each of `CLIENTS` threads chats until its first refusal (a new connection a request:
    both workers answer); then one client until the key is refused with nothing in flight."""
    statuses: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        with served.client() as client:
            for _ in range(200):
                status = chat(client).status_code
                with lock:
                    statuses.append(status)
                if status != 200:
                    return

    threads = [threading.Thread(target=spend) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    with served.client() as client:
        while True:
            response = chat(client)
            statuses.append(response.status_code)
            if response.status_code != 200:
                error = response.json()["error"]
                assert (response.status_code, error["code"]) == (
                    403,
                    "pre_consume_token_quota_failed",
                )
                assert error["message"].startswith("token quota is not enough")
                break
            assert len(statuses) < 400
    assert set(statuses) == {200, 403}
    return statuses


def usage(client: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = client.get("/api/usage/token/", headers=AUTH).json()["data"]
    return data


def test_two_workers_spend_one_key_at_once_and_a_put_resets_its_balance(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    args = ("--workers", "2", "--state", str(state))
    with serve(*args, logs=tmp_path / "first") as served, served.client() as client:
        assert client.post("/_mock/scenarios?replace=1", content=GATEWAY).status_code == 200
        first = spend_at_once(served).count(200)
        entries = client.get("/_mock/requests", params={"key_name": "shared"}).json()
        usage_now = entries["requests"][0]["usage"]
        cost = int(
            (
                (Decimal(usage_now["prompt_tokens"]) + Decimal(usage_now["completion_tokens"]) * 4)
                * Decimal("0.075")
            ).quantize(Decimal(1), ROUND_HALF_UP)
        )
        left = usage(client)
        assert left["total_used"] == first * cost  # none charged twice, none lost
        assert left["total_available"] == 120 - first * cost < PRE_CHARGE

        # The System API sets a new balance; both workers' key checks follow it.
        listed = client.get("/api/token/", headers=ACCESS).json()["data"]["items"]
        token = next(t for t in listed if t["name"] == "shared")
        put = client.put("/api/token/", headers=ACCESS, json={**token, "remain_quota": 300})
        assert put.json()["success"] is True
        shown = put.json()["data"]
        assert (shown["remain_quota"], shown["used_quota"]) == (300, first * cost)
        second = spend_at_once(served).count(200)
        left = usage(client)
        assert left["total_available"] == 300 - second * cost < PRE_CHARGE
        assert left["total_used"] == (first + second) * cost
        logs = client.get("/api/log/self", headers=ACCESS, params={"ps": 100}).json()["data"]
        assert logs["total"] == first + second
        assert sum(item["quota"] for item in logs["items"][:100]) == min(first + second, 100) * cost
        user = client.get("/api/user/self", headers=ACCESS).json()["data"]
        assert (user["used_quota"], user["request_count"]) == (
            (first + second) * cost,
            first + second,
        )
        assert user["quota"] == 100000 - (first + second) * cost
        before_restart = (left, user)

    with serve(*args, logs=tmp_path / "second") as again, again.client() as client:
        user = client.get("/api/user/self", headers=ACCESS).json()["data"]
        assert (usage(client), user) == before_restart
        assert chat(client).status_code == 403  # still exhausted after the restart
