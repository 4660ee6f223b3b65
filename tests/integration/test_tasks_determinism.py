"""The same task requests against the same scenario give byte-identical answers on a fresh
server: ids, timestamps, progress and files derive from the seed and the requests, and the
task clock starts at 0 again."""

from __future__ import annotations

import hashlib

import httpx

from tests.conftest import StartServer

SCENARIO = """\
version: 1
seed: 7
clock: 2025-06-01T00:00:00Z
rules:
  - name: slow-fox
    match: {last_user: fox}
    task: {stages: [QUEUED, IN_PROGRESS, IN_PROGRESS], stage_seconds: 12}
"""


def session(url: str) -> list[bytes]:
    """One client's calls: submissions of three families, polls, files; every body read."""
    bodies: list[bytes] = []
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer sk-x"}) as client:

        def keep(response: httpx.Response) -> httpx.Response:
            assert response.status_code == 200, response.text
            bodies.append(response.content.replace(url.encode(), b"<origin>"))
            return response

        video = keep(client.post("/v1/videos", data={"model": "sora-2", "prompt": "a fox"})).json()
        for _ in range(4):
            keep(client.get(f"/v1/videos/{video['id']}"))
        keep(client.get(f"/v1/videos/{video['id']}/content"))
        again = keep(client.post("/v1/videos", data={"model": "sora-2", "prompt": "a fox"}))
        assert again.json()["id"] != video["id"]  # a repeated request is a new task
        mj = keep(client.post("/mj/submit/imagine", json={"prompt": "owl"})).json()["result"]
        for _ in range(3):
            keep(client.get(f"/mj/task/{mj}/fetch"))
        keep(client.get(f"/mj/image/{mj}"))
        song = keep(client.post("/suno/submit/music", json={"prompt": "la"})).json()["data"]
        for _ in range(3):
            keep(client.get(f"/suno/fetch/{song}"))
    return bodies


def test_a_fresh_server_answers_byte_for_byte_the_same(start_server: StartServer) -> None:
    first = session(start_server(SCENARIO).url)
    second = session(start_server(SCENARIO).url)
    assert [hashlib.sha256(b).hexdigest() for b in first] == [
        hashlib.sha256(b).hexdigest() for b in second
    ]
    assert b'"created_at":1748736000' in first[0]  # the scenario's clock, not the wall clock
