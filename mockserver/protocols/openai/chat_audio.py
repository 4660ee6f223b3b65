"""Spoken answers from Chat Completions' audio models: `modalities: ["text", "audio"]` with
`audio: {voice, format}` makes each choice's message carry `audio: {id, data, expires_at,
transcript}` (the text spoken, encoded like `/v1/audio/speech`'s) and `content: null`, with
the audio's tokens in `completion_tokens_details.audio_tokens`. Not streamed yet.
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


def wants_audio(exchange: Exchange) -> bool:
    modalities = exchange.body.get("modalities")
    return isinstance(modalities, list) and "audio" in modalities


def add_audio(rest: dict[str, Any], reply: Reply, exchange: Exchange) -> None:
    """Speak every choice's text into its message (in `rest`, a completion's fields)."""
    from mockserver.media.audio import speech_seconds

    settings = exchange.body.get("audio")
    settings = settings if isinstance(settings, dict) else {}
    voice = str(settings.get("voice") or "alloy")
    fmt = FORMATS.get(str(settings.get("format") or "wav"), "wav")
    audio_tokens = 0
    for body in rest["choices"]:
        message = body["message"]
        transcript = message.get("content") or ""
        data = _spoken(transcript, voice, fmt)
        message["content"] = None
        message["audio"] = {
            "id": "audio_" + ids.base62(ids.digest(transcript, voice, fmt), "audio", 24),
            "data": base64.b64encode(data).decode("ascii"),
            "expires_at": reply.created + EXPIRES_AFTER,
            "transcript": transcript,
        }
        audio_tokens += round(speech_seconds(transcript) * AUDIO_TOKENS_PER_SECOND)
    usage = rest["usage"]
    usage["completion_tokens_details"]["audio_tokens"] = audio_tokens
    usage["completion_tokens"] += audio_tokens
    usage["total_tokens"] += audio_tokens


@functools.lru_cache(maxsize=16)  # bounded: a reply sent again is spoken once
def _spoken(text: str, voice: str, fmt: str) -> bytes:
    from mockserver.media.audio import SpeechRecipe, synthesize

    return synthesize(SpeechRecipe(seed=0, text=text, voice=voice, format=fmt))  # type: ignore[arg-type]
