"""The gateway's (new-api's) own task shapes: its task errors, the TaskDto behind
`{"code": "success", "message": "", "data": …}`, and the unified video API
(`POST /v1/video/generations`, `GET /v1/video/generations/{task_id}`).

    task_error(APIError(400, "task_not_exist", code="task_not_exist"))
    -> {"code": "task_not_exist", "message": "task_not_exist", "data": None}
"""

from __future__ import annotations

from typing import Any

from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

VIDEO_STAGES = ("QUEUED", "IN_PROGRESS")
GATEWAY_BUSY = "当前分组上游负载已饱和，请稍后再试"  # new-api's words for any upstream 429


def task_error(error: APIError) -> dict[str, Any]:
    """new-api's TaskError body (the HTTP status is the error's)."""
    if error.status == 429:
        return {"code": error.code or "fail_to_fetch_task", "message": GATEWAY_BUSY, "data": None}
    return {"code": error.code or "fail_to_fetch_task", "message": error.message, "data": None}


def not_exist(message: str = "task_not_exist") -> APIError:
    return APIError(400, message, code="task_not_exist")


def invalid_request(message: str) -> APIError:
    return APIError(400, message, code="invalid_request")


def envelope(data: Any) -> dict[str, Any]:
    return {"code": "success", "message": "", "data": data}


def progress_text(task: Task) -> str:
    return f"{task.progress}%"


def task_dto(task: Task, result_url: str | None, data: Any = None) -> dict[str, Any]:
    """new-api's TaskDto of a task (times in unix seconds, progress as "NN%")."""
    dto: dict[str, Any] = {
        "id": task.seq,
        "created_at": task.created,
        "updated_at": task.updated_at,
        "task_id": task.id,
        "platform": task.params.get("platform", ""),
        "user_id": 1,
        "group": "default",
        "channel_id": 1,
        "quota": 0,
        "action": task.action,
        "status": task.status,
        "fail_reason": task.reason if task.status == "FAILURE" else "",
        "submit_time": task.created,
        "start_time": task.started_at or 0,
        "finish_time": task.finished_at or 0,
        "progress": progress_text(task),
        "properties": {
            "input": task.prompt,
            "upstream_model_name": task.model,
            "origin_model_name": task.model,
        },
        "data": data,
    }
    if result_url is not None and task.succeeded:
        dto["result_url"] = result_url
    return dto


# --- The unified video API ---------------------------------------------------------------


def parse_video_generation(body: Any) -> dict[str, Any]:
    """`POST /v1/video/generations`: model and prompt required; `duration` / `seconds` and
    `size` read as they come ("1280x720", "1920*1080", "720P")."""
    if not isinstance(body, dict):
        raise APIError(400, "invalid request body", code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise APIError(400, "model field is required", code="missing_model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_request("prompt is required")
    seconds = body.get("seconds") or body.get("duration") or 5
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        message = f"duration must be a whole number of seconds; got {seconds!r}"
        raise invalid_request(message) from None
    if not 1 <= seconds <= 20:
        raise invalid_request(f"duration must be between 1 and 20 seconds; got {seconds}")
    width, height = video_size(body.get("size"))
    return {"model": model, "prompt": prompt, "seconds": seconds, "width": width, "height": height}


RESOLUTIONS = {"480P": (854, 480), "720P": (1280, 720), "1080P": (1920, 1080)}


def video_size(raw: Any) -> tuple[int, int]:
    """(width, height) of "1280x720", "1920*1080" or "720P" (1280×720 when absent)."""
    if raw is None or raw == "":
        return 1280, 720
    text = str(raw).strip().upper()
    if text in RESOLUTIONS:
        return RESOLUTIONS[text]
    for sep in ("X", "*"):
        width, found, height = text.partition(sep)
        if found and width.isdigit() and height.isdigit():
            w, h = int(width), int(height)
            if 16 <= w <= 4096 and 16 <= h <= 4096:
                return w - w % 2, h - h % 2  # H.264 wants even sides
    raise invalid_request(f"size must look like 1280x720, 1920*1080 or 720P; got {raw!r}")


def video_status(task: Task) -> str:
    """The OpenAI-style status of a video task (a fresh task reads `queued`, not new-api's
    `unknown`, so that SDK polling goes on)."""
    status = task.status
    if status == "IN_PROGRESS":
        return "in_progress"
    if status == "SUCCESS":
        return "completed"
    if status == "FAILURE":
        return "failed"
    return "queued"
