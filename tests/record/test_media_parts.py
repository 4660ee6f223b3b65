"""The recorder's readers of media answers, in-process: Ideogram's routes and prompts, the
final artifact of a streamed picture, speech or transcription, and pictures inside a text
answer."""

from __future__ import annotations

import base64
import json

import orjson

from mockserver.record import ideogram, inline_images, media_streams
from mockserver.record.replies import reply_of

PNG = b"\x89PNG\r\n\x1a\nfake"


def test_ideogram_routes_and_prompts() -> None:
    assert ideogram.route("/ideogram/v1/ideogram-v3/replace-background") == (
        "replace-background",
        False,
    )
    assert ideogram.route("/ideogram/remix") == ("remix", True)
    assert ideogram.route("/v1/images/generations") is None
    assert ideogram.subject("/ideogram/v1/ideogram-v3/edit", {"prompt": "a lake"}) == (
        "ideogram-v3-edit",
        "a lake",
    )
    legacy_json = {"image_request": {"prompt": "a fox"}}
    assert ideogram.subject("/ideogram/generate", legacy_json) == (
        "ideogram-legacy-generate",
        "a fox",
    )
    legacy_form = {"image_request": json.dumps({"prompt": "a fox in snow"})}
    assert ideogram.subject("/ideogram/remix", legacy_form)[1] == "a fox in snow"
    assert ideogram.subject("/ideogram/remix", {"image_request": "{not json"})[1] == ""
    assert ideogram.subject("/ideogram/describe", {}) == ("ideogram-legacy-describe", "")
    answer = orjson.dumps(
        {"data": [{"url": "http://x/1.png", "prompt": "Magic."}, {"url": "http://x/2.png"}]}
    )
    assert ideogram.pictures(answer) == (["http://x/1.png", "http://x/2.png"], "Magic.")
    described = orjson.dumps({"descriptions": [{"text": "A square."}]})
    assert ideogram.description(described) == "A square."


def test_streamed_artifacts() -> None:
    b64 = base64.b64encode(PNG).decode()
    pictures = [
        json.dumps({"type": "image_generation.partial_image", "b64_json": "AAAA"}),
        json.dumps({"type": "image_generation.completed", "b64_json": b64}),
    ]
    assert media_streams.pictures_of(pictures) == [PNG]
    assert all(media_streams.carries_media(event) for event in pictures)
    speech = [
        json.dumps({"type": "speech.audio.delta", "audio": base64.b64encode(b"ab").decode()}),
        json.dumps({"type": "speech.audio.delta", "audio": base64.b64encode(b"cd").decode()}),
        json.dumps({"type": "speech.audio.done", "usage": {}}),
    ]
    assert media_streams.speech_of(speech) == b"abcd"
    assert not media_streams.carries_media(speech[-1])
    deltas = [json.dumps({"type": "transcript.text.delta", "delta": d}) for d in ("Hel", "lo")]
    assert media_streams.transcript_of(deltas) == "Hello"
    done = json.dumps({"type": "transcript.text.done", "text": "Hello."})
    assert media_streams.transcript_of([*deltas, done]) == "Hello."
    failed = json.dumps({"type": "error", "message": "boom"})
    assert media_streams.stream_failure([pictures[0], failed]) == {
        "type": "error",
        "message": "boom",
    }
    assert media_streams.stream_failure(pictures) is None


def test_pictures_inside_text() -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert inline_images.taken(f"A kite.\n![image]({url})") == ("A kite.", [PNG])
    assert inline_images.taken(f"![image]({url})") == ("", [PNG])
    assert inline_images.taken("no pictures") == ("no pictures", [])
    broken = "![image](data:image/png;base64,abc)"  # not whole base64: left as text
    assert inline_images.taken(broken) == (broken, [])
    part = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}}
    assert inline_images.image_part(part) == PNG
    assert inline_images.image_part({"inlineData": {"mimeType": "audio/wav", "data": ""}}) is None
    assert inline_images.image_part({"text": "x"}) is None


def test_gemini_image_parts_become_the_choice_pictures() -> None:
    body = {
        "candidates": [
            {
                "index": 0,
                "content": {
                    "parts": [
                        {"text": "A kite."},
                        {
                            "inlineData": {
                                "mimeType": "image/png",
                                "data": base64.b64encode(PNG).decode(),
                            }
                        },
                    ]
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3},
    }
    reply = reply_of("gemini", orjson.dumps(body), None)
    choice = reply.choices[0]
    assert (choice.content, choice.pictures) == ("A kite.", [PNG])
    assert reply.usage == {"prompt_tokens": 5, "completion_tokens": 3}
