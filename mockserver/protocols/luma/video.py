"""Luma's generations as the gateway's docs give them (the luma-web object, not Luma's
official `/dream-machine/v1` API): the request, extending a finished video, the object with
`state` pending → processing → completed | failed, and `{"detail": …}` errors.

    render_generation(task, files) -> {"id": "9d4b…", "prompt": "cat dance", "state": "completed",
                                       "created_at": "2024-07-01T07:35:13.000000Z",
                                       "video": {"url": …, "width": 1280, "height": 720, …}, …}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("QUEUED", "IN_PROGRESS")
STATE = {"IN_PROGRESS": "processing", "SUCCESS": "completed", "FAILURE": "failed"}
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "9:21")
RESOLUTIONS = {"540p": 540, "720p": 720, "1080p": 1080}
DURATIONS = {"5s": 5, "9s": 9, "10s": 10}
MODELS = ("ray-v1", "ray-v2", "ray-v3")
EXTEND_SECONDS = 5


def luma_error(status: int, message: str) -> APIError:
    return APIError(status, message)


def not_found() -> APIError:
    return luma_error(404, "Generation not found")


def render_error(error: APIError) -> dict[str, Any]:
    return {"detail": error.message}


def size(ratio: str, resolution: str) -> tuple[int, int]:
    """Width and height: the resolution is the short side; even numbers (H.264's)."""
    across, down = (int(part) for part in ratio.split(":"))
    short = RESOLUTIONS[resolution]
    if across >= down:
        return short * across // down // 2 * 2, short
    return short, short * down // across // 2 * 2


def parse_generation(body: Any) -> dict[str, Any]:
    """`user_prompt` (or an image), `model_name`, `aspect_ratio`, `resolution`, `duration`."""
    if not isinstance(body, dict):
        raise luma_error(400, "request body must be a JSON object")
    prompt = body.get("user_prompt") or ""
    if not isinstance(prompt, str) or (not prompt.strip() and not body.get("image_url")):
        raise luma_error(400, "user_prompt is required")
    model = str(body.get("model_name") or "ray-v2")
    if model not in MODELS:
        raise luma_error(400, f"model_name must be one of {', '.join(MODELS)}; got {model!r}")
    ratio = str(body.get("aspect_ratio") or "16:9")
    if ratio not in RATIOS:
        raise luma_error(400, f"aspect_ratio must be one of {', '.join(RATIOS)}; got {ratio!r}")
    resolution = str(body.get("resolution") or "720p").lower()
    if resolution not in RESOLUTIONS:
        raise luma_error(
            400, f"resolution must be one of {', '.join(RESOLUTIONS)}; got {resolution!r}"
        )
    duration = str(body.get("duration") or "5s")
    if duration not in DURATIONS:
        raise luma_error(400, f"duration must be one of {', '.join(DURATIONS)}; got {duration!r}")
    width, height = size(ratio, resolution)
    return {
        "model": model,
        "prompt": prompt,
        "seconds": DURATIONS[duration],
        "width": width,
        "height": height,
        "expand": bool(body.get("expand_prompt")),
        "callback_url": body.get("notify_hook"),
    }


def parse_extension(body: Any, source: Task) -> dict[str, Any]:
    """An extension continues a completed generation: its size, 5 seconds longer."""
    if not source.succeeded:
        raise luma_error(400, f"Generation {source.id} is not completed ({state_of(source)})")
    if not isinstance(body, dict) or not isinstance(body.get("user_prompt") or "", str):
        raise luma_error(400, "user_prompt must be a string")
    p = source.params
    return p | {
        "prompt": body.get("user_prompt") or source.prompt,
        "seconds": p["seconds"] + EXTEND_SECONDS,
        "extends": source.id,
        "callback_url": body.get("notify_hook"),
    }


def task_id(key: str) -> str:
    h = ids.hex_digest(key, "luma-generation", 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def iso_time(seconds: int) -> str:
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S.%f}Z"


def state_of(task: Task) -> str:
    return STATE.get(task.status, "pending")


def render_generation(task: Task, video_url: str, thumbnail_url: str) -> dict[str, Any]:
    p = task.params
    done = task.succeeded
    picture = {"url": thumbnail_url, "width": p["width"], "height": p["height"]}
    video = {"url": video_url, "width": p["width"], "height": p["height"],
             "thumbnail": None, "download_url": video_url}  # fmt: skip
    prompt = task.prompt
    if p.get("expand") and done:
        prompt = f"{task.prompt}, cinematic, smooth camera movement"
    return {
        "id": task.id,
        "prompt": prompt,
        "state": state_of(task),
        "queue_state": None,
        "created_at": iso_time(task.created),
        "batch_id": "",
        "video": video if done else None,
        "video_raw": video if done else None,
        "liked": None,
        "estimate_wait_seconds": None,
        "thumbnail": picture if done else None,
        "last_frame": picture if done else None,
        "failure_reason": task.reason if task.status == "FAILURE" else None,
    }
