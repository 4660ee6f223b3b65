"""Gateway mode under `mockserver serve --workers 2`: both workers bill one balance, so a
small quota runs out after exactly as many requests as it pays for, none charged twice; and
`--state FILE` keeps balances across a restart."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.served import Served, serve

KEY = "sk-workersgateway00000000000000000000000000000000"
GATEWAY = f"""\
version: 1
rules:
  - name: ping
    match: {{last_user: {{contains: ping}}}}
    reply: {{content: pong}}
gateway:
  models:
    gpt-4o-mini: {{model_ratio: 0.075, completion_ratio: 4}}
  tokens:
    - {{name: shared, key: {KEY}, remain_quota: 45}}
"""
AUTH = {"authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve("--workers", "2", logs=tmp_path_factory.mktemp("gateway-workers")) as served:
        yield served


def chat(client: httpx.Client) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}
    return client.post("/v1/chat/completions", json=body, headers=AUTH)


def usage(client: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = client.get("/api/usage/token/", headers=AUTH).json()["data"]
    return data


def test_a_small_quota_is_shared_by_both_workers(two_workers: Served) -> None:
    with two_workers.client() as client:
        assert client.post("/_mock/scenarios?replace=1", content=GATEWAY).status_code == 200
        assert client.post("/_mock/reset").status_code == 200
        statuses = []
        while not statuses or statuses[-1] == 200:
            statuses.append(chat(client).status_code)
            assert len(statuses) < 100
        entries = client.get("/_mock/requests", params={"key_name": "shared"}).json()
        left = usage(client)
    served = statuses.count(200)
    # What one request costs, from its own usage and new-api's formula.
    first = entries["requests"][0]["usage"]
    cost = int(
        (
            (Decimal(first["prompt_tokens"]) + Decimal(first["completion_tokens"]) * 4)
            * Decimal("0.075")
        ).quantize(Decimal(1), ROUND_HALF_UP)
    )
    assert left["total_used"] == served * cost  # none charged twice, none lost
    assert left["total_available"] == 45 - served * cost
    assert left["total_available"] < int(500 * 0.075)  # the next pre-charge doesn't fit
    assert statuses[-1] == 403
    assert sum(e["quota"] for e in entries["requests"]) == served * cost


def test_pictures_are_billed_once_across_both_workers(two_workers: Served) -> None:
    """$0.02 × 0.4 (256x256) a picture, 14000 quota: three pictures, then the 403."""
    scenario = GATEWAY.replace("  tokens:", "    dall-e-2: {model_price: 0.02}\n  tokens:").replace(
        "remain_quota: 45", "remain_quota: 14000"
    )
    body = {"model": "dall-e-2", "prompt": "an owl", "size": "256x256"}
    with two_workers.client() as client:
        assert client.post("/_mock/scenarios?replace=1", content=scenario).status_code == 200
        assert client.post("/_mock/reset").status_code == 200
        statuses = [
            client.post("/v1/images/generations", json=body, headers=AUTH).status_code
            for _ in range(4)
        ]
        left = usage(client)
    assert statuses == [200, 200, 200, 403]
    assert (left["total_used"], left["total_available"]) == (12_000, 2_000)


def test_balances_survive_a_restart_on_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    args = ("--workers", "2", "--state", str(state))
    with serve(*args, logs=tmp_path / "first") as first, first.client() as client:
        assert client.post("/_mock/scenarios", content=GATEWAY).status_code == 200
        assert chat(client).status_code == 200
        spent = usage(client)["total_used"]
    assert spent > 0
    with serve(*args, logs=tmp_path / "second") as second, second.client() as client:
        assert usage(client)["total_used"] == spent
