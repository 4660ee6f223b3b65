"""Hailuo video generation (MiniMax's API): the request, `query/video_generation`'s task,
`files/retrieve`'s file, and MiniMax's errors in `base_resp` (HTTP 200, as MiniMax answers).

    render_query(task) -> {"task_id": "1069…", "status": "Success", "file_id": "2056…",
                           "video_width": 1366, "video_height": 768, "base_resp": {...}}
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("SUBMITTED", "QUEUED", "IN_PROGRESS")
STATUS = {"SUBMITTED": "Preparing", "QUEUED": "Queueing", "IN_PROGRESS": "Processing",
          "SUCCESS": "Success", "FAILURE": "Fail"}  # fmt: skip
RESOLUTIONS = {"512P": (912, 512), "720P": (1280, 720), "768P": (1366, 768),
               "1080P": (1920, 1080)}  # fmt: skip
OK = {"status_code": 0, "status_msg": "success"}


def minimax_error(code: int, message: str) -> APIError:
    """MiniMax's error: HTTP 200, the code and message in `base_resp`."""
    return APIError(200, message, code=str(code))


def invalid(message: str) -> APIError:
    return minimax_error(2013, f"invalid params, {message}")


def render_error(error: APIError) -> tuple[int, dict[str, Any]]:
    """The status and body of an error: MiniMax's own are 200 with `base_resp`; a scripted
    fault keeps its status, with MiniMax's code for it (1002 rate limit, 1004 auth)."""
    if error.code and error.code.isdigit():
        code = int(error.code)
    else:
        code = {429: 1002, 401: 1004, 403: 1004}.get(error.status, 1000)
    return error.status, {"base_resp": {"status_code": code, "status_msg": error.message}}


def parse_create(body: Any) -> dict[str, Any]:
    """What Hailuo checks: a model, a prompt (or a first frame), a duration of 6 or 10 s and
    a resolution the model offers (10 s not at 1080P)."""
    if not isinstance(body, dict):
        raise invalid("body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model is required")
    prompt = body.get("prompt") or ""
    if not isinstance(prompt, str) or (not prompt.strip() and not body.get("first_frame_image")):
        raise invalid("prompt is required")
    duration = body.get("duration", 6)
    if duration not in (6, 10):
        raise invalid(f"duration must be 6 or 10, got {duration!r}")
    default = "768P" if "02" in model or "2.3" in model else "720P"
    resolution = str(body.get("resolution") or default).upper()
    if resolution not in RESOLUTIONS:
        raise invalid(f"resolution must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
    if resolution == "1080P" and duration == 10:
        raise invalid("1080P supports a duration of 6 seconds only")
    width, height = RESOLUTIONS[resolution]
    return {
        "model": model,
        "prompt": prompt,
        "seconds": duration,
        "width": width,
        "height": height,
        "callback_url": body.get("callback_url"),
    }


def task_id(key: str) -> str:
    """A 15-digit task id, as MiniMax's."""
    return str(int(ids.hex_digest(key, "minimax-task", 15), 16) % 10**15).zfill(15)


def file_id(task: Task) -> str:
    return str(int(ids.hex_digest(task.key, "minimax-file", 15), 16) % 10**15).zfill(15)


def submitted(task: Task) -> dict[str, Any]:
    return {"task_id": task.id, "base_resp": OK}


def render_query(task: Task) -> dict[str, Any]:
    data: dict[str, Any] = {"task_id": task.id, "status": STATUS.get(task.status, "Preparing")}
    data["file_id"] = file_id(task) if task.succeeded else ""
    if task.succeeded:
        data["video_width"] = task.params["width"]
        data["video_height"] = task.params["height"]
    if task.status == "FAILURE":
        return data | {"base_resp": {"status_code": 1026, "status_msg": task.reason}}
    return data | {"base_resp": OK}


def render_file(task: Task, download_url: str, size: int) -> dict[str, Any]:
    """`files/retrieve`: the finished video's file."""
    return {
        "file": {
            "file_id": int(file_id(task)),
            "bytes": size,
            "created_at": task.finished_at or task.created,
            "filename": "output.mp4",
            "purpose": "video_generation",
            "download_url": download_url,
        },
        "base_resp": OK,
    }
