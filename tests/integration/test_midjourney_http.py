"""Midjourney through raw HTTP, as a client written from the midjourney-proxy protocol does
it: imagine → poll to SUCCESS → U1 → its child task; the grid and tile are real PNGs we serve;
errors in the gateway's Midjourney shape."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from mockserver.testing.handle import MockServer


@pytest.fixture
def mj(mockserver: MockServer) -> httpx.Client:
    return httpx.Client(
        base_url=mockserver.url, headers={"Authorization": f"Bearer {mockserver.api_key}"}
    )


def poll(mj: httpx.Client, task_id: str, prefix: str = "") -> list[dict[str, Any]]:
    """Fetch until the task finishes; every answer seen."""
    seen = []
    for _ in range(10):
        answer = mj.get(f"{prefix}/mj/task/{task_id}/fetch")
        assert answer.status_code == 200
        seen.append(answer.json())
        if seen[-1]["status"] in ("SUCCESS", "FAILURE"):
            return seen
    raise AssertionError(f"task {task_id} never finished: {seen[-1]}")


def test_imagine_then_upscale(mj: httpx.Client) -> None:
    submitted = mj.post("/mj/submit/imagine", json={"prompt": "a lighthouse at dusk"}).json()
    assert submitted["code"] == 1 and submitted["description"] == "Submit success"
    task_id = submitted["result"]
    assert task_id.isdigit() and len(task_id) == 16

    seen = poll(mj, task_id)
    assert [t["status"] for t in seen] == ["SUBMITTED", "IN_PROGRESS", "SUCCESS"]
    assert [t["progress"] for t in seen] == ["10%", "50%", "100%"]
    done = seen[-1]
    assert done["action"] == "IMAGINE" and done["prompt"] == "a lighthouse at dusk"
    assert done["submitTime"] < done["startTime"] < done["finishTime"]
    assert done["submitTime"] % 1000 == 0  # ms, from the scenario clock
    labels = [b["label"] or b["emoji"] for b in done["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]

    grid = Image.open(io.BytesIO(httpx.get(done["imageUrl"]).content))
    assert grid.format == "PNG" and grid.size == (512, 512)

    u1 = next(b for b in done["buttons"] if b["label"] == "U1")
    child = mj.post("/mj/submit/action", json={"customId": u1["customId"], "taskId": task_id})
    assert child.status_code == 200
    child_id = child.json()["result"]
    assert child_id != task_id
    finished = poll(mj, child_id)[-1]
    assert finished["action"] == "UPSCALE" and finished["status"] == "SUCCESS"
    assert finished["prompt"] == "a lighthouse at dusk"
    assert any(b["label"] == "Vary (Strong)" for b in finished["buttons"])
    tile = Image.open(io.BytesIO(httpx.get(finished["imageUrl"]).content))
    assert tile.size == (512, 512)
    # U1 is the grid's top-left quarter, upscaled
    corner = grid.crop((0, 0, 256, 256)).resize((512, 512))
    assert corner.getpixel((5, 5)) == tile.convert("RGB").getpixel((5, 5))


def test_modes_list_by_condition_and_simple_change(mj: httpx.Client) -> None:
    task_id = mj.post("/mj-fast/mj/submit/imagine", json={"prompt": "koi"}).json()["result"]
    poll(mj, task_id, prefix="/mj-fast")
    listed = mj.post("/mj/task/list-by-condition", json={"ids": [task_id, "404"]}).json()
    assert [t["id"] for t in listed] == [task_id]
    change = mj.post("/mj/submit/simple-change", json={"content": f"{task_id} V2"}).json()
    variation = poll(mj, change["result"])[-1]
    assert variation["action"] == "VARIATION" and len(variation["buttons"]) == 9


def test_errors_in_the_midjourney_shape(mj: httpx.Client) -> None:
    missing = mj.post("/mj/submit/imagine", json={"prompt": ""})
    assert missing.status_code == 400
    assert missing.json() == {
        "description": "prompt_is_required ",
        "type": "upstream_error",
        "code": 4,
    }
    unknown = mj.get("/mj/task/1234/fetch")
    assert unknown.status_code == 400 and unknown.json()["description"] == "task_no_found "

    task_id = mj.post("/mj/submit/imagine", json={"prompt": "fern"}).json()["result"]
    early = mj.post(
        "/mj/submit/action", json={"customId": "MJ::JOB::upsample::1::x", "taskId": task_id}
    )
    assert early.json()["description"] == "task_status_not_success "
    poll(mj, task_id)
    bad = mj.post("/mj/submit/action", json={"customId": "MJ::JOB::dance::1::x", "taskId": task_id})
    assert bad.status_code == 400 and bad.json()["description"] == "unknown_action "
    orphan = mj.post("/mj/submit/action", json={"customId": "MJ::JOB::upsample::1::x"})
    assert orphan.json()["description"] == "task_not_found "


def test_a_scenario_fails_an_imagine(mockserver: MockServer, mj: httpx.Client) -> None:
    mockserver.add_rule(
        name="banned",
        match={"last_user": "banned"},
        task={"fail_at": "SUBMITTED", "reason": "Banned prompt detected"},
    )
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "a banned word"}).json()["result"]
    seen = poll(mj, task_id)
    assert [t["status"] for t in seen] == ["SUBMITTED", "FAILURE"]
    assert seen[-1]["failReason"] == "Banned prompt detected"
    assert seen[-1]["buttons"] == [] and seen[-1]["imageUrl"] == ""


def test_describe_shorten_and_blend(mj: httpx.Client) -> None:
    described = mj.post("/mj/submit/describe", json={"base64": "data:image/png;base64,AAAA"})
    done = poll(mj, described.json()["result"])[-1]
    assert done["action"] == "DESCRIBE" and done["buttons"] == []
    assert done["prompt"].startswith("1️⃣ ") and done["prompt"].count("--ar 1:1") == 4
    assert httpx.get(done["imageUrl"]).headers["content-type"] == "image/png"

    shortened = mj.post("/mj/submit/shorten", json={"prompt": "a b c d e f g h i j k l"})
    short = poll(mj, shortened.json()["result"])[-1]
    assert short["prompt"].splitlines()[0] == "1️⃣ a b c d e f g h i j"
    assert short["imageUrl"] == ""

    blended = mj.post("/mj/submit/blend", json={"base64Array": ["data:a", "data:b"]})
    grid = poll(mj, blended.json()["result"])[-1]
    assert grid["action"] == "BLEND" and len(grid["buttons"]) == 9
    one = mj.post("/mj/submit/blend", json={"base64Array": ["data:a"]})
    assert one.status_code == 400 and one.json()["code"] == 4


def test_vary_region_waits_in_modal_until_the_modal_is_sent(mj: httpx.Client) -> None:
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "bridge"}).json()["result"]
    poll(mj, task_id)
    upscaled = mj.post(
        "/mj/submit/change", json={"action": "UPSCALE", "index": 2, "taskId": task_id}
    )
    up = poll(mj, upscaled.json()["result"])[-1]
    region = next(b for b in up["buttons"] if b["label"] == "Vary (Region)")
    waiting = mj.post(
        "/mj/submit/action", json={"customId": region["customId"], "taskId": up["id"]}
    )
    assert waiting.json()["code"] == 21
    inpaint_id = waiting.json()["result"]
    for _ in range(2):
        held = mj.get(f"/mj/task/{inpaint_id}/fetch").json()
        assert (held["status"], held["progress"], held["action"]) == ("MODAL", "0%", "INPAINT")
    sent = mj.post(
        "/mj/submit/modal", json={"taskId": inpaint_id, "maskBase64": "m", "prompt": "x"}
    )
    assert sent.json() == {
        "code": 1,
        "description": "Submit success",
        "result": inpaint_id,
        "properties": {},
    }
    assert poll(mj, inpaint_id)[-1]["status"] == "SUCCESS"
    again = mj.post("/mj/submit/modal", json={"taskId": inpaint_id})
    assert again.json()["description"] == "task_status_not_modal "


def test_image_seed_and_change_checks(mj: httpx.Client) -> None:
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "seed"}).json()["result"]
    seed = mj.get(f"/mj/task/{task_id}/image-seed").json()
    assert seed["code"] == 1 and seed["result"].isdigit()
    assert mj.get("/mj/task/9/image-seed").json()["description"] == "task_no_found "
    change = mj.post("/mj/submit/change", json={"action": "UPSCALE", "taskId": task_id})
    assert change.json()["description"] == "index_is_required "
    assert mj.post("/mj/submit/change", json={"index": 1}).json()["description"] == (
        "task_id_is_required "
    )


def test_the_fault_header_breaks_a_submission_or_a_poll(mj: httpx.Client) -> None:
    refused = mj.post(
        "/mj/submit/imagine", json={"prompt": "x"}, headers={"x-mock-fault": "status=503"}
    )
    assert refused.status_code == 503
    assert refused.json()["type"] == "upstream_error"
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "x"}).json()["result"]
    failed_poll = mj.get(f"/mj/task/{task_id}/fetch", headers={"x-mock-fault": "status=500"})
    assert failed_poll.status_code == 500
    # the failed poll didn't move the task
    assert mj.get(f"/mj/task/{task_id}/fetch").json()["status"] == "SUBMITTED"
    bad = mj.get(f"/mj/task/{task_id}/fetch", headers={"x-mock-fault": "stauts=500"})
    assert bad.status_code == 400 and "status" in bad.json()["description"]


def test_unknown_midjourney_paths_are_404(mj: httpx.Client) -> None:
    assert mj.post("/mj/submit/teleport", json={}).status_code == 404
    assert mj.get("/mj-relax/mj/task/1/nothing").status_code == 404


def test_video_swap_and_upload(mj: httpx.Client) -> None:
    task_id = mj.post("/mj/submit/imagine", json={"prompt": "river"}).json()["result"]
    poll(mj, task_id)
    video_id = mj.post("/mj/submit/video", json={"taskId": task_id}).json()["result"]
    video = poll(mj, video_id)[-1]
    assert video["action"] == "VIDEO" and video["imageUrl"] == ""
    assert video["videoUrls"] == [{"url": video["videoUrl"]}]
    assert httpx.get(video["videoUrl"]).content[4:8] == b"ftyp"

    no_target = mj.post("/mj/insight-face/swap", json={"sourceBase64": "data:a"})
    assert no_target.json()["description"] == "targetBase64_is_required "
    swap = mj.post("/mj/insight-face/swap", json={"sourceBase64": "a", "targetBase64": "b"})
    swapped = poll(mj, swap.json()["result"])[-1]
    assert swapped["action"] == "SWAP_FACE" and swapped["imageUrl"]

    uploaded = mj.post("/mj/submit/upload-discord-images", json={"base64Array": ["data:x"]})
    [url] = uploaded.json()["result"]
    assert uploaded.json()["code"] == 1
    assert httpx.get(url).headers["content-type"] == "image/png"
