"""The upstream's own URLs in its answers lead back through the proxy: Replicate's `urls.get`
and output (through the `replicate` SDK), fal's `status_url`/`response_url` (followed over raw
HTTP as `fal_client` follows them), a `Location` header; a file's bytes are left alone. What a
client polls by those URLs is recorded, and replays with the upstream gone. And a slow file
download at record time leaves the proxy answering its other calls."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import replicate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mockserver.cli import main
from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.origins import Rewriter
from mockserver.record.session import recording_app
from tests.record.recording import each, record_through_proxy

UPSTREAM = """
version: 1
seed: 7
rules: []
"""
KEY = "sk-live-SECRET-origins-key-0123456789"
POLLS = 10  # bounded: a task that never finishes fails the test instead of hanging it
WAIT = 30.0  # a bound on waiting for the other thread, not a timing under test


def test_a_url_split_across_chunks_is_rewritten_and_an_event_is_not_held() -> None:
    rewrite = Rewriter("http://up:9000", "http://me:1")
    first = rewrite.chunk(b'{"a": "http://up:90')
    assert first == b'{"a": "'  # the tail that may begin the upstream's URL waits
    assert rewrite.chunk(b'00/x"}') == b'http://me:1/x"}'
    assert rewrite.chunk(b"data: {}\n\n") == b"data: {}\n\n"  # nothing held back
    assert rewrite.chunk(b"http") == b"" and rewrite.rest() == b"http"
    assert Rewriter.rewrites("application/json; charset=utf-8")
    assert Rewriter.rewrites("text/event-stream")
    assert not Rewriter.rewrites("video/mp4") and not Rewriter.rewrites("image/png")


def _bearer() -> dict[str, str]:
    return {"authorization": f"Bearer {KEY}"}


def sha(url: str) -> str:
    return hashlib.sha256(httpx.get(url).raise_for_status().content).hexdigest()


def replicate_by_urls(base: str) -> list[Any]:
    """Created through the SDK, polled by the prediction's own `urls.get`."""
    client = replicate.Client(api_token=KEY, base_url=f"{base}/replicate")
    prediction = client.models.predictions.create(
        model="minimax/video-01", input={"prompt": "a crane in the reeds"}
    )
    assert prediction.urls is not None
    get = prediction.urls["get"]
    assert get.startswith(base + "/"), get  # not the upstream's
    seen: list[Any] = [prediction.id, prediction.status]
    for _ in range(POLLS):
        polled = httpx.get(get, headers=_bearer()).raise_for_status().json()
        seen.append(polled["status"])
        if polled["status"] in ("succeeded", "failed"):
            break
    assert polled["output"].startswith(base + "/"), polled["output"]
    return [*seen, sha(polled["output"])]


def fal_by_urls(base: str) -> list[Any]:
    """As `fal_client` does: the status and the result read from the URLs the queue gave."""
    with httpx.Client(headers={"authorization": f"Key {KEY}"}) as client:
        body = {"prompt": "a fern", "image_size": "square"}
        queued = client.post(f"{base}/fal-ai/flux/schnell", json=body).json()
        for name in ("status_url", "response_url", "cancel_url"):
            assert queued[name].startswith(base + "/"), queued[name]
        seen: list[Any] = [queued["request_id"], queued["status"]]
        for _ in range(POLLS):
            status = client.get(queued["status_url"]).json()
            seen.append(status["status"])
            if status["status"] == "COMPLETED":
                break
        images = client.get(queued["response_url"]).json()["images"]
    return [*seen, *(sha(image["url"]) for image in images)]


SESSIONS = {"replicate": replicate_by_urls, "fal": fal_by_urls}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("origins")
    yield record_through_proxy(folder, UPSTREAM, "origins", each(SESSIONS))


