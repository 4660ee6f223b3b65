"""The `gateway:` section: validation with located errors, derived keys, one section per set."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mockserver.gateway.accounts import derive_key
from mockserver.gateway.admission import Caller, Gateway
from mockserver.gateway.errors import GatewayError
from mockserver.scenario.issues import ScenarioError
from mockserver.scenario.loader import load_text
from mockserver.scenario.scenario_set import load_paths
from mockserver.store import MemoryStore


def issues_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_text(textwrap.dedent(text), "x.yaml")
    return [str(issue) for issue in caught.value.issues]


def set_issues(tmp_path: Path, *texts: str) -> list[str]:
    paths = []
    for number, text in enumerate(texts):
        path = tmp_path / f"s{number}.yaml"
        path.write_text(textwrap.dedent(text))
        paths.append(path)
    with pytest.raises(ScenarioError) as caught:
        load_paths(paths)
    return [str(issue) for issue in caught.value.issues]


def test_unknown_key_names_the_nearest() -> None:
    (issue,) = issues_of(
        """
        version: 1
        gateway:
          tokens:
            - {name: a, remain_quota: 10, statu: enabled}
        """
    )
    assert issue.startswith("x.yaml:5:35: unknown key 'statu' at gateway.tokens[0]; did you mean")


def test_ratio_or_price() -> None:
    (issue,) = issues_of(
        """
        version: 1
        gateway:
          models:
            m: {model_ratio: 1, model_price: 2}
        """
    )
    assert issue.startswith("x.yaml:5:8: gateway.models.m: a priced model needs exactly one of")


def test_enabled_token_needs_quota() -> None:
    (issue,) = issues_of(
        """
        version: 1
        gateway:
          tokens:
            - {name: a}
        """
    )
    assert "token 'a' says nothing of its quota" in issue
    spent = "version: 1\ngateway:\n  tokens:\n    - {name: a, remain_quota: 0}\n"
    assert load_text(spent, "x").gateway is not None  # a key already spent, on purpose


def test_references_are_located(tmp_path: Path) -> None:
    issues = set_issues(
        tmp_path,
        """
        version: 1
        gateway:
          models:
            m: {model_ratio: 1}
          tokens:
            - {name: ok, remain_quota: 10}
            - {name: a, remain_quota: 10, user: 5, model_limits: [m, n], group: gold}
        """,
    )
    assert issues == [
        f"{tmp_path}/s0.yaml:8:41: token 'a' belongs to user 5, which gateway.users does not "
        "list (ids: 1)",
        f"{tmp_path}/s0.yaml:8:73: token 'a' is in group 'gold', which gateway.groups does not "
        "list (groups: default)",
        f"{tmp_path}/s0.yaml:8:62: token 'a' limits to model 'n', which gateway.models does not "
        "price (priced: m)",
    ]


def test_one_gateway_section_per_set(tmp_path: Path) -> None:
    section = "version: 1\ngateway: {}\n"
    (issue,) = set_issues(tmp_path, section, section)
    assert issue.startswith(f"{tmp_path}/s1.yaml:2:10: a second gateway section")


def test_keys_are_derived_from_the_seed_when_not_given() -> None:
    scenario = load_text(
        "version: 1\nseed: 3\ngateway:\n  tokens:\n    - {name: ci, remain_quota: 5}\n", "x"
    )
    assert scenario.gateway is not None
    gateway = Gateway(scenario.gateway, 3, 0, MemoryStore())
    key = gateway.keys["ci"]
    assert key == "sk-" + derive_key(3, "ci", 1)
    assert len(key) == 51
    assert Gateway(scenario.gateway, 3, 0, MemoryStore()).keys["ci"] == key
    assert Gateway(scenario.gateway, 4, 0, MemoryStore()).keys["ci"] != key


def test_auto_groups_are_checked_against_the_groups(tmp_path: Path) -> None:
    issues = set_issues(
        tmp_path,
        """
        version: 1
        gateway:
          groups: {default: 1, vip: 0.5}
          auto_groups: [vip, gold]
          tokens:
            - {name: a, remain_quota: 10, group: auto}
        """,
    )
    assert issues == [
        f"{tmp_path}/s0.yaml:5:22: auto_groups names group 'gold', which gateway.groups does "
        "not list (groups: default, vip)"
    ]


def auto_caller(auto_groups: str) -> tuple[Gateway, Caller]:
    text = (
        "version: 1\ngateway:\n  groups: {default: 1, vip: 0.5}\n"
        f"  auto_groups: {auto_groups}\n"
        "  user_usable_groups: {default: d, vip: v, auto: a}\n"
        "  models:\n    m: {model_ratio: 1, groups: [vip]}\n"
        "  tokens:\n    - {name: a, key: sk-autoauto1, unlimited_quota: true, group: auto}\n"
    )
    scenario = load_text(text, "x")
    assert scenario.gateway is not None
    gateway = Gateway(scenario.gateway, 1, 0, MemoryStore())
    scope = {
        "path": "/v1/chat/completions",
        "headers": [(b"authorization", b"Bearer sk-autoauto1")],
    }
    return gateway, gateway.authenticate(scope)  # type: ignore[arg-type]


def test_an_auto_token_takes_the_first_auto_group_serving_the_model() -> None:
    gateway, caller = auto_caller("[default, vip]")
    assert caller.group == "auto"
    charge = gateway.admit(caller, "m", 10, None)
    assert (charge.group, charge.price.group_ratio) == ("vip", 0.5)


@pytest.mark.parametrize(
    ("auto_groups", "message"),
    [
        ("[default]", "No available channel for model m under group auto (distributor)"),
        (
            "[]",
            "Failed to get available channel for model m under group auto(auto) "
            "(distributor): auto groups is not enabled",
        ),
    ],
)
def test_no_auto_group_serving_the_model_is_the_distributors_503(
    auto_groups: str, message: str
) -> None:
    gateway, caller = auto_caller(auto_groups)
    with pytest.raises(GatewayError) as caught:
        gateway.admit(caller, "m", 10, None)
    assert caught.value.status == 503
    assert caught.value.body["error"]["code"] == "model_not_found"
    assert caught.value.body["error"]["message"].startswith(message + " (request id: ")
