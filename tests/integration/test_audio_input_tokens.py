"""Audio parts counted from the clip's real, decoded length, through each official SDK: OpenAI
at 10 input tokens a second (`prompt_tokens_details.audio_tokens`), Gemini at 32 (the AUDIO
entry of `promptTokensDetails`). The clips are made here with the standard library's `wave`,
so their length is known without mockserver's decoder."""

from __future__ import annotations

import base64
import io
import wave
from typing import Any

from google.genai import types

from mockserver.testing.handle import MockServer


def wav(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"\0\0" * int(rate * seconds))
    return buffer.getvalue()


def test_chat_counts_input_audio_by_its_length(mockserver: MockServer) -> None:
    client = mockserver.openai_client()

    def usage(*clips: bytes) -> tuple[int, int]:
        audio: list[dict[str, Any]] = [
            {
                "type": "input_audio",
                "input_audio": {"data": base64.b64encode(c).decode(), "format": "wav"},
            }
            for c in clips
        ]
        content: list[Any] = [{"type": "text", "text": "What is said?"}, *audio]
        reply = client.chat.completions.create(
            model="gpt-4o-audio-preview", messages=[{"role": "user", "content": content}]
        )
        assert reply.usage is not None and reply.usage.prompt_tokens_details is not None
        return reply.usage.prompt_tokens, reply.usage.prompt_tokens_details.audio_tokens or 0

    plain, none = usage()
    three, thirty = usage(wav(3.0))
    both, forty_five = usage(wav(3.0), wav(1.5, rate=44_100))  # any sample rate: seconds count
    assert none == 0 and thirty == 30 and forty_five == 45
    assert three - plain == 30 and both - plain == 45


def test_gemini_counts_inline_audio_by_its_length(mockserver: MockServer) -> None:
    client = mockserver.genai_client()
    parts: list[Any] = [
        types.Part.from_text(text="What is said?"),
        types.Part.from_bytes(data=wav(2.0), mime_type="audio/wav"),
    ]
    reply = client.models.generate_content(model="gemini-2.5-flash", contents=parts)
    assert reply.usage_metadata is not None
    details = {d.modality: d.token_count for d in reply.usage_metadata.prompt_tokens_details or []}
    assert details[types.MediaModality.AUDIO] == 64
