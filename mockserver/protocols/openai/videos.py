"""OpenAI's Videos API as the gateway serves it (`POST /v1/videos`, retrieve, `/content`,
`/remix`, list, delete): the `video` object, and the request checks new-api makes.

    render_video(task) -> {"id": "task_…", "object": "video", "model": "sora-2",
                           "status": "queued", "progress": 0, "created_at": 1735689600, …}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.core.errors import APIError
from mockserver.protocols.newapi.tasks import invalid_request, video_size, video_status
from mockserver.tasks.task import NOT_STARTED, Task

SECONDS = ("4", "8", "12")
SORA_SIZES = ("720x1280", "1280x720")
SORA_PRO_SIZES = (*SORA_SIZES, "1792x1024", "1024x1792")
EXPIRES_AFTER = 24 * 3600  # assets downloadable for a day after completion
VARIANTS = {"video": "video/mp4", "thumbnail": "image/webp", "spritesheet": "image/jpeg"}


def parse_create(fields: Mapping[str, Any], has_reference: bool) -> dict[str, Any]:
    """The form (or JSON) fields of `POST /v1/videos`, checked as new-api checks them: a
    model is required, and sora models take only their own sizes."""
    model = fields.get("model")
    if not isinstance(model, str) or not model:
        raise APIError(400, "model field is required", code="missing_model")
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_request("prompt is required")
    seconds = str(fields.get("seconds") or fields.get("duration") or "4")
    if seconds not in SECONDS:
        raise invalid_request(f"seconds must be one of {', '.join(SECONDS)}; got {seconds!r}")
    size = str(fields.get("size") or "720x1280")
    allowed = sizes_for(model)
    if allowed is not None and size not in allowed:
        raise APIError(400, f"{model} size is invalid", code="invalid_size")
    width, height = video_size(size)
    return {
        "model": model,
        "prompt": prompt,
        "seconds": int(seconds),
        "size": f"{width}x{height}" if allowed is None else size,
        "width": width,
        "height": height,
        "input_reference": has_reference,
    }


def sizes_for(model: str) -> tuple[str, ...] | None:
    """The sizes a sora model takes (None: any WxH, for other video models)."""
    if model.startswith("sora-2-pro"):
        return SORA_PRO_SIZES
    if model.startswith("sora"):
        return SORA_SIZES
    return None


def parse_remix(body: Any) -> str:
    if not isinstance(body, dict):
        raise APIError(400, "invalid request body", code="invalid_request")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid_request("prompt is required")
    return prompt


def render_video(task: Task, content_url: str | None = None) -> dict[str, Any]:
    """The `video` object of a task (`content_url`: where the gateway serves its file, shown
    as `metadata.url` once completed, as new-api does for models other than sora)."""
    status = video_status(task)
    finished_at = task.finished_at if task.succeeded else None
    video: dict[str, Any] = {
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": status,
        "progress": 0 if task.status in NOT_STARTED else task.progress,
        "created_at": task.created,
        "completed_at": finished_at,
        "expires_at": finished_at + EXPIRES_AFTER if finished_at is not None else None,
        "prompt": task.prompt,
        "remixed_from_video_id": task.params.get("remixed_from"),
        "seconds": str(task.params["seconds"]),
        "size": task.params["size"],
        "error": {"code": task.code, "message": task.reason} if status == "failed" else None,
    }
    if content_url is not None and task.succeeded and not task.model.startswith("sora"):
        video["metadata"] = {"url": content_url}
    return video


def render_list(videos: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": videos,
        "first_id": videos[0]["id"] if videos else None,
        "last_id": videos[-1]["id"] if videos else None,
        "has_more": has_more,
    }


def render_deleted(task_id: str) -> dict[str, Any]:
    return {"id": task_id, "object": "video.deleted", "deleted": True}


def content_error(status: int, message: str) -> dict[str, Any]:
    """new-api's video proxy errors (`/content`): OpenAI's error shape."""
    return {"error": {"message": message, "type": "invalid_request_error"}}
