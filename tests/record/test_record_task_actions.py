"""Tasks that work on other tasks, and the gateway's own task routes, recorded from an upstream
that is a second mockserver: Midjourney's actions (a button, change, simple-change, describe,
shorten, video, blend, face swap), batch polls (Luma's `/luma/tasks`, Midjourney's
`list-by-condition`, Suno's `POST /suno/fetch`), Suno's lyrics, OpenAI's video remix (through
the `openai` SDK), a Luma extension, the gateway's `/v1/video/create`, and Suno's music with its
clips. Replayed with the upstream gone: the same ids and statuses, and the upstream's own
pictures, audio and videos — not files made anew."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from mockserver.cli import main
from mockserver.http.server_thread import ServerThread
from mockserver.record.modes import RecordMode
from mockserver.record.session import recording_app
from tests.record.recording import each, record_through_proxy

UPSTREAM = """
version: 1
seed: 5
rules: []
"""
KEY = "sk-live-SECRET-actions-key-0123456789"
POLLS = 10  # bounded: a task that never finishes fails the test instead of hanging it


def sha(url: str) -> str:
    return hashlib.sha256(httpx.get(url).raise_for_status().content).hexdigest()


def _mj_poll(client: httpx.Client, task_id: str) -> list[Any]:
    seen: list[Any] = []
    for _ in range(POLLS):
        task = client.get(f"/mj/task/{task_id}/fetch").json()
        seen.append((task["status"], task["progress"]))
        if task["status"] in ("SUCCESS", "FAILURE"):
            break
    return [*seen, task]


def midjourney(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers={"mj-api-secret": KEY}) as client:
        grid_id = client.post("/mj/submit/imagine", json={"prompt": "a koi pond"}).json()["result"]
        *seen, grid = _mj_poll(client, grid_id)
        seen += [grid_id, sha(grid["imageUrl"])]
        u2 = next(button for button in grid["buttons"] if button["label"] == "U2")
        body = {"customId": u2["customId"], "taskId": grid_id}
        upscale_id = client.post("/mj/submit/action", json=body).json()["result"]
        *polled, upscale = _mj_poll(client, upscale_id)
        seen += [upscale_id, *polled, upscale["action"], sha(upscale["imageUrl"])]
        region = next(button for button in upscale["buttons"] if button["label"] == "Vary (Region)")
        body = {"customId": region["customId"], "taskId": upscale_id}
        answer = client.post("/mj/submit/action", json=body).json()  # waits for the modal
        inpaint_id = answer["result"]
        waiting = client.get(f"/mj/task/{inpaint_id}/fetch").json()["status"]
        client.post("/mj/submit/modal", json={"taskId": inpaint_id, "prompt": "a golden koi"})
        *polled, inpainted = _mj_poll(client, inpaint_id)
        seen += [answer["code"], waiting, inpaint_id, *polled, sha(inpainted["imageUrl"])]
        body = {"taskId": grid_id, "action": "VARIATION", "index": 3}
        variation_id = client.post("/mj/submit/change", json=body).json()["result"]
        *polled, variation = _mj_poll(client, variation_id)
        seen += [variation_id, *polled, variation["action"], sha(variation["imageUrl"])]
        body = {"content": f"{grid_id} U4"}
        simple_id = client.post("/mj/submit/simple-change", json=body).json()["result"]
        *polled, simple = _mj_poll(client, simple_id)
        seen += [simple_id, *polled, sha(simple["imageUrl"])]
        shorten_id = client.post("/mj/submit/shorten", json={"prompt": "a very long koi pond"})
        *polled, shortened = _mj_poll(client, shorten_id.json()["result"])
        seen += [shorten_id.json()["result"], *polled, shortened["status"]]
        image = "data:image/png;base64,iVBORw0KGgo="
        describe_id = client.post("/mj/submit/describe", json={"base64": image}).json()["result"]
        *polled, described = _mj_poll(client, describe_id)
        seen += [describe_id, *polled, described["prompt"], sha(described["imageUrl"])]
    return seen


def remix(base: str) -> list[Any]:
    client = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)
    seen: list[Any] = []
    video_id = client.videos.create(model="sora-2", prompt="a paper boat").id
    for source in (video_id, None):
        if source is None:
            video_id = client.videos.remix(video_id, prompt="the boat in a storm").id
        seen.append(video_id)
        for _ in range(POLLS):
            polled = client.videos.retrieve(video_id)
            seen.append((polled.status, polled.progress))
            if polled.status in ("completed", "failed"):
                break
        content = client.videos.download_content(video_id).read()
        seen.append(hashlib.sha256(content).hexdigest())
    client.close()
    return seen


def video_create(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}) as client:
        body = {"model": "veo3.1-fast", "prompt": "a lighthouse in fog", "aspect_ratio": "16:9"}
        created = client.post("/v1/video/create", json=body).json()
        seen: list[Any] = [created["id"], created["status"]]
        for _ in range(POLLS):
            queried = client.get("/v1/video/query", params={"id": created["id"]}).json()
            seen.append(queried["status"])
            if queried["status"] in ("completed", "failed"):
                break
    return [*seen, sha(queried["video_url"])]


def luma_extension(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}) as client:
        seen: list[Any] = []
        path = "/luma/generations"
        for body in ({"user_prompt": "a fox runs", "resolution": "540p"}, {}):
            generation = client.post(path, json=body).json()
            seen += [generation["id"], generation["state"]]
            for _ in range(POLLS):
                generation = client.get(f"/luma/generations/{generation['id']}").json()
                seen.append(generation["state"])
                if generation["state"] in ("completed", "failed"):
                    break
            seen += [sha(generation["video"]["url"]), sha(generation["thumbnail"]["url"])]
            path = f"/luma/generations/{generation['id']}/extend"  # the next: its extension
    return seen


def suno(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}) as client:
        body = {"gpt_description_prompt": "a song about snow", "mv": "chirp-v3-5"}
        task_id = client.post("/suno/submit/music", json=body).json()["data"]
        seen: list[Any] = [task_id]
        for _ in range(POLLS):
            data = client.get(f"/suno/fetch/{task_id}").json()["data"]
            seen.append((data["status"], data["progress"]))
            if data["status"] in ("SUCCESS", "FAILURE"):
                break
    audio = [sha(clip["audio_url"]) for clip in data["data"]]
    return [*seen, *audio, *(sha(clip["image_url"]) for clip in data["data"])]


def _mj_listed(client: httpx.Client, task_id: str) -> list[Any]:
    """Polled as a batch: `list-by-condition` with the one id."""
    seen: list[Any] = []
    for _ in range(POLLS):
        task = client.post("/mj/task/list-by-condition", json={"ids": [task_id]}).json()[0]
        seen.append((task["status"], task["progress"]))
        if task["status"] in ("SUCCESS", "FAILURE"):
            break
    return [*seen, task]


def midjourney_more(base: str) -> list[Any]:
    """A grid's video, a blend and a face swap (this one polled by list-by-condition)."""
    image = "data:image/png;base64,iVBORw0KGgo="
    other = "data:image/png;base64,iVBORw0KGgoAAAA="
    with httpx.Client(base_url=base, headers={"mj-api-secret": KEY}) as client:
        grid_id = client.post("/mj/submit/imagine", json={"prompt": "a paper lantern"})
        *seen, grid = _mj_poll(client, grid_id.json()["result"])
        body = {"taskId": grid["id"], "index": 1}
        video_id = client.post("/mj/submit/video", json=body).json()["result"]
        *polled, video = _mj_poll(client, video_id)
        seen += [video_id, *polled, video["action"], sha(video["videoUrl"])]
        body = {"base64Array": [image, other]}
        blend_id = client.post("/mj/submit/blend", json=body).json()["result"]
        *polled, blended = _mj_poll(client, blend_id)
        seen += [blend_id, *polled, blended["action"], sha(blended["imageUrl"])]
        body = {"sourceBase64": image, "targetBase64": other}
        swap_id = client.post("/mj/insight-face/swap", json=body).json()["result"]
        *polled, swapped = _mj_listed(client, swap_id)
        seen += [swap_id, *polled, swapped["action"], sha(swapped["imageUrl"])]
    return seen


