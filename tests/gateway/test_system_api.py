"""The System API in gateway mode: new-api's auth, envelope, paging, masking and validation
messages, over raw HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import openai
import pytest

from tests.gateway.gateway_scenario import ALICE_ACCESS, KEYS, SCENARIO, http

if TYPE_CHECKING:
    from mockserver.http.server_thread import ServerThread

ALICE = {"Authorization": ALICE_ACCESS, "New-Api-User": "1"}


@pytest.fixture
def server(start_server: Callable[..., ServerThread]) -> ServerThread:
    return start_server(SCENARIO)


def api(server: ServerThread, method: str, path: str, **options: Any) -> httpx.Response:
    options.setdefault("headers", ALICE)
    return http.request(method, f"{server.url}{path}", **options)


# --- Auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ({}, 401, "Unauthorized, not logged in and no access token provided"),
        ({"Authorization": "wrong"}, 200, "Unauthorized, invalid access token"),
        ({"Authorization": ALICE_ACCESS}, 401, "Unauthorized, New-Api-User header not provided"),
        (
            {"Authorization": ALICE_ACCESS, "New-Api-User": "x"},
            401,
            "Unauthorized, New-Api-User header format error",
        ),
        (
            {"Authorization": ALICE_ACCESS, "New-Api-User": "2"},
            401,
            "Unauthorized, New-Api-User does not match logged in user",
        ),
    ],
)
def test_user_auth(
    server: ServerThread, headers: dict[str, str], status: int, message: str
) -> None:
    response = api(server, "GET", "/api/token/", headers=headers)
    assert response.status_code == status
    assert response.json() == {"success": False, "message": message}


def test_bearer_prefix_on_the_access_token_is_accepted(server: ServerThread) -> None:
    headers = {"Authorization": f"Bearer {ALICE_ACCESS}", "New-Api-User": "1"}
    assert api(server, "GET", "/api/user/self", headers=headers).json()["success"] is True


# --- Tokens ----------------------------------------------------------------------------------


def test_list_is_paged_newest_first_with_masked_keys(server: ServerThread) -> None:
    body = api(server, "GET", "/api/token/?p=1&page_size=2").json()
    assert body["success"] is True and body["message"] == ""
    page = body["data"]
    assert (page["page"], page["page_size"], page["total"]) == (1, 2, 6)  # alice's six
    names = [item["name"] for item in page["items"]]
    assert names == ["ipbound", "old"]
    key = KEYS["ipbound"].removeprefix("sk-")
    assert page["items"][0]["key"] == key[:4] + "**********" + key[-4:]
    second = api(server, "GET", "/api/token/?p=2&size=2").json()["data"]
    assert [i["name"] for i in second["items"]] == ["off", "limited"]
    capped = api(server, "GET", "/api/token/?ps=500").json()["data"]
    assert capped["page_size"] == 100


def test_token_object_fields(server: ServerThread) -> None:
    token = api(server, "GET", "/api/token/3").json()["data"]
    assert token["name"] == "limited"
    assert token["model_limits_enabled"] is True
    assert token["model_limits"] == "gpt-4o-mini"
    assert token["status"] == 1
    assert token["expired_time"] == -1
    assert set(token) >= {
        "id", "user_id", "key", "status", "name", "created_time", "accessed_time",
        "expired_time", "remain_quota", "unlimited_quota", "model_limits_enabled",
        "model_limits", "allow_ips", "used_quota", "group",
    }  # fmt: skip


def test_get_errors(server: ServerThread) -> None:
    assert api(server, "GET", "/api/token/999").json() == {
        "success": False,
        "message": "record not found",
    }
    assert api(server, "GET", "/api/token/abc").json()["message"] == (
        'strconv.Atoi: parsing "abc": invalid syntax'
    )
    bobs = api(server, "GET", "/api/token/7").json()  # bob's token: not alice's to see
    assert bobs["message"] == "record not found"


def test_full_key(server: ServerThread) -> None:
    body = api(server, "POST", "/api/token/1/key").json()
    assert body == {"success": True, "message": "", "data": {"key": KEYS["main"][3:]}}


def test_search(server: ServerThread) -> None:
    found = api(server, "GET", "/api/token/search?keyword=limited").json()["data"]
    assert [i["name"] for i in found["items"]] == ["limited"]
    fuzzy = api(server, "GET", "/api/token/search?keyword=%25i%25d").json()["data"]
    assert [i["name"] for i in fuzzy["items"]] == ["ipbound", "limited"]
    short = api(server, "GET", "/api/token/search?keyword=%25i%25").json()["message"]
    assert short == "when using fuzzy search, the keyword must be at least 2 characters long"
    by_key = api(server, "GET", f"/api/token/search?token={KEYS['small']}").json()["data"]
    assert [i["name"] for i in by_key["items"]] == ["small"]
    bad = api(server, "GET", "/api/token/search?keyword=%25%25ab").json()
    assert bad == {
        "success": False,
        "message": "consecutive % wildcards are not allowed in the search pattern",
    }


def test_add_then_use_a_new_key(server: ServerThread) -> None:
    added = api(server, "POST", "/api/token/", json={"name": "ci", "remain_quota": 500000})
    assert added.json() == {"success": True, "message": ""}
    listed = api(server, "GET", "/api/token/search?keyword=ci").json()["data"]["items"]
    assert listed[0]["remain_quota"] == 500000
    key = api(server, "POST", f"/api/token/{listed[0]['id']}/key").json()["data"]["key"]
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=f"sk-{key}")
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )
    after = api(server, "GET", f"/api/token/{listed[0]['id']}").json()["data"]
    assert after["used_quota"] > 0
    assert after["remain_quota"] == 500000 - after["used_quota"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x" * 51}, "Token name is too long"),
        ({"name": "neg", "remain_quota": -1}, "Quota value cannot be negative"),
        (
            {"name": "huge", "remain_quota": 10**18},
            "Quota value exceeds valid range, maximum is 500000000000000",
        ),
    ],
)
def test_add_validation(server: ServerThread, body: dict[str, Any], message: str) -> None:
    assert api(server, "POST", "/api/token/", json=body).json() == {
        "success": False,
        "message": message,
    }


def test_update_and_status_only(server: ServerThread) -> None:
    token = api(server, "GET", "/api/token/1").json()["data"]
    changed = api(
        server, "PUT", "/api/token/", json={**token, "name": "renamed", "remain_quota": 42}
    ).json()
    assert changed["success"] is True
    assert (changed["data"]["name"], changed["data"]["remain_quota"]) == ("renamed", 42)
    disabled = api(server, "PUT", "/api/token/?status_only=1", json={"id": 1, "status": 2})
    assert disabled.json()["data"]["status"] == 2
    assert disabled.json()["data"]["name"] == "renamed"  # status_only leaves the rest
    refused = http.post(
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEYS['main']}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
    )
    assert refused.status_code == 401


def test_expired_token_cannot_be_enabled(server: ServerThread) -> None:
    # The gateway marks an expired token so when it is used.
    http.post(
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEYS['old']}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
    )
    assert api(server, "GET", "/api/token/5").json()["data"]["status"] == 3
    response = api(server, "PUT", "/api/token/?status_only=1", json={"id": 5, "status": 1})
    assert response.json()["message"].startswith("Token has expired and cannot be enabled.")


def test_delete_and_batch(server: ServerThread) -> None:
    assert api(server, "DELETE", "/api/token/2").json() == {"success": True, "message": ""}
    assert api(server, "GET", "/api/token/2").json()["message"] == "record not found"
    batch = api(server, "POST", "/api/token/batch", json={"ids": [3, 4, 7]}).json()
    assert batch == {"success": True, "message": "", "data": 2}  # 7 is bob's
    empty = api(server, "POST", "/api/token/batch", json={"ids": []}).json()
    assert empty == {"success": False, "message": "Invalid parameters"}


# --- Account, usage, billing -------------------------------------------------------------------


def test_user_self(server: ServerThread) -> None:
    data = api(server, "GET", "/api/user/self").json()["data"]
    assert (data["id"], data["username"], data["group"]) == (1, "alice", "default")
    assert data["quota"] == 100_000_000
    assert {"aff_count", "aff_quota", "aff_history_quota", "inviter_id", "setting"} <= set(data)


def test_user_models(server: ServerThread) -> None:
    models = api(server, "GET", "/api/user/models").json()["data"]
    assert models == [  # every group alice may use (vip too, by new-api's default setting)
        "gpt-4o-mini",
        "claude-3-5-haiku-20241022",
        "gpt-4o",
        "text-embedding-3-small",
        "gpt-4.1",
        "gpt-3.5-turbo-instruct",
        "gemini-2.5-flash",
    ]


def test_token_usage_route(server: ServerThread) -> None:
    response = http.get(
        f"{server.url}/api/usage/token/", headers={"Authorization": f"Bearer {KEYS['limited']}"}
    )
    assert response.json() == {
        "code": True,
        "message": "ok",
        "data": {
            "object": "token_usage",
            "name": "limited",
            "total_granted": 0,
            "total_used": 0,
            "total_available": 0,
            "unlimited_quota": True,
            "model_limits": {"gpt-4o-mini": True},
            "model_limits_enabled": True,
            "expires_at": 0,
        },
    }
    missing = http.get(f"{server.url}/api/usage/token/")
    assert (missing.status_code, missing.json()["message"]) == (401, "Token not provided")


@pytest.mark.parametrize("prefix", ["", "/v1"])
def test_billing_compat_routes(server: ServerThread, prefix: str) -> None:
    headers = {"Authorization": f"Bearer {KEYS['main']}"}
    subscription = http.get(f"{server.url}{prefix}/dashboard/billing/subscription", headers=headers)
    assert subscription.json() == {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": 2.0,
        "hard_limit_usd": 2.0,
        "system_hard_limit_usd": 2.0,
        "access_until": 0,
    }
    usage = http.get(f"{server.url}{prefix}/dashboard/billing/usage", headers=headers)
    assert usage.json() == {"object": "list", "total_usage": 0.0}
    refused = http.get(
        f"{server.url}{prefix}/dashboard/billing/usage",
        headers={"Authorization": f"Bearer {KEYS['off']}"},
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["message"].startswith("Invalid token (request id: ")


def test_a_spent_key_is_marked_exhausted_and_cannot_be_enabled(server: ServerThread) -> None:
    assert api(server, "POST", "/api/token/", json={"name": "spent"}).json()["success"]
    (token,) = api(server, "GET", "/api/token/search?keyword=spent").json()["data"]["items"]
    key = api(server, "POST", f"/api/token/{token['id']}/key").json()["data"]["key"]
    refused = http.post(
        f"{server.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer sk-{key}"},
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
    )
    assert refused.status_code == 401
    assert api(server, "GET", f"/api/token/{token['id']}").json()["data"]["status"] == 4
    enable = {"id": token["id"], "status": 1}
    response = api(server, "PUT", "/api/token/?status_only=1", json=enable).json()
    assert response["message"].startswith("Token quota is exhausted and cannot be enabled.")


def test_usage_logs(server: ServerThread) -> None:
    for key in ("main", "limited", "main"):
        response = http.post(
            f"{server.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {KEYS[key]}"},
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]},
        )
        assert response.status_code == 200
    page = api(server, "GET", "/api/log/self?p=1&page_size=2").json()["data"]
    assert (page["total"], page["page_size"]) == (3, 2)
    assert [(i["id"], i["token_name"]) for i in page["items"]] == [(1, "main"), (2, "limited")]
    item = page["items"][0]
    assert (item["username"], item["group"], item["model_name"], item["type"]) == (
        "alice",
        "default",
        "gpt-4o-mini",
        2,
    )
    assert item["quota"] > 0 and item["request_id"]
    assert "model_ratio" in item["other"]
    mains = api(server, "GET", "/api/log/self?token_name=main").json()["data"]["items"]
    assert [i["token_name"] for i in mains] == ["main", "main"]
    by_key = http.get(
        f"{server.url}/api/log/token", headers={"Authorization": f"Bearer {KEYS['main']}"}
    ).json()
    assert by_key["success"] is True
    assert [i["id"] for i in by_key["data"]] == [1, 2]  # numbered anew, newest first
