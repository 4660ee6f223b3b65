"""Generated media are the same bytes on every server: two apps in one process, and two server
processes with different hash seeds."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image

from tests.conftest import ROOT, StartServer

SERVER = """
import time
from mockserver.http.app import create_app
from mockserver.http.server_thread import ServerThread
from mockserver.settings import Settings
server = ServerThread(create_app(Settings(port=0, seed=9))).start()
print(server.port, flush=True)
time.sleep(120)
"""


def wav_upload() -> bytes:
    from mockserver.media.audio import SpeechRecipe, synthesize

    return synthesize(SpeechRecipe(seed=0, text="One two three four five.", format="wav"))


def media_sequence(base_url: str) -> list[bytes]:
    """The bytes of an image (by URL and by base64 JSON), speech in three formats, a
    transcription, and the image's URL itself."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        generated = client.post(
            "/v1/images/generations",
            json={"model": "dall-e-3", "prompt": "a tidal island", "size": "1024x1024"},
        ).json()
        url = generated["data"][0]["url"]
        picture = httpx.get(url, timeout=60).content
        gpt_image = client.post(
            "/v1/images/generations",
            json={"model": "gpt-image-1", "prompt": "a tidal island", "output_format": "jpeg"},
        ).content
        speech = [
            client.post(
                "/v1/audio/speech",
                json={"model": "tts-1", "voice": "alloy", "input": "Tides.", "response_format": f},
            ).content
            for f in ("mp3", "opus", "aac")
        ]
        # Doubao's and DashScope's own shapes: the whole body, this server's address left out.
        ark = client.post(
            "/api/v3/images/generations",
            json={"model": "doubao-seedream-4-0-250828", "prompt": "a tidal island", "size": "1K"},
        ).content.replace(base_url.encode(), b"")
        qwen = client.post(
            "/api/v1/services/aigc/multimodal-generation/generation",
            json={
                "model": "qwen-image",
                "input": {"messages": [{"role": "user", "content": [{"text": "a tidal island"}]}]},
            },
        ).content.replace(base_url.encode(), b"")
        assert b'"generated_images":1' in ark and b'"image_count":1' in qwen, (ark, qwen)
        transcript = client.post(
            "/v1/audio/transcriptions",
            data={"model": "whisper-1", "response_format": "verbose_json"},
            files={"file": ("a.wav", wav_upload(), "audio/wav")},
        ).content
    return [
        url.partition("/_mock/")[2].encode(),
        picture,
        gpt_image,
        *speech,
        transcript,
        ark,
        qwen,
    ]


def test_two_apps_with_one_seed_make_the_same_files(start_server: StartServer) -> None:
    first = media_sequence(start_server(seed=9).url)
    second = media_sequence(start_server(seed=9).url)
    assert first == second
    assert Image.open(io.BytesIO(first[1])).size == (1024, 1024)
    other_seed = media_sequence(start_server(seed=10).url)
    assert other_seed[1] != first[1]


@contextmanager
def server_process(hash_seed: str, home: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def test_byte_identical_across_processes(tmp_path: Path) -> None:
    with server_process("1", tmp_path) as url:
        first = media_sequence(url)
    with server_process("2", tmp_path) as url:
        second = media_sequence(url)
    assert first == second
