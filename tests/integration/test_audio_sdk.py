"""The official `openai` SDK's audio calls against a real server: speech in every format
decodes with the duration its text implies; transcriptions of real files are sized by their
duration in every response format; rules script transcripts and faults."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import av
import httpx
import openai
import pytest

from mockserver.media.audio import SpeechRecipe, duration_of, speech_seconds, synthesize
from tests.conftest import StartServer

TEXT = "Good morning. This is a short announcement about the weather, which will be fine."
RULES = """
version: 1
seed: 5
rules:
  - name: scripted-transcript
    match: {model: whisper-1, last_user: meeting}
    reply: {content: "Welcome to the meeting. First item: the budget."}
  - name: too-many
    match: {last_user: overload}
    fault: {status: 429, retry_after: 1}
"""
CONTAINERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}


@pytest.fixture
def server(start_server: StartServer) -> Any:
    return start_server(RULES)


@pytest.fixture
def client(server: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def speech_file(text: str = TEXT, fmt: str = "mp3") -> bytes:
    return synthesize(SpeechRecipe(seed=1, text=text, format=fmt))  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", sorted(CONTAINERS))
def test_speech_in_every_format(client: openai.OpenAI, fmt: str) -> None:
    response = client.audio.speech.create(
        model="tts-1",
        voice="alloy",
        input=TEXT,
        response_format=fmt,  # type: ignore[arg-type]
    )
    data = response.read()
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name.split(",")[0] == CONTAINERS[fmt]
    assert duration_of(data) == pytest.approx(speech_seconds(TEXT), rel=0.1)


def test_speech_pcm_and_speed(client: openai.OpenAI) -> None:
    data = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="coral", input=TEXT, response_format="pcm", speed=1.5
    ).read()
    assert len(data) / 2 / 24_000 == pytest.approx(speech_seconds(TEXT) / 1.5, rel=0.1)


def test_speech_streaming_response(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts",
        voice="nova",
        input=TEXT,
        instructions="Speak cheerfully.",
        response_format="wav",
    ) as response:
        assert response.headers["content-type"] == "audio/wav"
        data = b"".join(response.iter_bytes())
    assert duration_of(data) == pytest.approx(speech_seconds(TEXT), rel=0.1)


def test_speech_sse_events(server: Any, client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="ash", input=TEXT, stream_format="sse"
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    events = [json.loads(line[6:]) for line in lines]
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["input_tokens"] > 0
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert duration_of(audio) == pytest.approx(speech_seconds(TEXT), rel=0.1)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"voice": "robot"}, "Invalid value: 'robot'."),
        ({"speed": 5}, "Expected a value <= 4"),
        ({"response_format": "ogg"}, "Invalid value: 'ogg'."),
        ({"input": "x" * 4097}, "maximum length 4096"),
        ({"stream_format": "sse"}, "stream_format 'sse' is not supported for model 'tts-1'"),
    ],
)
def test_speech_bad_requests(client: openai.OpenAI, request_: dict[str, Any], message: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(
            **{"model": "tts-1", "voice": "alloy", "input": "hi", **request_}
        )
    assert message in caught.value.message


def test_speech_bytes_are_the_same_on_every_request(client: openai.OpenAI) -> None:
    def once() -> bytes:
        return client.audio.speech.create(model="tts-1", voice="echo", input="Same again.").read()

    assert once() == once()


def test_transcription_formats(client: openai.OpenAI) -> None:
    audio = speech_file()
    seconds = duration_of(audio)
    upload = ("speech.mp3", audio, "audio/mpeg")
    plain = client.audio.transcriptions.create(model="whisper-1", file=upload)
    assert plain.text and plain.usage is not None and plain.usage.type == "duration"
    words = len(plain.text.split())
    assert seconds * 2.5 * 0.5 <= words <= seconds * 2.5 * 1.5  # sized by the audio
    text = client.audio.transcriptions.create(
        model="whisper-1", file=upload, response_format="text"
    )
    assert text.strip() == plain.text  # the same file, the same words
    srt = client.audio.transcriptions.create(model="whisper-1", file=upload, response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> ")
    vtt = client.audio.transcriptions.create(model="whisper-1", file=upload, response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> ")
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=upload,
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert verbose.duration == pytest.approx(seconds, abs=0.01)
    assert verbose.words is not None and verbose.segments is not None
    assert verbose.words[-1].end == pytest.approx(seconds, abs=0.05)
    assert verbose.segments[-1].end == pytest.approx(seconds, abs=0.05)


@pytest.mark.parametrize("fmt", ["opus", "flac", "wav", "aac"])
def test_transcription_reads_real_durations_of_any_format(client: openai.OpenAI, fmt: str) -> None:
    audio = speech_file(fmt=fmt)
    result = client.audio.transcriptions.create(
        model="whisper-1", file=(f"a.{fmt}", audio), response_format="verbose_json"
    )
    assert result.duration == pytest.approx(speech_seconds(TEXT), rel=0.1)


def test_gpt_transcribe_stream_and_token_usage(server: Any, client: openai.OpenAI) -> None:
    upload = ("speech.wav", speech_file(fmt="wav"), "audio/wav")
    events = list(
        client.audio.transcriptions.create(model="gpt-4o-transcribe", file=upload, stream=True)
    )
    assert {e.type for e in events[:-1]} == {"transcript.text.delta"}
    done = events[-1]
    assert done.type == "transcript.text.done"
    assert "".join(e.delta for e in events[:-1]) == done.text  # type: ignore[union-attr]
    assert done.usage is not None and done.usage.input_tokens > 0
    journaled = server.app.state.mock.journal.entries()[-1].usage
    assert journaled["prompt_tokens"] == done.usage.input_tokens
    with pytest.raises(openai.BadRequestError, match="not compatible with model"):
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=upload, response_format="srt"
        )


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_translations(client: openai.OpenAI) -> None:
    result = client.audio.translations.create(
        model="whisper-1", file=("a.mp3", speech_file()), response_format="verbose_json"
    )
    assert result.text and result.duration == pytest.approx(speech_seconds(TEXT), rel=0.1)


def test_bad_uploads(server: Any, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="Invalid file format"):
        client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", b"not audio"))
    missing = httpx.post(
        server.url + "/v1/audio/transcriptions", data={"model": "whisper-1"}, files={"x": b"1"}
    )
    assert missing.json()["error"]["message"] == "Missing required parameter: 'file'."
    as_json = httpx.post(server.url + "/v1/audio/transcriptions", json={"model": "whisper-1"})
    assert "expected multipart/form-data" in as_json.json()["error"]["message"]


def test_rules_script_transcripts_and_faults(server: Any, client: openai.OpenAI) -> None:
    upload = ("a.mp3", speech_file())
    scripted = client.audio.transcriptions.create(
        model="whisper-1", file=upload, prompt="the weekly meeting"
    )
    assert scripted.text == "Welcome to the meeting. First item: the budget."
    with pytest.raises(openai.RateLimitError) as caught:
        client.audio.speech.create(model="tts-1", voice="alloy", input="overload now")
    assert caught.value.response.headers["retry-after"] == "1"
    entries = server.app.state.mock.journal.entries()
    assert [e.rule for e in entries[-2:]] == ["scripted-transcript", "too-many"]
    assert entries[-2].body["file"][0]["filename"] == "a.mp3"  # described, never its bytes


async def test_async_client(server: Any) -> None:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)
    speech = await client.audio.speech.create(
        model="tts-1", voice="fable", input=TEXT, response_format="flac"
    )
    data = speech.read()
    assert duration_of(data) == pytest.approx(speech_seconds(TEXT), rel=0.1)
    transcript = await client.audio.transcriptions.create(
        model="whisper-1", file=("a.flac", data), response_format="json"
    )
    assert transcript.text
    await client.close()


@pytest.mark.parametrize(("fmt", "container"), [("wav", "wav"), ("mp3", "mp3"), ("flac", "flac")])
def test_chat_audio_output(client: openai.OpenAI, fmt: str, container: str) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": fmt},  # type: ignore[typeddict-item]
        messages=[{"role": "user", "content": "Tell me something."}],
    )
    message = completion.choices[0].message
    assert message.content is None and message.audio is not None
    assert message.audio.id.startswith("audio_") and message.audio.transcript
    assert message.audio.expires_at == completion.created + 3600
    data = base64.b64decode(message.audio.data)
    with av.open(io.BytesIO(data)) as opened:
        assert opened.format.name.split(",")[0] == container
    assert duration_of(data) == pytest.approx(speech_seconds(message.audio.transcript), rel=0.1)
    usage = completion.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.audio_tokens
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_chat_audio_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini-audio-preview",
        modalities=["text", "audio"],
        audio={"voice": "sage", "format": "pcm16"},
        messages=[{"role": "user", "content": "Tell me a story."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    transcript, pcm, ids, expires = "", b"", set(), []
    usage = None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            audio = choice.delta.audio
            assert choice.delta.content is None
            if audio is not None:
                transcript += audio.transcript or ""
                pcm += base64.b64decode(audio.data or "")
                ids.update([audio.id] if audio.id else [])
                expires += [audio.expires_at] if audio.expires_at else []
    assert transcript and len(ids) == 1 and len(expires) == 1
    assert len(pcm) / 2 / 24_000 == pytest.approx(speech_seconds(transcript), rel=0.1)
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.audio_tokens
