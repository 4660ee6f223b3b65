"""new-api's quota arithmetic (`service/text_quota.go`, `relay/helper/price.go`)."""

from __future__ import annotations

from mockserver.gateway.pricing import Price, dollars, format_quota, pre_consume, quota


def test_per_token_quota() -> None:
    price = Price(group_ratio=1, model_ratio=0.075, completion_ratio=4)
    assert quota(price, 100, 50) == 23  # (100 + 200) × 0.075 = 22.5 → 23 (half away from 0)
    assert quota(Price(group_ratio=0.5, model_ratio=1.25, completion_ratio=4), 9, 7) == 23


def test_at_least_one_and_zero_without_tokens() -> None:
    price = Price(group_ratio=1, model_ratio=0.0001)
    assert quota(price, 1, 1) == 1
    assert quota(price, 0, 0) == 0


def test_cached_tokens_at_their_ratio() -> None:
    price = Price(group_ratio=1, model_ratio=1, cache_ratio=0.5)
    assert quota(price, 100, 0, cached_tokens=40) == 80  # 60 + 40 × 0.5


def test_fixed_price() -> None:
    price = Price(group_ratio=0.5, model_price=0.04)
    assert quota(price, 10, 10) == 10_000
    assert pre_consume(price, 10, None) == 10_000


def test_pre_consume_counts_at_least_500_tokens_and_max_tokens() -> None:
    price = Price(group_ratio=1, model_ratio=0.075)
    assert pre_consume(price, 20, None) == 37  # int(500 × 0.075)
    assert pre_consume(price, 1000, 100) == 82  # int(1100 × 0.075)
    assert pre_consume(Price(group_ratio=0, model_ratio=1), 1000, None) == 0  # free group


def test_money() -> None:
    assert dollars(500_000) == 1.0
    assert format_quota(37) == "＄0.000074"
