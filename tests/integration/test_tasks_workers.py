"""Tasks on the shared store: with `serve --workers 2 --state FILE`, a task submitted to one
worker is polled on either (each poll moves it exactly one stage, whichever worker answers),
and a restart on the same file keeps it. Every request goes on a new connection, so the kernel
spreads them over the workers; the journal's `worker` field says which answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.integration.served import serve

AUTH = {"authorization": "Bearer sk-task-workers"}
SLOW = """\
version: 1
rules:
  - name: slow
    match: {last_user: slow}
    task: {stages: [NOT_START, SUBMITTED, IN_PROGRESS, IN_PROGRESS, IN_PROGRESS, IN_PROGRESS]}
"""


def journal(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/_mock/requests", params=filters).json()["requests"]
    return found


def test_a_task_is_polled_on_either_worker_and_kept_across_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    args = ("--workers", "2", "--state", str(state))
    with serve(*args, logs=tmp_path / "first") as first, first.client() as client:
        assert client.post("/_mock/scenarios", content=SLOW).status_code == 200
        workers: set[int] = set()
        for _ in range(40):  # until both workers answered polls (the kernel usually alternates)
            task_id = client.post(
                "/mj/submit/imagine", json={"prompt": "slow owl"}, headers=AUTH
            ).json()["result"]
            progress = []
            for _ in range(6):
                fetched = client.get(f"/mj/task/{task_id}/fetch", headers=AUTH).json()
                progress.append((fetched["status"], fetched["progress"]))
            # each poll moved the task exactly one stage, whichever worker took it
            assert progress == [
                ("SUBMITTED", "10%"),
                ("IN_PROGRESS", "30%"),
                ("IN_PROGRESS", "50%"),
                ("IN_PROGRESS", "70%"),
                ("IN_PROGRESS", "90%"),
                ("SUCCESS", "100%"),
            ]
            polls = journal(client, endpoint=f"/mj/task/{task_id}/fetch")
            workers |= {entry["worker"] for entry in polls}
            if len(workers) == 2:
                break
        assert len(workers) == 2, "one worker took every poll"
        video = client.post("/v1/videos", json={"model": "sora-2", "prompt": "x"}, headers=AUTH)
        video_id = video.json()["id"]
        seedance = {"model": "doubao-seedance-1-0-lite-t2v-250428",
                    "content": [{"type": "text", "text": "x --rs 480p"}]}  # fmt: skip
        ark = "/volc/v1/contents/generations/tasks"
        cgt = client.post(ark, json=seedance, headers=AUTH).json()["id"]
        prediction = client.post(
            "/replicate/v1/models/minimax/video-01/predictions",
            json={"input": {"prompt": "x", "extra": {"nested": [1, None]}}}, headers=AUTH,
        ).json()["id"]  # fmt: skip
    with serve(*args, logs=tmp_path / "second") as second, second.client() as client:
        kept = client.get(f"/mj/task/{task_id}/fetch", headers=AUTH).json()
        assert (kept["status"], kept["prompt"]) == ("SUCCESS", "slow owl")
        assert client.get(f"/mj/image/{task_id}").headers["content-type"] == "image/png"
        assert client.get(f"/v1/videos/{video_id}", headers=AUTH).json()["status"] == "in_progress"
        # the vendors' own task families keep their parameters across the restart too
        assert client.get(f"{ark}/{cgt}", headers=AUTH).json()["resolution"] == "480p"
        kept_prediction = client.get(f"/replicate/v1/predictions/{prediction}", headers=AUTH)
        assert kept_prediction.json()["input"]["extra"] == {"nested": [1, None]}
