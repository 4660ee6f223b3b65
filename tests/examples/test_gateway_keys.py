"""How to: test code against the gateway's keys and quotas.

A scenario with a `gateway:` section turns gateway mode on: every request needs a key, and
each is billed as the gateway bills it (500,000 quota = $1). The handle makes keys and reads
their balance; the journal says which key paid for each request.
"""

from __future__ import annotations

import httpx
import openai
import pytest

from mockserver.testing.handle import MockServer

GATEWAY = """
version: 1
gateway:
  models:
    gpt-4o-mini: {model_ratio: 0.075, completion_ratio: 4}
"""


def test_a_key_with_a_quota(mockserver: MockServer) -> None:
    mockserver.load(GATEWAY)
    key = mockserver.create_key("ci", quota=500_000)
    client = mockserver.openai_client(api_key=key)

    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}]
    )

    spent = mockserver.spent("ci")
    assert spent > 0
    assert mockserver.balance("ci") == 500_000 - spent
    (paid,) = mockserver.requests(key_name="ci")
    assert (paid.quota, paid.cost) == (spent, spent / 500_000)
    mockserver.assert_called(key_name="ci", times=1)


def test_a_key_that_runs_out(mockserver: MockServer) -> None:
    mockserver.load(GATEWAY)
    key = mockserver.create_key("tiny", quota=40)
    client = mockserver.openai_client(api_key=key, max_retries=0)
    answered = 0
    with pytest.raises(openai.PermissionDeniedError) as refused:
        for _ in range(10):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}]
            )
            answered += 1
    # Each request is pre-charged int(500 tokens × 0.075) = 37 before it is answered: the
    # first fits in 40, the second doesn't once the first has been paid for.
    assert answered == 1
    assert "token quota is not enough" in str(refused.value)
    assert mockserver.balance("tiny") == 40 - mockserver.spent("tiny") < 37


def test_the_admin_api_makes_keys_and_reads_balances(mockserver: MockServer) -> None:
    mockserver.load(GATEWAY)
    with httpx.Client(base_url=mockserver.url, timeout=30) as admin:
        made = admin.post("/_mock/gateway/keys", json={"name": "script", "remain_quota": 1000})
        key = made.json()["key"]
        assert key.startswith("sk-") and made.json()["remain_quota"] == 1000
        admin.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        )
        balance = admin.get("/_mock/gateway/keys/script").json()
        usage = admin.get("/_mock/gateway/usage", params={"key_name": "script"}).json()
        journal = admin.get("/_mock/requests", params={"key_name": "script"}).json()
    assert balance["remain_quota"] == 1000 - balance["spent"]
    assert [u["quota"] for u in usage["usage"]] == [balance["spent"]]
    assert journal["count"] == 1
    assert journal["requests"][0]["quota"] == balance["spent"]


def test_gateway_mode_is_off_by_default(mockserver: MockServer) -> None:
    with pytest.raises(RuntimeError, match="gateway mode is off"):
        mockserver.create_key("ci", quota=1)
    off = httpx.post(f"{mockserver.url}/_mock/gateway/keys", json={"name": "x"}, timeout=30)
    assert off.status_code == 409


def test_each_test_starts_from_the_scenario_balances(mockserver: MockServer) -> None:
    """The same scenario in another test (the first one above spent from "ci"): fresh keys."""
    mockserver.load(GATEWAY)
    with pytest.raises(KeyError):
        mockserver.balance("ci")  # made by another test: gone with it