def batch_polls(base: str) -> list[Any]:
    """Luma's `POST /luma/tasks` and Suno's `POST /suno/fetch`: several tasks by id."""
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}) as client:
        body = {"user_prompt": "a heron fishing", "resolution": "540p"}
        generation_id = client.post("/luma/generations", json=body).json()["id"]
        seen: list[Any] = [generation_id]
        for _ in range(POLLS):
            generation = client.post("/luma/tasks", json={"ids": [generation_id]}).json()[0]
            seen.append(generation["state"])
            if generation["state"] in ("completed", "failed"):
                break
        seen.append(sha(generation["video"]["url"]))
        body = {"gpt_description_prompt": "a song about rain", "mv": "chirp-v3-5"}
        song_id = client.post("/suno/submit/music", json=body).json()["data"]
        seen.append(song_id)
        for _ in range(POLLS):
            data = client.post("/suno/fetch", json={"ids": [song_id]}).json()["data"][0]
            seen.append((data["status"], data["progress"]))
            if data["status"] in ("SUCCESS", "FAILURE"):
                break
    return [*seen, *(sha(clip["audio_url"]) for clip in data["data"])]


def suno_wav(base: str) -> list[Any]:
    """The second clip's WAV only (`act/wav`, then its file): the first's is not recorded."""
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}) as client:
        body = {"gpt_description_prompt": "a song about hail"}
        task_id = client.post("/suno/submit/music", json=body).json()["data"]
        for _ in range(POLLS):
            data = client.get(f"/suno/fetch/{task_id}").json()["data"]
            if data["status"] in ("SUCCESS", "FAILURE"):
                break
        clip_id = data["data"][1]["id"]
        url = client.get(f"/suno/act/wav/{clip_id}").json()["data"]
    return [task_id, data["status"], sha(url)]


