from __future__ import annotations

import io

import av
import pytest

from mockserver.media.audio import SpeechRecipe, duration_of, speech_seconds, synthesize

TEXT = "The quick brown fox jumps over the lazy dog. It was a bright, cold day in April."
CODECS = {"mp3": "mp3float", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "pcm_s16le"}
CONTAINERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}


@pytest.mark.parametrize("fmt", sorted(CODECS))
def test_every_format_decodes_with_the_implied_duration(fmt: str) -> None:
    data = synthesize(SpeechRecipe(seed=3, text=TEXT, format=fmt))  # type: ignore[arg-type]
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name.split(",")[0] == CONTAINERS[fmt]
        assert container.streams.audio[0].codec_context.name == CODECS[fmt]
    assert duration_of(data) == pytest.approx(speech_seconds(TEXT), rel=0.1)


def test_pcm_is_raw_24khz_16bit_mono() -> None:
    data = synthesize(SpeechRecipe(seed=3, text=TEXT, format="pcm"))
    assert len(data) / 2 / 24_000 == pytest.approx(speech_seconds(TEXT), rel=0.01)


def test_duration_follows_text_length_and_speed() -> None:
    short, long = speech_seconds("Hello."), speech_seconds(TEXT)
    assert long > 5 * short
    fast = synthesize(SpeechRecipe(seed=3, text=TEXT, format="wav", speed=2.0))
    assert duration_of(fast) == pytest.approx(speech_seconds(TEXT) / 2, rel=0.1)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav"])
def test_same_recipe_same_bytes(fmt: str) -> None:
    recipe = SpeechRecipe(seed=5, text="Deterministic bytes, please.", format=fmt)  # type: ignore[arg-type]
    assert synthesize(recipe) == synthesize(recipe)
    other = SpeechRecipe(seed=5, text="Deterministic bytes, please.", format=fmt, voice="onyx")  # type: ignore[arg-type]
    assert synthesize(other) != synthesize(recipe)


def test_duration_of_rejects_what_is_not_audio() -> None:
    with pytest.raises(ValueError):
        duration_of(b"\x00" * 100)
