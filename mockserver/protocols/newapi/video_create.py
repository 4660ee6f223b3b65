"""The gateway docs' own unified video format for veo and sora (`POST /v1/video/create`,
`GET /v1/video/query?id=`): a pass-through channel new-api has no code for, answered in the
shape the gateway's docs show.

    {"id": "veo3.1-fast:1735689600000-xTL0P9HvGF", "status": "pending",
     "status_update_time": 1735689600000}
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.protocols.newapi.tasks import invalid_request
from mockserver.tasks.task import Task

STATUS = {"IN_PROGRESS": "video_generating", "SUCCESS": "completed", "FAILURE": "failed"}


def parse_create(body: Any) -> dict[str, Any]:
    """Veo (`aspect_ratio` 16:9 | 9:16, 8 s) or sora (`orientation` portrait | landscape,
    `duration` 10 | 15): the model, prompt, length and frame size."""
    if not isinstance(body, dict):
        raise APIError(400, "invalid request body", code="invalid_request")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise APIError(400, "model field is required", code="missing_model")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_request("prompt is required")
    if model.startswith("sora"):
        seconds = body.get("duration") or 10
        if seconds not in (10, 15, "10", "15"):
            raise invalid_request(f"duration must be 10 or 15; got {seconds!r}")
        portrait = body.get("orientation", "portrait") == "portrait"
    else:
        seconds = 8
        ratio = body.get("aspect_ratio") or "16:9"
        if ratio not in ("16:9", "9:16"):
            raise invalid_request(f"aspect_ratio must be 16:9 or 9:16; got {ratio!r}")
        portrait = ratio == "9:16"
    width, height = (720, 1280) if portrait else (1280, 720)
    return {
        "model": model,
        "prompt": prompt,
        "seconds": int(seconds),
        "size": f"{width}x{height}",
        "width": width,
        "height": height,
        "enhance_prompt": bool(body.get("enhance_prompt")),
    }


def task_id(key: str, model: str, created: int) -> str:
    return f"{model}:{created * 1000}-{ids.base62(key, 'video-create', 10)}"


def status_of(task: Task) -> str:
    return STATUS.get(task.status, "pending")


def render_created(task: Task) -> dict[str, Any]:
    return {"id": task.id, "status": status_of(task), "status_update_time": task.updated_at * 1000}


def render_query(task: Task, video_url: str) -> dict[str, Any]:
    enhanced = task.prompt if task.params.get("enhance_prompt") else None
    return {
        "id": task.id,
        "status": status_of(task),
        "video_url": video_url if task.succeeded else None,
        "enhanced_prompt": enhanced,
        "status_update_time": task.updated_at * 1000,
        "detail": {
            "id": task.id,
            "status": status_of(task),
            "req": {"model": task.model, "prompt": task.prompt},
            "failure_reason": task.reason if task.status == "FAILURE" else None,
        },
    }
