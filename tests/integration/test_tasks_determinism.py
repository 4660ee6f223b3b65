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
        # The vendors' own task shapes: ids in their formats, times and files from the seed.
        ark = "/volc/v1/contents/generations/tasks"
        seedance = {"model": "doubao-seedance-1-0-lite-t2v-250428",
                    "content": [{"type": "text", "text": "a fox --rs 480p"}]}  # fmt: skip
        cgt = keep(client.post(ark, json=seedance)).json()["id"]
        for _ in range(4):
            done = keep(client.get(f"{ark}/{cgt}")).json()
        keep(client.get(done["content"]["video_url"]))
        wan = {"model": "wan2.2-t2v-plus", "input": {"prompt": "a fox"},
               "parameters": {"size": "832*480"}}  # fmt: skip
        synthesis = "/alibailian/api/v1/services/aigc/video-generation/video-synthesis"
        posted = client.post(synthesis, json=wan, headers={"X-DashScope-Async": "enable"})
        wan_id = keep(posted).json()["output"]["task_id"]
        for _ in range(4):
            keep(client.get(f"/alibailian/api/v1/tasks/{wan_id}"))
        runway = {"X-Runway-Version": "2024-11-06"}
        body = {"model": "gen4_turbo", "promptImage": "https://x/y.png", "promptText": "a fox"}
        gen = keep(client.post("/runwayml/v1/image_to_video", json=body, headers=runway))
        for _ in range(4):
            keep(client.get(f"/runwayml/v1/tasks/{gen.json()['id']}", headers=runway))
    return bodies


def test_a_fresh_server_answers_byte_for_byte_the_same(start_server: StartServer) -> None:
    first = session(start_server(SCENARIO).url)
    second = session(start_server(SCENARIO).url)
    assert [hashlib.sha256(b).hexdigest() for b in first] == [
        hashlib.sha256(b).hexdigest() for b in second
    ]
    assert b'"created_at":1748736000' in first[0]  # the scenario's clock, not the wall clock
