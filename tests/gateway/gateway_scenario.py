"""The scenario the gateway tests share: users, keys and prices (keys written out, so tests
can use them; a derived key is tested separately)."""

from __future__ import annotations

import functools
from typing import Any

import httpx

KEYS = {
    "main": "sk-main0000000000000000000000000000000000000000000",
    "small": "sk-small000000000000000000000000000000000000000000",
    "limited": "sk-limited0000000000000000000000000000000000000000",
    "off": "sk-off00000000000000000000000000000000000000000000",
    "old": "sk-old00000000000000000000000000000000000000000000",
    "ipbound": "sk-ipbound0000000000000000000000000000000000000000",
    "vip": "sk-vip00000000000000000000000000000000000000000000",
    "poor": "sk-poor000000000000000000000000000000000000000000",
}
ALICE_ACCESS = "alice-access-token"
BOB_ACCESS = "bob-access-token"
REPLY = "Hello there, friend."

SCENARIO = f"""
version: 1
seed: 7
rules:
  - name: hello
    match: {{last_user: {{contains: "hello"}}}}
    reply: {{content: "{REPLY}"}}
gateway:
  groups: {{default: 1, vip: 0.5}}
  users:
    - {{id: 1, username: alice, quota: 100000000, access_token: {ALICE_ACCESS}}}
    - {{id: 2, username: bob, group: vip, quota: 100000000, access_token: {BOB_ACCESS}}}
    - {{id: 3, username: carol, quota: 0}}
  models:
    gpt-4o-mini: {{model_ratio: 0.075, completion_ratio: 4}}
    claude-3-5-haiku-20241022: {{model_ratio: 0.4, completion_ratio: 5}}
    gpt-4o: {{model_ratio: 1.25, completion_ratio: 4, groups: [vip]}}
    text-embedding-3-small: {{model_ratio: 0.01}}
    gpt-4.1: {{model_price: 0.02}}
    gpt-3.5-turbo-instruct: {{model_ratio: 0.75, completion_ratio: 1.33}}
    gemini-2.5-flash: {{model_ratio: 0.15, completion_ratio: 8.33}}
  tokens:
    - {{name: main, key: {KEYS["main"]}, remain_quota: 1000000}}
    - {{name: small, key: {KEYS["small"]}, remain_quota: 1500}}
    - {{name: limited, key: {KEYS["limited"]}, unlimited_quota: true, model_limits: [gpt-4o-mini]}}
    - {{name: "off", key: {KEYS["off"]}, status: disabled, unlimited_quota: true}}
    - {{name: old, key: {KEYS["old"]}, expired_time: 1000, unlimited_quota: true}}
    - {{name: ipbound, key: {KEYS["ipbound"]}, allow_ips: ["10.1.2.3"], unlimited_quota: true}}
    - {{name: vip, user: 2, key: {KEYS["vip"]}, unlimited_quota: true}}
    - {{name: poor, user: 3, key: {KEYS["poor"]}, unlimited_quota: true}}
"""


class _Http:
    """`httpx.get/post/...` with a long timeout (a loaded machine can take seconds to answer:
    no test here is about time), each call on a fresh connection (no connection outlives a
    test's server)."""

    def __getattr__(self, method: str) -> Any:
        return functools.partial(getattr(httpx, method), timeout=60.0)


http = _Http()
