from __future__ import annotations

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.openai.audio_transcriptions import (
    parse_transcription,
    srt,
    timed,
    vtt,
)


def test_words_spread_over_the_duration_one_segment_per_sentence() -> None:
    segments = timed("Hello there. How are you?", 5.0)
    assert [s.text for s in segments] == ["Hello there.", "How are you?"]
    assert [(w.word, w.start, w.end) for w in segments[0].words] == [
        ("Hello", 0.0, 1.0),
        ("there", 1.0, 2.0),
    ]
    assert segments[-1].end == 5.0


def test_subtitles() -> None:
    segments = timed("Hello there. How are you?", 3725.5)
    assert srt(segments) == (
        "1\n00:00:00,000 --> 00:24:50,200\nHello there.\n\n"
        "2\n00:24:50,200 --> 01:02:05,500\nHow are you?\n\n"
    )
    assert vtt(segments).startswith("WEBVTT\n\n00:00:00.000 --> 00:24:50.200\nHello there.\n")


@pytest.mark.parametrize(
    ("fields", "granularities", "message"),
    [
        ({}, [], "Missing required parameter: 'model'."),
        ({"model": "whisper-1", "response_format": "xml"}, [], "Invalid value: 'xml'."),
        ({"model": "gpt-4o-transcribe", "response_format": "vtt"}, [], "not compatible"),
        ({"model": "whisper-1"}, ["word"], "requires response_format to be 'verbose_json'"),
        ({"model": "whisper-1", "response_format": "verbose_json"}, ["line"], "'line'"),
    ],
)
def test_bad_fields(fields: dict[str, str], granularities: list[str], message: str) -> None:
    with pytest.raises(APIError) as caught:
        parse_transcription(fields, granularities, translate=False)
    assert message in caught.value.message and caught.value.status == 400


def test_whisper_ignores_stream() -> None:
    parsed = parse_transcription({"model": "whisper-1", "stream": "true"}, [], translate=False)
    assert not parsed.stream
    gpt = parse_transcription({"model": "gpt-4o-transcribe", "stream": "true"}, [], translate=False)
    assert gpt.stream
