"""Jimeng video tasks as the gateway's docs give them (`POST /jimeng/submit/videos`,
`GET /jimeng/fetch/{task_id}`): `{code, message, request_id, data}` with the task's id
("cgt-…", a Seedance task's), its status in the gateway's words (SUBMITTED → IN_PROGRESS →
SUCCESS | FAILURE) and, once done, its video. The fetch body beyond the submit's fields is
[unverified] in the docs; `progress`, `video_url` and `fail_reason` follow the gateway's task.
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("SUBMITTED", "IN_PROGRESS")
SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960), "4:3": (960, 720),
         "3:4": (720, 960), "21:9": (1680, 720)}  # fmt: skip


def jimeng_error(status: int, message: str, code: int = 400) -> APIError:
    return APIError(status, message, code=str(code))


def not_found(task_id: str) -> APIError:
    return jimeng_error(404, f"task {task_id} not found", 404)


def request_id(key: str) -> str:
    return ids.hex_digest(key, "jimeng-request", 32)


def render_error(error: APIError) -> dict[str, Any]:
    code = int(error.code) if error.code and error.code.isdigit() else error.status
    return {"code": code, "message": error.message,
            "request_id": request_id(error.message), "data": None}  # fmt: skip


def parse_submit(body: Any) -> dict[str, Any]:
    """`prompt` (or `image_url`), `duration` 5 or 10, `aspect_ratio`, `cfg_scale` 0..1."""
    if not isinstance(body, dict):
        raise jimeng_error(400, "request body must be a JSON object")
    prompt = body.get("prompt") or ""
    if not isinstance(prompt, str) or (not prompt.strip() and not body.get("image_url")):
        raise jimeng_error(400, "prompt is required")
    duration = int(body.get("duration") or 5) if str(body.get("duration") or 5).isdigit() else 0
    if duration not in (5, 10):
        raise jimeng_error(400, f"duration must be 5 or 10; got {body.get('duration')!r}")
    ratio = str(body.get("aspect_ratio") or "16:9")
    if ratio not in SIZES:
        raise jimeng_error(400, f"aspect_ratio must be one of {', '.join(SIZES)}; got {ratio!r}")
    cfg = body.get("cfg_scale", 0.5)
    if not isinstance(cfg, int | float) or not 0 <= cfg <= 1:
        raise jimeng_error(400, f"cfg_scale must be a number from 0 to 1; got {cfg!r}")
    width, height = SIZES[ratio]
    return {
        "model": str(body.get("model") or "jimeng-video-3.0"),
        "prompt": prompt,
        "seconds": duration,
        "width": width,
        "height": height,
    }


def envelope(key: str, data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "request_id": request_id(key), "data": data}


def render_task(task: Task, video_url: str, *, full: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": task.id,
        "task_status": task.status,
        "created_at": task.created,
        "updated_at": task.updated_at,
    }
    if full:
        data["progress"] = f"{task.progress}%"
        data["video_url"] = video_url if task.succeeded else ""
        data["fail_reason"] = task.reason if task.status == "FAILURE" else ""
    return data
