from __future__ import annotations

import base64

import pytest

from mockserver.media.audio import SpeechRecipe, encode, samples, speech_seconds
from mockserver.media.audio_input import clip_seconds, input_audio_tokens, output_audio_tokens

TEXT = "hello there, this is a short clip of speech."


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac"])
def test_a_clip_counts_by_its_decoded_duration(fmt: str) -> None:
    pcm = samples(SpeechRecipe(seed=1, text=TEXT))
    clip = base64.b64encode(encode(pcm, fmt)).decode()
    seconds = clip_seconds(clip, fmt)
    assert seconds == pytest.approx(speech_seconds(TEXT), rel=0.05)
    assert input_audio_tokens(seconds or 0) == pytest.approx(10 * speech_seconds(TEXT), abs=2)


def test_raw_pcm16_and_data_urls() -> None:
    one_second = b"\x00\x00" * 24_000
    assert clip_seconds(one_second, "pcm16") == 1.0
    url = (
        "data:audio/wav;base64,"
        + base64.b64encode(encode(samples(SpeechRecipe(1, "hi")), "wav")).decode()
    )
    assert (clip_seconds(url) or 0) > 0


def test_what_is_not_audio_is_none() -> None:
    assert clip_seconds("not base64!!") is None
    assert clip_seconds(base64.b64encode(b"plain text, no audio").decode(), "wav") is None
    assert clip_seconds(b"") is None


def test_rates_per_vendor() -> None:
    assert input_audio_tokens(3.0) == 30  # 1 token per 100 ms
    assert input_audio_tokens(3.0, "gemini") == 96  # 32 a second
    assert input_audio_tokens(0.01) == 1
    assert output_audio_tokens(3.0) == 60  # 1 per 50 ms
