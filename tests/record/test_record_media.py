"""Images and audio recorded through the official `openai` SDK from an upstream that is a
second mockserver: each picture and speech file is written beside the recording and named by
its rule's `file:`, a revised prompt or a transcript is the rule's text; replayed with the
upstream gone, the same text comes back and the file validates, holding no key."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.record.recording import assert_valid_and_keyless, record_through_proxy

UPSTREAM = """
version: 1
seed: 5
rules:
  - name: lighthouse  # usage unlike what a replay would compute: a recording must keep it
    match: {model: gpt-image-1, last_user: {contains: lighthouse}}
    reply: {usage: {prompt_tokens: 77, completion_tokens: 4321}}
  - name: heard
    match: {model: gpt-4o-transcribe}
    reply: {usage: {prompt_tokens: 150, completion_tokens: 9}}
  - name: fox
    match: {model: dall-e-3}
    reply: {content: "A small red fox, drawn in ink, sitting in fresh snow."}
  - name: translation
    match: {model: whisper-1, last_user: {contains: translation}}
    reply: {content: "Good evening, translated."}
  - name: transcript
    match: {model: whisper-1}
    reply: {content: "Hello from the recorded meeting."}
  - name: refused
    match: {model: gpt-image-1, last_user: {contains: forbidden}}
    fault:
      status: 400
      message: Your request was rejected by the safety system.
      code: content_policy_violation
"""
KEY = "sk-live-SECRET-media-key-0123456789"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wav_bytes() -> bytes:
    """A short silent WAV file to transcribe."""
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 800)
    return out.getvalue()


def session(base: str) -> dict[str, Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
    seen: dict[str, Any] = {}
    drawn = client.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1024x1024")
    assert drawn.data and drawn.data[0].b64_json
    seen["b64"] = sha(base64.b64decode(drawn.data[0].b64_json))
    assert drawn.usage is not None
    seen["usage"] = drawn.usage.model_dump()
    linked = client.images.generate(model="dall-e-3", prompt="a fox", response_format="url")
    assert linked.data and linked.data[0].url
    seen["url"] = sha(httpx.get(linked.data[0].url).content)
    seen["revised"] = linked.data[0].revised_prompt
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Good morning.")
    seen["speech"] = sha(speech.read())
    text = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav_bytes()))
    seen["transcript"] = text.text
    heard = client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("h.wav", wav_bytes())
    )
    assert heard.usage is not None
    seen["heard_usage"] = heard.usage.model_dump()
    translated = client.audio.translations.create(
        model="whisper-1", file=("b.wav", wav_bytes()), prompt="a translation"
    )
    seen["translation"] = translated.text
    try:
        client.images.generate(model="gpt-image-1", prompt="something forbidden")
    except openai.BadRequestError as error:
        seen["refused"] = (error.status_code, error.code)
    client.close()
    return seen


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("media")
    yield record_through_proxy(folder, UPSTREAM, "media", session)


def test_pictures_and_speech_are_written_as_files(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, seen = recorded
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    by_model = {rule["match"]["model"]: rule for rule in rules if "reply" in rule}
    files = {
        model: path.parent / rule["reply"]["file"]
        for model, rule in by_model.items()
        if "file" in rule["reply"]
    }
    assert sha(files["gpt-image-1"].read_bytes()) == seen["b64"]
    assert sha(files["dall-e-3"].read_bytes()) == seen["url"]  # fetched from its URL
    assert sha(files["tts-1"].read_bytes()) == seen["speech"]
    assert files["tts-1"].suffix == ".mp3"
    assert by_model["dall-e-3"]["reply"]["content"] == seen["revised"]
    assert by_model["tts-1"]["match"]["last_user"] == {"equals": "Good morning."}


def test_transcripts_and_faults_replay(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, seen = recorded
    assert seen["transcript"] == "Hello from the recorded meeting."
    assert seen["translation"] == "Good evening, translated."
    assert seen["refused"] == (400, "content_policy_violation")
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        client = openai.OpenAI(base_url=replay.url + "/v1", api_key="sk-other", max_retries=0)
        text = client.audio.transcriptions.create(model="whisper-1", file=("c.wav", wav_bytes()))
        assert text.text == seen["transcript"]
        translated = client.audio.translations.create(
            model="whisper-1", file=("d.wav", wav_bytes()), prompt="a translation"
        )
        assert translated.text == seen["translation"]
        with pytest.raises(openai.BadRequestError) as refused:
            client.images.generate(model="gpt-image-1", prompt="something forbidden")
        assert (refused.value.status_code, refused.value.code) == seen["refused"]
        client.close()


def test_image_and_transcription_usage_replay_as_recorded(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, seen = recorded
    assert seen["usage"]["input_tokens"] == 77  # the upstream's scripted counts
    assert seen["usage"]["output_tokens"] == 4321
    assert seen["usage"]["total_tokens"] == 77 + 4321
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    (drawn,) = [
        rule for rule in rules if rule["match"]["model"] == "gpt-image-1" and "reply" in rule
    ]
    assert drawn["reply"]["usage"] == {"prompt_tokens": 77, "completion_tokens": 4321}
    heard = seen["heard_usage"]  # a JSON transcription's, as the upstream scripted it
    assert (heard["input_tokens"], heard["output_tokens"], heard["total_tokens"]) == (150, 9, 159)
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        client = openai.OpenAI(base_url=replay.url + "/v1", api_key="sk-other", max_retries=0)
        again = client.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1024x1024")
        assert again.usage is not None
        assert again.usage.model_dump() == seen["usage"]
        heard = client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("h.wav", wav_bytes())
        )
        assert heard.usage is not None
        assert heard.usage.model_dump() == seen["heard_usage"]
        client.close()


def test_file_validates_and_holds_no_key(recorded: tuple[Path, dict[str, Any]]) -> None:
    path = recorded[0]
    assert_valid_and_keyless(path, KEY)


def test_pictures_and_speech_replay_with_the_same_bytes(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    # `reply.file` is answered by the media-from-disk work (mockserver.media.disk, issue 20):
    # this runs once it is on the same branch.
    pytest.importorskip("mockserver.media.disk")
    path, seen = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        client = openai.OpenAI(base_url=replay.url + "/v1", api_key="sk-other", max_retries=0)
        drawn = client.images.generate(model="gpt-image-1", prompt="a lighthouse", size="1024x1024")
        assert drawn.data and drawn.data[0].b64_json
        assert sha(base64.b64decode(drawn.data[0].b64_json)) == seen["b64"]
        linked = client.images.generate(model="dall-e-3", prompt="a fox", response_format="url")
        assert linked.data and linked.data[0].url
        assert sha(httpx.get(linked.data[0].url).content) == seen["url"]
        assert linked.data[0].revised_prompt == seen["revised"]
        speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Good morning.")
        assert sha(speech.read()) == seen["speech"]
        client.close()
