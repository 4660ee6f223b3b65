"""Runway's image-to-video tasks (its developer API, `X-Runway-Version: 2024-11-06`): the
request, the task object of `GET /v1/tasks/{id}` and Runway's `{"error": …}` answers.

    render_task(task, ["…/runwayml/files/<id>.mp4"])
    -> {"id": "…", "createdAt": "2024-06-27T19:49:32.334Z", "status": "SUCCEEDED",
        "cost": {"credits": 25}, "output": [...]}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

VERSION = "2024-11-06"
STAGES = ("QUEUED", "IN_PROGRESS")
STATUS = {"IN_PROGRESS": "RUNNING", "SUCCESS": "SUCCEEDED", "FAILURE": "FAILED"}
RATIOS = ("1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672", "1280:768",
          "768:1280", "1920:1080", "1080:1920")  # fmt: skip
CREDITS_PER_SECOND = {"gen4_turbo": 5, "gen3a_turbo": 5, "gen4.5": 12, "veo3": 40, "veo3.1": 40,
                      "veo3.1_fast": 15}  # fmt: skip


def runway_error(status: int, message: str) -> APIError:
    return APIError(status, message)


def not_found() -> APIError:
    return runway_error(404, "Task not found.")


def render_error(error: APIError) -> dict[str, Any]:
    return {"error": error.message}


def check_version(header: str | None) -> None:
    """Runway answers 400 without the version header, or with one it does not know."""
    if header is None:
        raise runway_error(400, "You must provide a valid X-Runway-Version header.")
    if header != VERSION:
        raise runway_error(400, f"Unsupported API version {header!r}; use {VERSION}.")


def parse_image_to_video(body: Any) -> dict[str, Any]:
    """What Runway validates: a model, a prompt image (a URL, data URI or frames), a ratio
    of the model's, a duration of 2-10 seconds."""
    if not isinstance(body, dict):
        raise runway_error(400, "Validation of body failed: expected a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise runway_error(400, "Validation of body failed: model is required.")
    image = body.get("promptImage")
    if not image or not isinstance(image, str | list):
        raise runway_error(400, "Validation of body failed: promptImage is required.")
    ratio = str(body.get("ratio") or "1280:720")
    if ratio not in RATIOS:
        raise runway_error(
            400, f"Validation of body failed: ratio must be one of {', '.join(RATIOS)}."
        )
    duration = body.get("duration", 5)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 2 <= duration <= 10:
        raise runway_error(
            400, "Validation of body failed: duration must be an integer from 2 to 10."
        )
    width, height = (int(side) for side in ratio.split(":"))
    prompt = body.get("promptText") or ""
    return {
        "model": model,
        "prompt": prompt if isinstance(prompt, str) else "",
        "seconds": duration,
        "width": width,
        "height": height,
    }


def task_id(key: str) -> str:
    h = ids.hex_digest(key, "runway-task", 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def iso_time(seconds: int) -> str:
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.000Z"


def credits(task: Task) -> int:
    return CREDITS_PER_SECOND.get(task.model, 5) * int(task.params["seconds"])


def render_task(task: Task, output: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": task.id, "createdAt": iso_time(task.created)}
    if task.status == "FAILURE" and task.code == "cancelled":
        return data | {"status": "CANCELLED", "cost": {"credits": 0}}
    status = STATUS.get(task.status, "PENDING")
    data["status"] = status
    if status in ("PENDING", "RUNNING"):
        data["estimatedCost"] = {"credits": credits(task)}
    if status == "RUNNING":
        data["progress"] = round(task.progress / 100, 2)
    elif status == "SUCCEEDED":
        data["cost"] = {"credits": credits(task)}
        data["output"] = output
    elif status == "FAILED":
        data["cost"] = {"credits": 0}
        data["failure"] = task.reason
        data["failureCode"] = task.code or "INTERNAL"
    return data
