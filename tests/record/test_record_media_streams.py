"""Streamed pictures (`stream: true`, `partial_images`) and streamed speech (`stream_format:
"sse"`, and plain audio read in chunks) recorded through the official `openai` SDK from an
upstream that is a second mockserver: the client gets the stream as it arrives, the recording
keeps the final picture or the whole audio as a file with the stream's timing, and a replay
with the upstream gone streams again with the same final bytes and usage."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from mockserver.cli import main
from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.record.recording import assert_valid_and_keyless, record_through_proxy
from tests.record.test_record_ideogram import png
from tests.record.test_record_media import wav_bytes

UPSTREAM = """
version: 1
seed: 3
rules:
  - name: kite  # usage unlike what a replay would compute: a recording must keep it
    match: {model: gpt-image-1, last_user: {contains: kite}}
    reply: {usage: {prompt_tokens: 55, completion_tokens: 999}}
  - name: spoken
    match: {model: gpt-4o-mini-tts, last_user: {contains: quick brown fox}}
    reply: {usage: {prompt_tokens: 33, completion_tokens: 444}}
  - name: transcribed
    match: {model: gpt-4o-transcribe}
    reply: {usage: {prompt_tokens: 210, completion_tokens: 12}}
"""
KEY = "sk-live-SECRET-stream-key-0123456789"
SPOKEN = "The quick brown fox jumps over the lazy dog, twice over."


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def session(base: str) -> dict[str, Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
    seen: dict[str, Any] = {}
    events = list(
        client.images.generate(
            model="gpt-image-1", prompt="a kite", stream=True, partial_images=2, size="1024x1024"
        )
    )
    seen["generated"] = [event.type for event in events]
    done = events[-1]
    assert done.type == "image_generation.completed"
    seen["generated_final"] = sha(base64.b64decode(done.b64_json))
    seen["generated_usage"] = done.usage.model_dump()
    edits = list(
        client.images.edit(
            model="gpt-image-1",
            image=("a.png", png((1024, 1024)), "image/png"),
            prompt="a hat",
            stream=True,
            partial_images=1,
        )
    )
    seen["edited"] = [event.type for event in edits]
    seen["edited_final"] = sha(base64.b64decode(edits[-1].b64_json))
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="ash", input=SPOKEN, stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    spoken = [json.loads(line[6:]) for line in lines]
    seen["sse_types"] = sorted({event["type"] for event in spoken})
    seen["sse_audio"] = sha(
        b"".join(base64.b64decode(e["audio"]) for e in spoken if e["type"] == "speech.audio.delta")
    )
    seen["sse_usage"] = spoken[-1]["usage"]
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="ash", input="Chunk by chunk.", response_format="wav"
    ) as response:
        seen["chunked"] = sha(b"".join(response.iter_bytes(chunk_size=1024)))
    transcribed = list(
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", wav_bytes()), stream=True
        )
    )
    seen["transcribed"] = [event.type for event in transcribed][-1:]
    finished = transcribed[-1]
    assert finished.type == "transcript.text.done" and finished.usage is not None
    seen["transcribed_usage"] = finished.usage.model_dump()
    seen["transcript"] = "".join(
        event.delta for event in transcribed if event.type == "transcript.text.delta"
    )
    client.close()
    return seen


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("media-streams")
    yield record_through_proxy(folder, UPSTREAM, "streams", session)


def rules_of(path: Path) -> dict[str, dict[str, Any]]:
    """The rules by the prompt they match (a transcription without one, by its model)."""
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    return {rule["match"]["last_user"]["equals"] or rule["match"]["model"]: rule for rule in rules}


def test_streams_pass_through_and_keep_the_final_artifact(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, seen = recorded
    assert seen["generated"] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    assert seen["edited"] == ["image_edit.partial_image", "image_edit.completed"]
    assert seen["sse_types"] == ["speech.audio.delta", "speech.audio.done"]
    rules = rules_of(path)
    kite = rules["a kite"]
    assert kite["reply"]["usage"] == {"prompt_tokens": 55, "completion_tokens": 999}
    usage = seen["generated_usage"]  # the upstream's scripted counts, replayed as they were
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (55, 999, 1054)
    assert sha((path.parent / kite["reply"]["file"]).read_bytes()) == seen["generated_final"]
    assert (
        sha((path.parent / rules["a hat"]["reply"]["file"]).read_bytes()) == (seen["edited_final"])
    )
    spoken = rules[SPOKEN]
    assert sha((path.parent / spoken["reply"]["file"]).read_bytes()) == seen["sse_audio"]
    assert spoken["reply"]["file"].endswith(".mp3")
    chunked = rules["Chunk by chunk."]
    assert sha((path.parent / chunked["reply"]["file"]).read_bytes()) == seen["chunked"]
    transcript = rules["gpt-4o-transcribe"]
    assert transcript["reply"] == {
        "content": seen["transcript"],
        "usage": {"prompt_tokens": 210, "completion_tokens": 12},
    }
    assert spoken["reply"]["usage"] == {"prompt_tokens": 33, "completion_tokens": 444}
    assert seen["sse_usage"] == {"input_tokens": 33, "output_tokens": 444, "total_tokens": 477}
    heard = seen["transcribed_usage"]  # the upstream's scripted counts, replayed as they were
    assert (heard["input_tokens"], heard["output_tokens"], heard["total_tokens"]) == (210, 12, 222)
    assert seen["transcribed"] == ["transcript.text.done"]
    # The stream's timing, for a replay with latency on; a body's whole wait.
    for streamed in (kite, spoken, transcript):
        latency = streamed["latency"]
        assert latency["recorded"] is True
        assert latency["ttft"] >= 0 and latency["chunk_interval"] >= 0
    assert chunked["latency"]["recorded"] is True and chunked["latency"]["delay"] >= 0


def test_replayed_as_streams_with_the_same_bytes_and_usage(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, seen = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        again = session(replay.url)
    assert again == seen


def test_file_validates_and_holds_no_key(recorded: tuple[Path, dict[str, Any]]) -> None:
    path = recorded[0]
    assert_valid_and_keyless(path, KEY)


def test_replayed_with_the_recorded_timing(
    recorded: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """With latency on (a scenario's `latency: recorded`), the streams are paced by their
    recorded timing and still carry the same bytes."""
    import shutil

    path, seen = recorded
    copy = tmp_path / "recordings"
    shutil.copytree(path.parent, copy)
    paced = copy / path.name
    paced.write_text("latency: recorded\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["validate", str(paced)]) == 0
    with ServerThread(recording_app(paced, RecordMode.REPLAY, None)) as replay:
        again = session(replay.url)
    assert again == seen


def test_streams_pass_through_unchanged(tmp_path: Path) -> None:
    """What the client reads through the proxy is, byte for byte, what the upstream sends
    (compared with a fresh upstream asked directly: the same request, the same stream)."""
    import httpx

    from mockserver.http.app import create_app
    from mockserver.settings import Settings

    (tmp_path / "upstream.yaml").write_text(UPSTREAM)
    requests = [
        (
            "/v1/images/generations",
            {
                "model": "gpt-image-1",
                "prompt": "a kite",
                "stream": True,
                "partial_images": 1,
                "size": "1024x1024",
            },
        ),
        (
            "/v1/audio/speech",
            {"model": "gpt-4o-mini-tts", "voice": "ash", "input": SPOKEN, "stream_format": "sse"},
        ),
    ]

    def read(base: str) -> list[bytes]:
        headers = {"authorization": f"Bearer {KEY}"}
        return [
            httpx.post(base + path, json=body, headers=headers).content for path, body in requests
        ]

    def upstream() -> ServerThread:
        app = create_app(Settings(scenario_paths=[str(tmp_path / "upstream.yaml")]))
        return ServerThread(app).start()

    first = upstream()
    proxy = ServerThread(
        recording_app(tmp_path / "r" / "s.yaml", RecordMode.RECORD, first.url)
    ).start()
    try:
        through = read(proxy.url)
    finally:
        proxy.stop()
        first.stop()
    second = upstream()
    try:
        direct = read(second.url)
    finally:
        second.stop()
    assert through == direct
    assert through[0].count(b"event: image_generation.") == 2
