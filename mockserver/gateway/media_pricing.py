"""What pictures and audio cost in gateway mode, as new-api bills its image and audio relays
(commit 9f8a4ec: `relay/image_handler.go`, `dto/openai_image.go`, `relay/audio_handler.go`,
`relay/channel/openai/audio.go`, `service/token_counter.go`, `service/quota.go`).

Pictures (`ImageHelper`): a fixed-price model's price is first multiplied by the size and
quality ratio of DALL·E (`image_price_ratio`); the pre-charge is that price × 500000 × group
ratio, and the bill multiplies it by `n` as well. A per-token model is pre-charged
`(max(prompt, 500) + 1584) × ratio` and billed from the answer's usage (gpt-image's tokens;
1 prompt token when the answer has none), without `n`.

Speech (`OpenaiTTSHandler`): the input counted in characters (in tokens for `gpt` models),
the answer's audio in tokens of `ceil(seconds) / 60 × 1000`, billed by `calculateAudioQuota`
(`audio_ratio`, `audio_completion_ratio`); a streamed answer by its usage, as text.
Transcription (`EstimateRequestToken`): the uploaded audio counted the same way; billed from
the answer's usage when it has token counts, else from that estimate, as text.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mockserver.core.reply import Usage
from mockserver.gateway import pricing
from mockserver.gateway.pricing import QUOTA_PER_UNIT, Price, _d

IMAGE_MAX_TOKENS = 1584  # `ImageRequest.GetTokenCountMeta`: the completion a pre-charge counts
_DALL_E_SIZES = {"256x256": 0.4, "512x512": 0.45, "1024x1024": 1.0}
_DALL_E_TALL = ("1024x1792", "1792x1024")

# new-api's default audio ratios (`setting/ratio_setting/model_ratio.go`), for models whose
# scenario entry doesn't set them.
DEFAULT_AUDIO_RATIO = {
    "gpt-4o-audio-preview": 16.0,
    "gpt-4o-mini-audio-preview": 66.67,
    "gpt-4o-realtime-preview": 8.0,
    "gpt-4o-mini-realtime-preview": 16.67,
    "gpt-4o-mini-tts": 25.0,
}
DEFAULT_AUDIO_COMPLETION_RATIO = {
    "gpt-4o-realtime": 2.0,
    "gpt-4o-mini-realtime": 2.0,
    "gpt-4o-mini-tts": 1.0,
    "tts-1": 0.0,
    "tts-1-hd": 0.0,
    "tts-1-1106": 0.0,
    "tts-1-hd-1106": 0.0,
}


def image_price_ratio(model: str, size: Any, quality: Any) -> float:
    """DALL·E's size × quality ratio on a fixed price, from the request as sent (1 for any
    other model, and for a size it doesn't know)."""
    if not model.startswith("dall-e"):
        return 1.0
    size_ratio = 2.0 if size in _DALL_E_TALL else _DALL_E_SIZES.get(str(size), 1.0)
    quality_ratio = 1.0
    if model == "dall-e-3" and quality == "hd":
        quality_ratio = 1.5 if size in _DALL_E_TALL else 2.0
    return size_ratio * quality_ratio


def image_pre_charge(price: Price, prompt_tokens: int, price_ratio: float) -> int:
    """The quota taken before the pictures are made (`n` not counted yet)."""
    if price.free:
        return 0
    if price.model_price is not None:
        return int(price.model_price * price_ratio * QUOTA_PER_UNIT * price.group_ratio)
    return pricing.pre_consume(price, prompt_tokens, IMAGE_MAX_TOKENS)


def image_usage(usage: dict[str, Any] | None) -> tuple[Usage, int]:
    """The answer's usage as `OpenaiHandlerWithUsage` reads it (`input_tokens` and
    `output_tokens` of gpt-image, or `prompt_tokens`/`completion_tokens`; 1 prompt token
    when there is none, as `ImageHelper` sets), and its input image tokens."""
    usage = usage or {}
    prompt = int(usage.get("prompt_tokens") or 0) + int(usage.get("input_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0) + int(usage.get("output_tokens") or 0)
    details = usage.get("input_tokens_details") or {}
    return Usage(max(prompt, 1), completion), int(details.get("image_tokens") or 0)


def image_quota(price: Price, price_ratio: float, n: int, usage: Usage, image_tokens: int) -> int:
    """What the pictures cost: the fixed price × ratio × 500000 × group × n, or the usage by
    the text formula (input image tokens at `image_ratio`)."""
    if price.model_price is not None:
        total = (
            _d(price.model_price * price_ratio)
            * QUOTA_PER_UNIT
            * _d(price.group_ratio)
            * _d(float(n))
        )
        return int(total.quantize(Decimal(1), ROUND_HALF_UP))
    return pricing.quota(price, usage.prompt_tokens, usage.completion_tokens, 0, image_tokens)


def audio_tokens(seconds: float) -> int:
    """new-api's audio tokens: 1000 a minute, whole seconds rounded up."""
    return _round_half_away(math.ceil(seconds) / 60.0 * 1000)


def speech_input_tokens(text: str, model: str, count: Any) -> int:
    """The text to speak as `AudioRequest.GetTokenCountMeta` counts it: characters, or
    tokens (`count`) for a `gpt` model."""
    return int(count(text)) if "gpt" in model else len(text)


def speech_quota(price: Price, text_tokens: int, audio_output_tokens: int) -> int:
    """`calculateAudioQuota` for a speech answer: its text in, its audio out."""
    total_tokens = text_tokens + audio_output_tokens
    if total_tokens == 0:
        return 0
    if price.model_price is not None:
        quota = _d(price.model_price) * QUOTA_PER_UNIT * _d(price.group_ratio)
        return int(quota)  # `IntPart`: truncated
    ratio = _d(price.group_ratio) * _d(price.model_ratio)
    audio = Decimal(audio_output_tokens) * _d(price.audio_ratio) * _d(price.audio_completion_ratio)
    quota = (Decimal(text_tokens) + audio) * ratio
    if ratio != 0 and quota <= 0:
        quota = Decimal(1)
    return int(quota.quantize(Decimal(1), ROUND_HALF_UP))


def transcription_usage(answer: Any, estimate: int) -> Usage:
    """`OpenaiSTTHandler`: the answer's token counts when its JSON has them (gpt transcribe
    models), else the uploaded audio's estimate as the prompt."""
    usage = answer.get("usage") if isinstance(answer, dict) else None
    if isinstance(usage, dict) and int(usage.get("total_tokens") or 0) > 0:
        prompt = int(usage.get("prompt_tokens") or 0) or int(usage.get("input_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0) or int(
            usage.get("output_tokens") or 0
        )
        return Usage(prompt, completion)
    return Usage(estimate, 0)


def _round_half_away(value: float) -> int:
    """Go's `math.Round`."""
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)
