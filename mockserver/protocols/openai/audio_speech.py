"""OpenAI's `POST /v1/audio/speech`: JSON in, audio bytes out (or `stream_format: sse` events
`speech.audio.delta` / `speech.audio.done` for the GPT speech models)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from msgspec import Struct

from mockserver.core.errors import APIError, invalid_request

VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
MAX_INPUT = 4096
SSE_CHUNK = 32 * 1024  # audio bytes per `speech.audio.delta` event


class SpeechRequest(Struct):
    model: str
    input: str
    voice: str
    format: str = "mp3"
    speed: float = 1.0
    instructions: str = ""
    sse: bool = False


def parse_speech(body: Any) -> SpeechRequest:
    if not isinstance(body, Mapping):
        raise invalid_request("The request body must be a JSON object.")
    model = _required_string(body, "model")
    text = body.get("input")
    if text is None:
        raise _missing("input")
    if not isinstance(text, str):
        raise _type_error("input", "a string", text)
    if len(text) > MAX_INPUT:
        raise invalid_request(
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{MAX_INPUT}, but got a string with length {len(text)} instead.",
            param="input",
            code="string_above_max_length",
        )
    voice_value = body.get("voice")
    if voice_value is None:
        raise _missing("voice")
    if isinstance(voice_value, Mapping) and isinstance(voice_value.get("id"), str):
        voice = voice_value["id"]  # a custom voice: spoken with the default pitch
    elif isinstance(voice_value, str):
        voice = voice_value
        if voice not in VOICES:
            raise enum_error("voice", voice, VOICES)
    else:
        raise _type_error("voice", "a string or {id}", voice_value)
    fmt = body.get("response_format") or "mp3"
    if fmt not in FORMATS:
        raise enum_error("response_format", str(fmt), FORMATS)
    speed = body.get("speed", 1.0)
    if speed is None:
        speed = 1.0
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise _type_error("speed", "a number", speed)
    if speed < 0.25:
        raise _range_error("speed", "below minimum", ">=", 0.25, speed)
    if speed > 4.0:
        raise _range_error("speed", "above maximum", "<=", 4, speed)
    stream_format = body.get("stream_format") or "audio"
    if stream_format not in ("sse", "audio"):
        raise enum_error("stream_format", str(stream_format), ("sse", "audio"))
    if stream_format == "sse" and model.startswith("tts-1"):
        raise invalid_request(
            f"stream_format 'sse' is not supported for model '{model}'. Use 'audio' instead, "
            "or a model that supports it such as gpt-4o-mini-tts.",
            param="stream_format",
            code="invalid_value",
        )
    instructions = body.get("instructions") or ""
    if not isinstance(instructions, str):
        raise _type_error("instructions", "a string", instructions)
    return SpeechRequest(
        model, text, voice, fmt, float(speed), instructions, sse=stream_format == "sse"
    )


def sse_events(audio: bytes, input_tokens: int, output_tokens: int) -> list[dict[str, Any]]:
    """The audio in `speech.audio.delta` events, then `speech.audio.done` with the usage."""
    events: list[dict[str, Any]] = [
        {
            "type": "speech.audio.delta",
            "audio": base64.b64encode(audio[start : start + SSE_CHUNK]).decode("ascii"),
        }
        for start in range(0, len(audio), SSE_CHUNK)
    ]
    events.append(
        {
            "type": "speech.audio.done",
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
        }
    )
    return events


def _required_string(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise _missing(name)
    if not isinstance(value, str):
        raise _type_error(name, "a string", value)
    return value


def _missing(name: str) -> APIError:
    return invalid_request(
        f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


def _type_error(name: str, expected: str, value: Any) -> APIError:
    return invalid_request(
        f"Invalid type for '{name}': expected {expected}, but got {type(value).__name__} instead.",
        param=name,
        code="invalid_type",
    )


def _range_error(name: str, where: str, sign: str, bound: float, value: float) -> APIError:
    code = "decimal_" + where.replace(" ", "_") + "_value"
    return invalid_request(
        f"Invalid '{name}': decimal {where} value. Expected a value {sign} {bound}, but got "
        f"{value} instead.",
        param=name,
        code=code,
    )


def enum_error(name: str, value: str, allowed: tuple[str, ...]) -> APIError:
    listed = [f"'{a}'" for a in allowed]
    words = ", ".join(listed[:-1]) + f", and {listed[-1]}" if len(listed) > 1 else listed[0]
    return invalid_request(
        f"Invalid value: '{value}'. Supported values are: {words}.",
        param=name,
        code="invalid_value",
    )
