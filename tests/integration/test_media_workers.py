"""`mockserver serve --workers 2`: a generated file's URL answers whichever worker takes the
download (its recipe is in the shared store; each worker caches the bytes it made)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.served import serve

DOWNLOADS = 12  # each on a new connection: the kernel spreads them over both workers


def test_every_worker_serves_every_url(tmp_path: Path) -> None:
    with serve("--workers", "2", logs=tmp_path) as served, served.client() as client:
        made = client.post(
            "/v1/images/generations",
            json={"model": "dall-e-2", "prompt": "two workers", "size": "256x256"},
        )
        url = made.json()["data"][0]["url"]
        speech = client.post(
            "/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "Hello."}
        )
        assert speech.status_code == 200
        downloads = [client.get(url) for _ in range(DOWNLOADS)]
        assert {d.status_code for d in downloads} == {200}
        assert len({d.content for d in downloads}) == 1
