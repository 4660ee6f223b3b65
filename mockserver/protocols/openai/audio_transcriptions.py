"""OpenAI's `POST /v1/audio/transcriptions` and `/translations` (multipart `file`): the text
as `json`, `text`, `srt`, `vtt` or `verbose_json` (segments and words timed over the audio's
real duration), or `transcript.text.*` stream events for the GPT transcribe models.

`Timed(words)` spreads the words evenly over the audio, a sentence per segment, so the
subtitles and timestamps agree with each other and with the file that was sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from mockserver.core.errors import APIError, invalid_request
from mockserver.protocols.openai.audio_speech import enum_error

FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
GPT_FORMATS = ("json", "text")  # what gpt-4o-(mini-)transcribe answer in
TRANSLATION_MODELS = ("whisper-1",)
WORDS_PER_SECOND = 2.5  # a speaker's pace: what fake transcripts are sized by
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class TranscriptionRequest(Struct):
    model: str
    response_format: str = "json"
    language: str | None = None
    prompt: str = ""
    temperature: float = 0.0
    granularities: list[str] = field(default_factory=list)
    stream: bool = False
    translate: bool = False

    @property
    def gpt(self) -> bool:
        """A GPT transcribe model (token usage, streaming) rather than Whisper."""
        return not self.model.startswith("whisper")


def parse_transcription(
    fields: Mapping[str, str], granularities: list[str], *, translate: bool
) -> TranscriptionRequest:
    model = fields.get("model") or ""
    if not model:
        raise invalid_request(
            "Missing required parameter: 'model'.",
            param="model",
            code="missing_required_parameter",
        )
    fmt = fields.get("response_format") or "json"
    if fmt not in FORMATS:
        raise enum_error("response_format", fmt, FORMATS)
    gpt = not model.startswith("whisper")
    if gpt and fmt not in GPT_FORMATS:
        raise invalid_request(
            f"response_format '{fmt}' is not compatible with model '{model}'. Use 'json' or "
            "'text' instead.",
            param="response_format",
            code="unsupported_value",
        )
    for granularity in granularities:
        if granularity not in ("word", "segment"):
            raise enum_error("timestamp_granularities[]", granularity, ("word", "segment"))
    if granularities and fmt != "verbose_json":
        raise invalid_request(
            "timestamp_granularities requires response_format to be 'verbose_json'.",
            param="timestamp_granularities",
            code="invalid_value",
        )
    temperature_text = fields.get("temperature") or "0"
    try:
        temperature = float(temperature_text)
    except ValueError:
        raise invalid_request(
            f"Invalid type for 'temperature': expected a number, but got '{temperature_text}'.",
            param="temperature",
            code="invalid_type",
        ) from None
    stream = (fields.get("stream") or "").lower() == "true"
    return TranscriptionRequest(
        model=model,
        response_format=fmt,
        language=fields.get("language") or None,
        prompt=fields.get("prompt") or "",
        temperature=temperature,
        granularities=granularities or ["segment"],
        stream=stream and gpt,  # whisper-1 ignores `stream` and answers at once
        translate=translate,
    )


def missing_file() -> APIError:
    return invalid_request(
        "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
    )


def unreadable_file(filename: str, detail: str) -> APIError:
    return invalid_request(
        f"Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', "
        f"'oga', 'ogg', 'wav', 'webm'] (could not decode {filename or 'the file'}: {detail})",
        param="file",
        code="invalid_value",
    )


class Word(Struct, frozen=True):
    word: str
    start: float
    end: float


class Segment(Struct, frozen=True):
    text: str
    start: float
    end: float
    words: list[Word]


def timed(text: str, duration: float) -> list[Segment]:
    """The text's words spread evenly over `duration` seconds, one segment per sentence."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s] or [text]
    total = sum(len(s.split()) for s in sentences) or 1
    step = duration / total
    segments, at = [], 0.0
    for sentence in sentences:
        words = []
        for word in sentence.split():
            words.append(Word(word.strip(",.;:!?\"'") or word, round(at, 2), round(at + step, 2)))
            at += step
        start = words[0].start if words else round(at, 2)
        segments.append(Segment(sentence, start, round(at, 2), words))
    return segments


