"""Gateway mode on the picture and audio routes: each route's admission (model limits, channel,
pre-charge) and bill, priced as new-api prices its image and audio relays
(`mockserver.gateway.media_pricing`), through the route's `Call` as the text routes are.
Outside gateway mode (no caller) every function here does nothing.

    ratio = admit_pictures(call, model, prompt, size, quality)   # before the scenario decides
    settle_pictures(call, headers, ratio, n, usage)              # once the pictures are made
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.core.reply import Usage
from mockserver.gateway import media_pricing

if TYPE_CHECKING:
    from mockserver.http.journaled import Call

_ENCODINGS = ("cl100k_base", "o200k_base")


def count_text(text: str, model: str) -> int:
    """Tokens of `text` as new-api's `CountTextToken` counts them: the model's encoding when
    the tokenizer knows the model, cl100k_base otherwise."""
    import tiktoken.model

    from mockserver.tokens.tokenizer import get_tokenizer

    try:
        name = tiktoken.model.encoding_name_for_model(model)
    except KeyError:
        name = "cl100k_base"
    return get_tokenizer(name if name in _ENCODINGS else "cl100k_base").count(text)


def admit_pictures(
    call: Call, model: str, prompt: str, size: Any = None, quality: Any = None
) -> float:
    """Admit a picture request (pre-charged at its fixed price × DALL·E's size and quality
    ratio, or at the per-token estimate); the ratio, for the bill."""
    if call.caller is None:
        return 1.0
    ratio = media_pricing.image_price_ratio(model, size, quality)
    tokens = count_text(prompt, model)
    call.admit(
        model, tokens, quota=lambda price: media_pricing.image_pre_charge(price, tokens, ratio)
    )
    return ratio


def settle_pictures(
    call: Call, headers: dict[str, str], ratio: float, n: int, usage: dict[str, Any] | None = None
) -> None:
    """Bill `n` pictures made (`usage`: the answer's token counts, if it has them)."""
    if call.charge is None:
        return
    counted, image_tokens = media_pricing.image_usage(usage)
    call.settle(
        counted,
        headers,
        quota=lambda price: media_pricing.image_quota(price, ratio, n, counted, image_tokens),
    )


def admit_speech(call: Call, model: str, text: str) -> int:
    """Admit a speech request: its input counted in characters (tokens for `gpt` models),
    pre-charged as text; that count, for the bill."""
    if call.caller is None:
        return 0
    tokens = media_pricing.speech_input_tokens(text, model, lambda t: count_text(t, model))
    call.admit(model, tokens)
    return tokens


def settle_speech(
    call: Call, headers: dict[str, str], text_tokens: int, seconds: float | None, usage: Usage
) -> None:
    """Bill a speech answer: by its audio (`seconds` long) as `calculateAudioQuota` does, or,
    streamed (`seconds` None), by the usage its last event reports, as text."""
    if call.charge is None:
        return
    if seconds is None:
        call.settle(usage, headers)
        return
    audio = media_pricing.audio_tokens(seconds)
    call.settle(
        Usage(text_tokens, audio),
        headers,
        quota=lambda price: media_pricing.speech_quota(price, text_tokens, audio),
    )


def admit_transcription(call: Call, model: str, seconds: float) -> int:
    """Admit a transcription: the uploaded audio counted as 1000 tokens a minute; that count."""
    if call.caller is None:
        return 0
    tokens = media_pricing.audio_tokens(seconds)
    call.admit(model, tokens)
    return tokens


def settle_transcription(call: Call, headers: dict[str, str], answer: Any, estimate: int) -> None:
    """Bill a transcription from its answer's token counts, or the audio's estimate."""
    if call.charge is not None:
        call.settle(media_pricing.transcription_usage(answer, estimate), headers)
