"""Spoken answers from Chat Completions' audio models: `modalities: ["text", "audio"]` with
`audio: {voice, format}` makes each choice's message carry `audio: {id, data, expires_at,
transcript}` (the text spoken, encoded like `/v1/audio/speech`'s) and `content: null`, with
the audio's tokens in `completion_tokens_details.audio_tokens`. Streamed, the transcript
comes in `delta.audio.transcript` pieces (the first with the id), then the audio in
`delta.audio.data` chunks, then one with `expires_at` alone.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from mockserver.core import ids
from mockserver.core.exchange import Exchange
from mockserver.core.reply import Reply

# Chat's audio formats → the speech encoder's (`pcm16` is raw 24 kHz s16le, as `pcm`).
FORMATS = {"wav": "wav", "mp3": "mp3", "flac": "flac", "opus": "opus", "aac": "aac", "pcm16": "pcm"}
AUDIO_TOKENS_PER_SECOND = 10  # an approximation: OpenAI publishes none
EXPIRES_AFTER = 3600  # the audio id can be referred to in later turns for an hour
STREAM_CHUNK = 24_000  # audio bytes a stream delta carries (pcm16: half a second)


def wants_audio(exchange: Exchange) -> bool:
    modalities = exchange.body.get("modalities")
    return isinstance(modalities, list) and "audio" in modalities


def _voice_and_format(exchange: Exchange) -> tuple[str, str]:
    settings = exchange.body.get("audio")
    settings = settings if isinstance(settings, dict) else {}
    voice = str(settings.get("voice") or "alloy")
    return voice, FORMATS.get(str(settings.get("format") or "wav"), "wav")


def _audio_id(transcript: str, voice: str, fmt: str) -> str:
    return "audio_" + ids.base62(ids.digest(transcript, voice, fmt), "audio", 24)


def add_audio(rest: dict[str, Any], reply: Reply, exchange: Exchange) -> None:
    """Speak every choice's text into its message (in `rest`, a completion's fields)."""
    voice, fmt = _voice_and_format(exchange)
    transcripts = []
    for body in rest["choices"]:
        message = body["message"]
        transcript = message.get("content") or ""
        transcripts.append(transcript)
        data = _spoken(transcript, voice, fmt)
        message["content"] = None
        message["audio"] = {
            "id": _audio_id(transcript, voice, fmt),
            "data": base64.b64encode(data).decode("ascii"),
            "expires_at": reply.created + EXPIRES_AFTER,
            "transcript": transcript,
        }
    _count(rest["usage"], transcripts)


def speak_deltas(
    deltas: list[list[dict[str, Any]]], usage: dict[str, Any], reply: Reply, exchange: Exchange
) -> None:
    """Turn each choice's stream deltas (`chat._choice_deltas`) into spoken ones, in place."""
    voice, fmt = _voice_and_format(exchange)
    transcripts = []
    for choice, chunks in zip(reply.choices, deltas, strict=True):
        transcript = choice.text or ""
        transcripts.append(transcript)
        audio_id = _audio_id(transcript, voice, fmt)
        spoken: list[dict[str, Any]] = []
        for chunk in chunks[:-1]:  # the last one carries the finish reason
            delta = chunk["delta"]
            if "role" in delta:
                delta["content"] = None
            elif "content" in delta:
                piece = delta.pop("content")
                delta["audio"] = {"transcript": piece}
                if not spoken:
                    delta["audio"] = {"id": audio_id, "transcript": piece}
                spoken.append(chunk)
        data = _spoken(transcript, voice, fmt)
        index = chunks[-1]["index"]
        pieces = [data[start : start + STREAM_CHUNK] for start in range(0, len(data), STREAM_CHUNK)]
        tail = []
        for number, piece in enumerate(pieces):
            audio: dict[str, Any] = {"data": base64.b64encode(piece).decode("ascii")}
            if not spoken and number == 0:
                audio["id"] = audio_id
            tail.append(audio)
        tail.append({"expires_at": reply.created + EXPIRES_AFTER})  # alone, as the API ends
        tail = [
            {"index": index, "delta": {"audio": audio}, "logprobs": None, "finish_reason": None}
            for audio in tail
        ]
        chunks[-1:-1] = tail
    _count(usage, transcripts)


def _count(usage: dict[str, Any], transcripts: list[str]) -> None:
    """The spoken audio's tokens, added to the completion's."""
    from mockserver.media.audio import speech_seconds

    audio_tokens = sum(
        round(speech_seconds(text) * AUDIO_TOKENS_PER_SECOND) for text in transcripts
    )
    usage["completion_tokens_details"]["audio_tokens"] = audio_tokens
    usage["completion_tokens"] += audio_tokens
    usage["total_tokens"] += audio_tokens


@functools.lru_cache(maxsize=16)  # bounded: a reply sent again is spoken once
def _spoken(text: str, voice: str, fmt: str) -> bytes:
    from mockserver.media.audio import synthesize
    from mockserver.media.recipes import SpeechRecipe

    return synthesize(SpeechRecipe(seed=0, text=text, voice=voice, format=fmt))  # type: ignore[arg-type]