def test_polls_by_the_answer_s_urls_are_recorded(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, seen = recorded
    assert seen["replicate"][1:-1] == ["starting", "processing", "succeeded"]
    assert seen["fal"][1:-1] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert main(["validate", str(path)]) == 0
    text = path.read_text()
    for session in seen.values():
        assert session[0] in text  # the task, with the progression its polls showed
    assert "IN_PROGRESS" in text
    for written in path.parent.rglob("*"):
        if written.is_file():
            assert KEY.encode() not in written.read_bytes(), written


@pytest.mark.parametrize("family", list(SESSIONS))
def test_replay_by_the_answer_s_urls(recorded: tuple[Path, dict[str, Any]], family: str) -> None:
    path, through = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        assert SESSIONS[family](replay.url) == through[family]


# --- A hand-made upstream: a redirect, a file naming the upstream, a slow download ----------


class SlowUpstream:
    """Luma-like: a generation finished in its submission's answer, whose video the proxy
    downloads at record time; the download waits until the test lets it go."""

    def __init__(self) -> None:
        self.download_started = threading.Event()
        self.release = threading.Event()
        self.url = ""

    def app(self) -> Starlette:
        async def generation(request: Request) -> Response:
            video = {"url": f"{self.url}/slow.mp4"}
            answer = {"id": "gen-1", "state": "completed", "video": video}
            return JSONResponse(answer, status_code=201)

        async def slow(request: Request) -> Response:
            self.download_started.set()
            released = await asyncio.to_thread(self.release.wait, WAIT)
            assert released
            return Response(b"\x00\x00\x00\x18ftypmp42 slow", media_type="video/mp4")

        async def moved(request: Request) -> Response:
            return RedirectResponse(f"{self.url}/elsewhere", status_code=307)

        async def binary(request: Request) -> Response:
            return Response(self.url.encode() + b"\x00\x01", media_type="application/octet-stream")

        async def chat(request: Request) -> Response:
            message = {"role": "assistant", "content": f"see {self.url}/docs"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
            head = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1}
            return JSONResponse(
                head | {"model": "gpt-4o-mini", "choices": [choice], "usage": usage}
            )

        async def ping(request: Request) -> Response:
            return JSONResponse({"ok": True, "here": f"{self.url}/ping"})

        return Starlette(
            routes=[
                Route("/luma/generations", generation, methods=["POST"]),
                Route("/slow.mp4", slow),
                Route("/moved", moved),
                Route("/binary", binary),
                Route("/ping", ping),
                Route("/v1/chat/completions", chat, methods=["POST"]),
            ]
        )


@pytest.fixture
def slow_upstream() -> Iterator[SlowUpstream]:
    upstream = SlowUpstream()
    with ServerThread(upstream.app()) as server:
        upstream.url = server.url
        try:
            yield upstream
        finally:
            upstream.release.set()


def test_headers_and_text_are_rewritten_a_file_is_not(
    tmp_path: Path, slow_upstream: SlowUpstream
) -> None:
    app = recording_app(tmp_path / "r.yaml", RecordMode.RECORD, slow_upstream.url)
    with ServerThread(app) as proxy, httpx.Client(base_url=proxy.url) as client:
        moved = client.get("/moved")
        assert moved.headers["location"] == f"{proxy.url}/elsewhere"
        assert client.get("/ping").json()["here"] == f"{proxy.url}/ping"
        assert client.get("/binary").content == slow_upstream.url.encode() + b"\x00\x01"
        # a model's text is its own, even where it names the upstream's host
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "where?"}]}
        answer = client.post("/v1/chat/completions", json=body).json()
        assert answer["choices"][0]["message"]["content"] == f"see {slow_upstream.url}/docs"


def test_a_slow_download_leaves_the_proxy_answering(
    tmp_path: Path, slow_upstream: SlowUpstream
) -> None:
    path = tmp_path / "r.yaml"
    app = recording_app(path, RecordMode.RECORD, slow_upstream.url)
    with ServerThread(app) as proxy:
        answers: list[httpx.Response] = []

        def submit() -> None:
            body = {"user_prompt": "a slow river", "resolution": "540p"}
            answers.append(httpx.post(f"{proxy.url}/luma/generations", json=body, timeout=WAIT))

        submitting = threading.Thread(target=submit)
        submitting.start()
        try:
            assert slow_upstream.download_started.wait(WAIT)
            # the download is pending: another call is answered all the same
            other = httpx.get(f"{proxy.url}/ping", timeout=WAIT)
            assert other.json()["ok"] is True
            assert not answers  # the submission still waits for its file
        finally:
            slow_upstream.release.set()
            submitting.join(WAIT)
        assert answers[0].status_code == 201
    assert b"slow" in next((tmp_path / "media").iterdir()).read_bytes()
