"""What the gateway's middleware decides before the relay reads a request
(`mockserver.gateway.access`), in-process: the token's group against `UserUsableGroups`,
`auto` groups filtered by it, the System API's view of them, and the scenario's setting."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mockserver.gateway import access
from mockserver.gateway.admission import Caller, Gateway
from mockserver.gateway.errors import GatewayError
from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_text
from mockserver.scenario.scenario_set import load_paths
from mockserver.store import MemoryStore

GROUPS = """
version: 1
gateway:
  groups: {default: 1, vip: 0.5, svip: 0.8}
  auto_groups: [svip, vip, default]
  users:
    - {id: 1, username: alice}
    - {id: 2, username: sam, group: svip}
  models:
    m: {model_ratio: 1}
    only-default: {model_ratio: 1, groups: [default]}
  tokens:
    - {name: auto, key: sk-autoauto01, unlimited_quota: true, group: auto}
    - {name: svip, key: sk-svipsvip01, unlimited_quota: true, group: svip}
    - {name: vip, key: sk-vipvip0001, unlimited_quota: true, group: vip}
    - {name: sam-auto, user: 2, key: sk-samauto001, unlimited_quota: true, group: auto}
    - {name: own, key: sk-ownown0001, unlimited_quota: true}
"""
USABLE_WITH_AUTO = "  user_usable_groups: {default: 默认分组, vip: vip分组, auto: 自动选择}\n"


def gateway_of(text: str) -> Gateway:
    scenario = load_text(text, "x.yaml")
    assert scenario.gateway is not None
    return Gateway(scenario.gateway, 1, 0, MemoryStore())


def caller(gateway: Gateway, key: str) -> Caller:
    scope = {
        "path": "/v1/chat/completions",
        "headers": [(b"authorization", f"Bearer {key}".encode())],
    }
    return gateway.authenticate(scope)  # type: ignore[arg-type]


def refusal(gateway: Gateway, key: str) -> tuple[int, str]:
    with pytest.raises(GatewayError) as caught:
        caller(gateway, key)
    error = caught.value
    assert set(error.body["error"]) == {"message", "type", "code"}  # abortWithOpenAiMessage
    assert error.body["error"]["code"] == ""
    message: str = error.body["error"]["message"]
    return error.status, message.split(" (request id: ")[0]


def test_the_default_setting_is_new_apis_and_refuses_auto() -> None:
    gateway = gateway_of(GROUPS)
    assert gateway.spec.user_usable_groups == {"default": "默认分组", "vip": "vip分组"}
    assert refusal(gateway, "sk-autoauto01") == (403, "无权访问 auto 分组")
    assert refusal(gateway, "sk-svipsvip01") == (403, "无权访问 svip 分组")
    assert caller(gateway, "sk-vipvip0001").group == "vip"
    assert caller(gateway, "sk-ownown0001").group == "default"  # no group: the user's own


def test_a_users_own_group_is_always_usable() -> None:
    gateway = gateway_of(GROUPS)
    assert access.usable_groups(gateway.spec, "svip") == {
        "default": "默认分组",
        "vip": "vip分组",
        "svip": "用户分组",
    }
    gateway.create_token("mine", user_id=2, unlimited_quota=True, group="svip")
    token = gateway.token_named("mine")
    assert token is not None
    assert caller(gateway, "sk-" + token.key).group == "svip"


def test_auto_listed_is_usable_and_tries_only_usable_auto_groups() -> None:
    gateway = gateway_of(GROUPS + USABLE_WITH_AUTO)
    alice = caller(gateway, "sk-autoauto01")
    assert access.auto_groups(gateway.spec, "default") == ["vip", "default"]  # svip: not hers
    charge = gateway.admit(alice, "m", 10, None)
    assert (charge.group, charge.price.group_ratio) == ("vip", 0.5)
    sam = caller(gateway, "sk-samauto001")
    charge = gateway.admit(sam, "m", 10, None)
    assert (charge.group, charge.price.group_ratio) == ("svip", 0.8)
    assert gateway.admit(alice, "only-default", 10, None).group == "default"


def test_no_usable_auto_group_serving_the_model_is_the_distributors_503() -> None:
    text = GROUPS.replace(
        "only-default: {model_ratio: 1, groups: [default]}", "x: {model_ratio: 1, groups: [svip]}"
    )
    gateway = gateway_of(text + USABLE_WITH_AUTO)
    with pytest.raises(GatewayError) as caught:
        gateway.admit(caller(gateway, "sk-autoauto01"), "x", 10, None)
    assert caught.value.status == 503
    message = caught.value.body["error"]["message"]
    assert message.startswith("No available channel for model x under group auto (distributor) (")
    assert gateway.admit(caller(gateway, "sk-samauto001"), "x", 10, None).group == "svip"


def test_a_usable_group_without_a_ratio_is_deprecated() -> None:
    """A token the System API gave a group the setting lists but no ratio prices."""
    gateway = gateway_of("version: 1\ngateway:\n  models:\n    m: {model_ratio: 1}\n")
    gateway.create_token("old", unlimited_quota=True, group="vip")
    token = gateway.token_named("old")
    assert token is not None
    assert refusal(gateway, "sk-" + token.key) == (403, "分组 vip 已被弃用")


def test_user_groups_as_the_system_api_shows_them() -> None:
    gateway = gateway_of(GROUPS + USABLE_WITH_AUTO)
    assert access.user_groups(gateway.spec, "default") == {
        "auto": {"ratio": "自动", "desc": "自动选择"},
        "default": {"ratio": 1, "desc": "默认分组"},
        "vip": {"ratio": 0.5, "desc": "vip分组"},
    }
    assert access.user_groups(gateway.spec, "svip")["svip"] == {"ratio": 0.8, "desc": "用户分组"}


def test_the_setting_replaces_the_default() -> None:
    gateway = gateway_of(GROUPS + "  user_usable_groups: {default: d, auto: a}\n")
    assert refusal(gateway, "sk-vipvip0001") == (403, "无权访问 vip 分组")
    assert caller(gateway, "sk-autoauto01").group == "auto"


def test_listed_groups_are_checked_against_the_groups(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent(
            """
            version: 1
            gateway:
              groups: {default: 1, vip: 0.5}
              user_usable_groups: {default: d, auto: a, gold: g}
            """
        )
    )
    with pytest.raises(ScenarioError) as caught:
        load_paths([path])
    assert [str(issue) for issue in caught.value.issues] == [
        f"{path}:5:51: user_usable_groups names group 'gold', which gateway.groups does not "
        "list (groups: default, vip; or auto)"
    ]


def test_a_wrong_kind_of_setting_is_located() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_text("version: 1\ngateway:\n  user_usable_groups: 5\n", "x.yaml")
    assert [str(issue) for issue in caught.value.issues] == [
        "x.yaml:3:23: gateway.user_usable_groups: expected a mapping; got 5"
    ]
    with pytest.raises(ScenarioError) as caught:
        load_text("version: 1\ngateway:\n  user_usable_groups: {auto: 5}\n", "x.yaml")
    assert [str(issue) for issue in caught.value.issues] == [
        "x.yaml:3:30: gateway.user_usable_groups.auto: expected a string; got 5"
    ]
