"""Kling's text-to-video and image-to-video tasks: the request, the `{code, message,
request_id, data}` answer, its task object and its errors.

    render_task(task, url) -> {"task_id": "8672…", "task_status": "processing",
                               "task_info": {...}, "created_at": <ms>, "updated_at": <ms>}
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

KINDS = ("text2video", "image2video")
STAGES = ("SUBMITTED", "IN_PROGRESS")
STATUS = {"IN_PROGRESS": "processing", "SUCCESS": "succeed", "FAILURE": "failed"}
SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (720, 720)}
PROMPT_LIMIT = 2500


def kling_error(status: int, code: int, message: str) -> APIError:
    return APIError(status, message, code=str(code))


def invalid(message: str) -> APIError:
    return kling_error(400, 1201, message)


def parse_submit(kind: str, body: Any) -> dict[str, Any]:
    """The fields Kling checks: a prompt for text2video (an image for image2video), a
    duration of 5 or 10 seconds, an aspect ratio it offers."""
    if kind not in KINDS:
        raise kling_error(404, 1203, f"unknown task type {kind!r}; expected one of {KINDS}")
    if not isinstance(body, dict):
        raise kling_error(400, 1200, "Invalid request parameters: expected a JSON object")
    prompt = body.get("prompt") or ""
    if not isinstance(prompt, str) or len(prompt) > PROMPT_LIMIT:
        raise invalid(f"prompt must be a string of at most {PROMPT_LIMIT} characters")
    if kind == "text2video" and not prompt.strip():
        raise invalid("prompt is required")
    if kind == "image2video" and not body.get("image"):
        raise invalid("image is required")
    duration = str(body.get("duration") or "5")
    if duration not in ("5", "10"):
        raise invalid(f"duration must be 5 or 10; got {duration!r}")
    ratio = str(body.get("aspect_ratio") or "16:9")
    if ratio not in SIZES:
        raise invalid(f"aspect_ratio must be one of {', '.join(SIZES)}; got {ratio!r}")
    width, height = SIZES[ratio]
    return {
        "model": str(body.get("model_name") or body.get("model") or "kling-v1"),
        "prompt": prompt,
        "kind": kind,
        "seconds": int(duration),
        "width": width,
        "height": height,
        "mode": str(body.get("mode") or "std"),
        "external_task_id": body.get("external_task_id"),
        "callback_url": body.get("callback_url"),
    }


def task_id(key: str) -> str:
    """An 18-digit task id, as Kling's."""
    return str(int(ids.hex_digest(key, "kling-task", 15), 16) % 10**18).zfill(18)


def request_id(key: str) -> str:
    h = ids.hex_digest(key, "kling-request", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def envelope(key: str, data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": request_id(key), "data": data}


def render_error(error: APIError, key: str = "") -> dict[str, Any]:
    code = int(error.code) if error.code and error.code.isdigit() else 5000
    return {"code": code, "message": error.message, "request_id": request_id(key or error.message)}


def render_task(task: Task, video_url: str, *, full: bool = True) -> dict[str, Any]:
    """The task object: submit's short one, or a query's with its result."""
    info: dict[str, Any] = {}
    if task.params.get("external_task_id"):
        info["external_task_id"] = task.params["external_task_id"]
    data: dict[str, Any] = {
        "task_id": task.id,
        "task_status": STATUS.get(task.status, "submitted"),
        "task_info": info,
        "created_at": task.created * 1000,
        "updated_at": task.updated_at * 1000,
    }
    if not full:
        return data
    data["task_status_msg"] = task.reason if task.status == "FAILURE" else ""
    if task.succeeded:
        seconds = task.params["seconds"]
        data["final_unit_deduction"] = str(
            seconds // 5 * (2 if task.params["mode"] == "pro" else 1)
        )
        video = {"id": request_id(task.key), "url": video_url, "duration": str(seconds)}
        data["task_result"] = {"videos": [video]}
    return data
