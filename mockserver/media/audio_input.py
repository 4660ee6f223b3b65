"""Input tokens of an audio clip sent to a chat model (`input_audio` parts, Gemini audio
`inlineData`), from the clip's real, decoded duration.

The rates vendors publish: OpenAI counts user audio at 1 token per 100 ms (10 a second; its
own speech, output, at 1 per 50 ms), Gemini at 32 tokens a second. A clip is decoded with
PyAV (`mockserver.media.audio.duration_of`), so a 3-second WAV costs 30 tokens whatever its
sample rate or encoding; a clip that isn't audio is None (the caller's error to word).

    seconds = clip_seconds(part["input_audio"]["data"], part["input_audio"]["format"])
    prompt_tokens_details["audio_tokens"] += input_audio_tokens(seconds, "openai")

This is the boundary for the image-and-audio token work (`tokens/media_tokens.audio_tokens`,
issue #22): an audio `Attachment` that carries its decoded seconds is counted here.
"""

from __future__ import annotations

import base64
import binascii
import math

RATES = {"openai": 10.0, "gemini": 32.0}  # input tokens per second of audio
OUTPUT_RATES = {"openai": 20.0}  # the model's own speech (chat audio output)
PCM_RATE = 24_000  # raw `pcm16` clips: 16-bit mono at 24 kHz, as OpenAI's audio APIs use


def clip_seconds(data: str | bytes, fmt: str | None = None) -> float | None:
    """Seconds of audio in a clip (base64 text or bytes); None when it is not audio."""
    if isinstance(data, str):
        text = data.partition(",")[2] if data.startswith("data:") else data
        text = text.replace("-", "+").replace("_", "/")  # URL-safe base64 too (google-genai's)
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return None
    else:
        raw = data
    if not raw:
        return None
    if fmt in ("pcm16", "pcm"):
        return len(raw) / 2 / PCM_RATE
    from mockserver.media.audio import duration_of

    try:
        seconds = duration_of(raw)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def input_audio_tokens(seconds: float, vendor: str = "openai") -> int:
    """Tokens `seconds` of input audio count as with `vendor` (rounded up, at least 1)."""
    rate = RATES.get(vendor, RATES["openai"])
    return max(1, math.ceil(seconds * rate - 1e-9))


def output_audio_tokens(seconds: float, vendor: str = "openai") -> int:
    rate = OUTPUT_RATES.get(vendor, OUTPUT_RATES["openai"])
    return max(1, math.ceil(seconds * rate - 1e-9))
