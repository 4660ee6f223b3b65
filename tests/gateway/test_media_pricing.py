"""new-api's picture and audio prices, written out: DALL·E's size and quality ratios, audio
tokens from seconds, the speech formula with its default audio ratios."""

from __future__ import annotations

import pytest

from mockserver.gateway.media_pricing import (
    audio_tokens,
    image_price_ratio,
    image_quota,
    image_usage,
    speech_quota,
)
from mockserver.gateway.pricing import Price


@pytest.mark.parametrize(
    ("model", "size", "quality", "ratio"),
    [
        ("dall-e-2", "256x256", None, 0.4),
        ("dall-e-2", "512x512", None, 0.45),
        ("dall-e-3", "1024x1024", "hd", 2.0),
        ("dall-e-3", "1792x1024", "hd", 3.0),
        ("dall-e-3", "1024x1792", "standard", 2.0),
        ("dall-e-3", None, None, 1.0),
        ("gpt-image-1", "1536x1024", "high", 1.0),
    ],
)
def test_dall_e_size_and_quality_ratios(
    model: str, size: str | None, quality: str | None, ratio: float
) -> None:
    assert image_price_ratio(model, size, quality) == ratio


def test_audio_tokens_count_whole_seconds_at_1000_a_minute() -> None:
    assert [audio_tokens(s) for s in (0.2, 1.0, 2.3, 59.5, 61)] == [17, 17, 50, 1000, 1017]


def test_pictures_without_usage_count_one_prompt_token() -> None:
    usage, image_tokens = image_usage(None)
    assert (usage.prompt_tokens, usage.completion_tokens, image_tokens) == (1, 0, 0)
    per_token = Price(group_ratio=0.5, model_ratio=3.0)
    assert image_quota(per_token, 1.0, 4, usage, 0) == 2  # 1 × 3 × 0.5 = 1.5: n not counted
    fixed = Price(group_ratio=0.5, model_price=0.04)
    assert image_quota(fixed, 2.0, 3, usage, 0) == 60_000


def test_speech_by_text_and_audio_tokens() -> None:
    tts = Price(group_ratio=1.0, model_ratio=7.5, audio_completion_ratio=0.0)
    assert speech_quota(tts, 40, 50) == 300  # audio not counted for tts-1
    mini = Price(group_ratio=1.0, model_ratio=0.3, audio_ratio=25.0, audio_completion_ratio=1.0)
    assert speech_quota(mini, 10, 50) == 378  # (10 + 50 × 25) × 0.3
    fixed = Price(group_ratio=0.7, model_price=0.015)
    assert speech_quota(fixed, 10, 50) == 5250  # truncated, as `IntPart`
    assert speech_quota(fixed, 0, 0) == 0
