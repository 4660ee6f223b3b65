"""Quota as new-api computes it (`relay/helper/price.go`, `service/text_quota.go`).

500,000 quota is $1 (`common.QuotaPerUnit`). Per-token models:

    quota = (prompt − cached − image + cached × cache_ratio + image × image_ratio
             + completion × completion_ratio) × model_ratio × group_ratio

rounded half away from zero (shopspring/decimal's `Round(0)`), at least 1 when the ratio is
not 0, and 0 when no token was counted at all. Fixed-price models: `model_price × 500000 ×
group_ratio`. The pre-charge before the answer is `(max(prompt, 500) + max_tokens) ×
model_ratio × group_ratio`, truncated (`int(...)`), or the fixed price.

Ratios are read as decimals from their shortest repr, as `decimal.NewFromFloat` does.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

from msgspec import Struct

QUOTA_PER_UNIT = 500_000  # quota per dollar
PRE_CONSUMED_TOKENS = 500  # common.PreConsumedQuota: the least a pre-charge counts


class Price(Struct, frozen=True):
    """One model's price for one group."""

    group_ratio: float
    model_ratio: float = 0.0
    completion_ratio: float = 1.0
    cache_ratio: float = 1.0
    image_ratio: float = 1.0
    audio_ratio: float = 1.0
    audio_completion_ratio: float = 1.0
    model_price: float | None = None  # dollars per call

    @property
    def free(self) -> bool:
        per_call = self.model_price if self.model_price is not None else self.model_ratio
        return self.group_ratio == 0 or per_call == 0


@functools.lru_cache(maxsize=1024)  # a scenario's handful of ratios, read on every bill
def _d(value: float | int) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def pre_consume(price: Price, prompt_tokens: int, max_tokens: int | None) -> int:
    """The quota taken before the answer (`ModelPriceHelper`)."""
    if price.free:
        return 0
    if price.model_price is not None:
        return int(price.model_price * QUOTA_PER_UNIT * price.group_ratio)
    tokens = max(prompt_tokens, PRE_CONSUMED_TOKENS) + (max_tokens or 0)
    return int(tokens * (price.model_ratio * price.group_ratio))


@functools.lru_cache(maxsize=4096)  # a replayed answer has the same usage every time
def quota(
    price: Price,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    image_tokens: int = 0,
) -> int:
    """The quota a finished request costs (`calculateTextQuotaSummary`)."""
    ratio = _d(price.model_ratio) * _d(price.group_ratio)
    if price.model_price is not None:
        total = _d(price.model_price) * QUOTA_PER_UNIT * _d(price.group_ratio)
        result = int(total.quantize(Decimal(1), ROUND_HALF_UP))
    else:
        base = Decimal(prompt_tokens - cached_tokens - image_tokens)
        prompt = base + Decimal(cached_tokens) * _d(price.cache_ratio)
        if image_tokens:
            prompt += Decimal(image_tokens) * _d(price.image_ratio)
        total = (prompt + Decimal(completion_tokens) * _d(price.completion_ratio)) * ratio
        if ratio != 0 and total <= 0:
            total = Decimal(1)
        result = int(total.quantize(Decimal(1), ROUND_HALF_UP))
    if prompt_tokens + completion_tokens == 0:
        return 0
    if ratio != 0 and result == 0:
        return 1
    return result


def dollars(quota_amount: int) -> float:
    return quota_amount / QUOTA_PER_UNIT


def format_quota(quota_amount: int) -> str:
    """new-api's `logger.FormatQuota` with the default USD display: `＄0.001000`."""
    return f"＄{quota_amount / QUOTA_PER_UNIT:.6f}"