def render(
    request: TranscriptionRequest,
    text: str,
    duration: float,
    usage: dict[str, Any],
) -> tuple[bytes | dict[str, Any], str]:
    """The answer body (JSON as a dict, or text) and its content type."""
    fmt = request.response_format
    if fmt == "text":
        return (text + "\n").encode(), "text/plain; charset=utf-8"
    if fmt == "srt":
        return srt(timed(text, duration)).encode(), "text/plain; charset=utf-8"
    if fmt == "vtt":
        return vtt(timed(text, duration)).encode(), "text/vtt; charset=utf-8"
    if fmt == "verbose_json":
        return verbose(request, text, duration, usage), "application/json"
    body: dict[str, Any] = {"text": text}
    if not request.translate:
        body["usage"] = usage
    return body, "application/json"


def verbose(
    request: TranscriptionRequest, text: str, duration: float, usage: dict[str, Any]
) -> dict[str, Any]:
    segments = timed(text, duration)
    body: dict[str, Any] = {
        "task": "translate" if request.translate else "transcribe",
        "language": "english" if request.translate else _language_name(request.language),
        "duration": round(duration, 2),
        "text": text,
    }
    if "word" in request.granularities:
        body["words"] = [
            {"word": w.word, "start": w.start, "end": w.end} for s in segments for w in s.words
        ]
    if "segment" in request.granularities:
        body["segments"] = [
            {
                "id": index,
                "seek": 0,
                "start": segment.start,
                "end": segment.end,
                "text": " " + segment.text,
                "tokens": [50364 + index],
                "temperature": request.temperature,
                "avg_logprob": -0.25,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
            for index, segment in enumerate(segments)
        ]
    if not request.translate:
        body["usage"] = usage
    return body


LANGUAGES = {"en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian"}
LANGUAGES |= {"pt": "portuguese", "zh": "chinese", "ja": "japanese", "ko": "korean"}


def _language_name(code: str | None) -> str:
    if code is None:
        return "english"
    return LANGUAGES.get(code.lower(), code.lower())


def srt(segments: list[Segment]) -> str:
    blocks = [
        f"{index}\n{_clock(s.start, ',')} --> {_clock(s.end, ',')}\n{s.text}\n"
        for index, s in enumerate(segments, 1)
    ]
    return "\n".join(blocks) + "\n"


def vtt(segments: list[Segment]) -> str:
    blocks = [f"{_clock(s.start, '.')} --> {_clock(s.end, '.')}\n{s.text}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(blocks) + "\n"


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def stream_events(text: str, pieces: list[str], usage: dict[str, Any]) -> list[dict[str, Any]]:
    """`transcript.text.delta` per token piece, then `transcript.text.done`."""
    events: list[dict[str, Any]] = [
        {"type": "transcript.text.delta", "delta": piece} for piece in pieces
    ]
    events.append({"type": "transcript.text.done", "text": text, "usage": usage})
    return events


def token_usage(
    audio_tokens: int,
    prompt_tokens: int,
    output_tokens: int,
    stated: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A GPT transcribe model's usage, computed; `stated`: a rule's `usage:` (a recording's,
    in `prompt_tokens`/`completion_tokens`), whose counts are reported instead."""
    prompt = audio_tokens + prompt_tokens
    if stated:
        output_tokens = stated.get("completion_tokens", output_tokens)
        prompt = stated.get("prompt_tokens", prompt)
        # The recorded split of the input is not kept: the prompt's share, as computed.
        prompt_tokens = min(prompt_tokens, prompt)
        audio_tokens = prompt - prompt_tokens
    return {
        "type": "tokens",
        "input_tokens": prompt,
        "input_token_details": {"text_tokens": prompt_tokens, "audio_tokens": audio_tokens},
        "output_tokens": output_tokens,
        "total_tokens": prompt + output_tokens,
    }


def duration_usage(seconds: float) -> dict[str, Any]:
    return {"type": "duration", "seconds": max(1, round(seconds + 0.499))}