def suno_lyrics(base: str) -> list[Any]:
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {KEY}"}) as client:
        task_id = client.post("/suno/submit/lyrics", json={"prompt": "a lullaby"}).json()["data"]
        seen: list[Any] = [task_id]
        for _ in range(POLLS):
            data = client.get(f"/suno/fetch/{task_id}").json()["data"]
            seen.append((data["status"], data["progress"]))
            if data["status"] in ("SUCCESS", "FAILURE"):
                break
    lyrics = data["data"]
    return [*seen, lyrics["status"], lyrics["title"], lyrics["id"], lyrics["text"]]


SESSIONS: dict[str, Callable[[str], list[Any]]] = {
    "midjourney": midjourney,
    "remix": remix,
    "video_create": video_create,
    "luma_extension": luma_extension,
    "suno": suno,
    "midjourney_more": midjourney_more,
    "batch_polls": batch_polls,
    "suno_lyrics": suno_lyrics,
    "suno_wav": suno_wav,
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("task-actions")
    yield record_through_proxy(folder, UPSTREAM, "actions", each(SESSIONS))


def test_what_was_recorded(recorded: tuple[Path, dict[str, Any]]) -> None:
    seen = recorded[1]
    mj_states = [("SUBMITTED", "10%"), ("IN_PROGRESS", "50%"), ("SUCCESS", "100%")]
    states = [item for item in seen["midjourney"] if isinstance(item, tuple)]
    assert states == mj_states * 7  # imagine, U2, inpaint, V3, simple-change U4, shorten, describe
    assert seen["midjourney"][-2].startswith("1️⃣")  # describe's four prompts
    assert seen["midjourney"][11:13] == [21, "MODAL"]  # the inpaint waited for its modal
    assert [item for item in seen["midjourney"] if item in ("UPSCALE", "VARIATION")] == [
        "UPSCALE", "VARIATION",
    ]  # fmt: skip
    assert seen["remix"][1:3] == seen["remix"][5:7] == [("in_progress", 50), ("completed", 100)]
    assert seen["video_create"][1:-1] == ["pending", "video_generating", "completed"]
    assert seen["luma_extension"][1:4] == seen["luma_extension"][7:10]
    assert seen["luma_extension"][1:4] == ["pending", "processing", "completed"]
    assert seen["suno"][1:-4] == [("QUEUED", "20%"), ("IN_PROGRESS", "50%"), ("SUCCESS", "100%")]
    assert len(set(seen["suno"][-4:])) == 4  # two clips, two files and two covers
    more = seen["midjourney_more"]
    assert [item for item in more if item in ("VIDEO", "BLEND", "SWAP_FACE")] == [
        "VIDEO", "BLEND", "SWAP_FACE",
    ]  # fmt: skip
    assert [item for item in more if isinstance(item, tuple)] == mj_states * 4
    batched = seen["batch_polls"]
    assert batched[1:3] == ["processing", "completed"]  # Luma's, by `POST /luma/tasks`
    assert batched[5:8] == [("QUEUED", "20%"), ("IN_PROGRESS", "50%"), ("SUCCESS", "100%")]
    assert seen["suno_lyrics"][1:-2] == [
        ("QUEUED", "20%"), ("IN_PROGRESS", "50%"), ("SUCCESS", "100%"), "complete", "A Lullaby",
    ]  # fmt: skip
    assert seen["suno_lyrics"][-1].startswith("[Verse]\n")  # the upstream's text


@pytest.mark.parametrize("family", list(SESSIONS))
def test_replay_gives_the_same_ids_statuses_and_bytes(
    recorded: tuple[Path, dict[str, Any]], family: str
) -> None:
    path, through = recorded
    with ServerThread(recording_app(path, RecordMode.REPLAY, None)) as replay:
        assert SESSIONS[family](replay.url) == through[family]


def test_file_validates_and_holds_no_key(recorded: tuple[Path, dict[str, Any]]) -> None:
    path, through = recorded
    assert main(["validate", str(path)]) == 0
    rules = yaml.safe_load(path.read_text())["rules"]
    models = [rule["match"]["model"] for rule in rules]
    for model in ("mj_imagine", "mj_upscale", "mj_variation", "mj_shorten", "mj_describe",
                  "mj_video", "mj_blend", "mj_swap_face", "suno_lyrics"):  # fmt: skip
        assert model in models
    # polled only in batches: the progression is recorded all the same
    tasks = {rule["task"]["id"]: rule["task"] for rule in rules if "task" in rule}
    luma = tasks[through["batch_polls"][0]]
    assert [stage["status"] for stage in luma["stages"]] == ["QUEUED", "IN_PROGRESS"]
    assert [name.rpartition(".")[2] for name in luma["files"]] == ["mp4", "webp"]  # + thumbnail
    upscales = next(rule for rule in rules if rule["match"]["model"] == "mj_upscale")
    assert upscales["match"]["last_user"] == {"equals": "a koi pond"}  # the parent's prompt
    # U2, then simple-change's U4: the same submission to a matcher, so steps in their order
    ids = [step["task"]["id"] for step in upscales["sequence"]]
    assert ids == [through["midjourney"][5], through["midjourney"][24]]
    remixed = next(rule for rule in rules if rule.get("task", {}).get("id") == through["remix"][4])
    assert remixed["match"] == {
        "model": "sora-2", "last_user": {"equals": "the boat in a storm"}, "turn": 0,
    }  # fmt: skip
    lyrics = next(rule for rule in rules if rule["match"]["model"] == "suno_lyrics")
    *_, title, lyrics_id, text = through["suno_lyrics"]
    assert lyrics["task"]["lyrics"] == {"id": lyrics_id, "title": title, "text": text}
    song = next(rule for rule in rules if rule["match"]["model"] == "suno_music")
    assert "lyrics" not in song["task"]  # a music task's `data` is its clips
    assert "wavs" not in song["task"]  # no WAV asked for
    hail = tasks[through["suno_wav"][0]]
    assert hail["wavs"][0] is None  # the first clip's WAV was not asked for: made anew
    wav = (path.parent / hail["wavs"][1]).read_bytes()
    assert wav.startswith(b"RIFF") and hashlib.sha256(wav).hexdigest() == through["suno_wav"][-1]
    assert len(song["task"]["files"]) == 4  # the clips' audio, then their covers
    digests = [hashlib.sha256((path.parent / name).read_bytes()).hexdigest()
               for name in song["task"]["files"]]  # fmt: skip
    assert digests == through["suno"][-4:]  # the upstream's bytes, not files made anew
    for written in path.parent.rglob("*"):
        if written.is_file():
            assert KEY.encode() not in written.read_bytes(), written
