"""DashScope's Wan video synthesis (Alibaba Cloud Model Studio) under the gateway's
`/alibailian` prefix: the asynchronous submission, the task object and DashScope's errors.

    parse_create({"model": "wan2.2-t2v-plus", "input": {"prompt": "a fox"},
                  "parameters": {"size": "832*480"}}, async_header="enable")
    -> {"model": ..., "prompt": "a fox", "seconds": 5, "width": 832, "height": 480, ...}
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("QUEUED", "IN_PROGRESS")
STATUS = {"IN_PROGRESS": "RUNNING", "SUCCESS": "SUCCEEDED", "FAILURE": "FAILED"}
# Output sizes by resolution (image-to-video's `resolution`; text-to-video names a `size`).
RESOLUTIONS = {"480P": (832, 480), "720P": (1280, 720), "1080P": (1920, 1080)}
SIZES = ("832*480", "480*832", "624*624", "1280*720", "720*1280", "960*960", "1088*832",
         "832*1088", "1920*1080", "1080*1920", "1440*1440", "1632*1248", "1248*1632")  # fmt: skip
CHINA = timedelta(hours=8)  # DashScope's times are Beijing time, to the millisecond


def dashscope_error(status: int, code: str, message: str) -> APIError:
    return APIError(status, message, code=code)


def invalid(message: str) -> APIError:
    return dashscope_error(400, "InvalidParameter", message)


def uuid_of(key: str, label: str) -> str:
    h = ids.hex_digest(key, label, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def render_error(error: APIError, key: str = "") -> dict[str, Any]:
    """DashScope's error body: `{"code", "message", "request_id"}`."""
    code = error.code or ""
    if not code[:1].isupper():  # a scripted fault: DashScope's words for its status
        code = {429: "Throttling", 401: "InvalidApiKey", 403: "AccessDenied"}.get(
            error.status, "InternalError"
        )
    return {"code": code, "message": error.message,
            "request_id": uuid_of(key or error.message, "dashscope-request")}  # fmt: skip


def parse_create(body: Any, async_header: str | None) -> dict[str, Any]:
    """What DashScope checks: asynchronous calls only (`X-DashScope-Async: enable`), a model,
    `input.prompt` (or an image to animate), a size or resolution it offers, a duration."""
    if (async_header or "").lower() != "enable":
        raise dashscope_error(
            403, "AccessDenied", "current user api does not support synchronous calls"
        )
    if not isinstance(body, dict):
        raise invalid("The request body is not a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("Model not exist.")
    given = body.get("input")
    if not isinstance(given, dict):
        raise invalid("Field required: input")
    prompt = given.get("prompt") or ""
    image = given.get("img_url") or given.get("first_frame_url")
    if not isinstance(prompt, str) or (not prompt.strip() and not image):
        raise invalid("Field required: input.prompt")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise invalid("parameters must be an object.")
    size = parameters.get("size")
    if size is not None:
        if size not in SIZES:
            raise invalid(f"The size is invalid: {size!r}; expected one of {', '.join(SIZES)}.")
        width, height = (int(side) for side in str(size).split("*"))
    else:
        resolution = str(parameters.get("resolution") or ("720P" if image else "1080P")).upper()
        if resolution not in RESOLUTIONS:
            raise invalid(f"The resolution is invalid: {resolution!r}; expected 480P, 720P, 1080P.")
        width, height = RESOLUTIONS[resolution]
    duration = parameters.get("duration", 5)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 3 <= duration <= 10:
        raise invalid(f"The duration is invalid: {duration!r}; expected an integer 3..10.")
    return {
        "model": model,
        "prompt": prompt,
        "seconds": duration,
        "width": width,
        "height": height,
        "extend": parameters.get("prompt_extend", True) is not False,
    }


def task_id(key: str) -> str:
    return uuid_of(key, "dashscope-task")


def beijing_time(seconds: float) -> str:
    """DashScope's "2025-10-11 19:02:27.297"."""
    moment = datetime.fromtimestamp(seconds, UTC) + CHINA
    return f"{moment:%Y-%m-%d %H:%M:%S}.{int(moment.microsecond / 1000):03d}"


def submitted(task: Task) -> dict[str, Any]:
    """The submission's answer: the task id, PENDING."""
    return {
        "output": {"task_id": task.id, "task_status": "PENDING"},
        "request_id": uuid_of(task.key, "dashscope-request"),
    }


def render_task(task: Task, video_url: str, poll_key: str) -> dict[str, Any]:
    """`GET /api/v1/tasks/{id}`: its status, times, and the video once SUCCEEDED."""
    output: dict[str, Any] = {
        "task_id": task.id,
        "task_status": STATUS.get(task.status, "PENDING"),
        "submit_time": beijing_time(task.created),
    }
    if task.started_at is not None:
        output["scheduled_time"] = beijing_time(task.started_at)
    if task.finished_at is not None:
        output["end_time"] = beijing_time(task.finished_at)
    answer: dict[str, Any] = {"request_id": uuid_of(poll_key, "dashscope-request")}
    if task.succeeded:
        output["video_url"] = video_url
        output["orig_prompt"] = task.prompt
        if task.params.get("extend"):
            output["actual_prompt"] = f"{task.prompt} Cinematic lighting, smooth camera motion."
        answer["usage"] = {
            "duration": task.params["seconds"],
            "video_count": 1,
            "SR": min(task.params["width"], task.params["height"]),
        }
    elif task.status == "FAILURE":
        output["code"] = task.code or "InternalError"
        output["message"] = task.reason
    answer["output"] = output
    return answer
