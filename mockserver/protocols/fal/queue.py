"""fal.ai's queue API: a submission to a model's path answers its request id and URLs; the
status reads IN_QUEUE (with `queue_position`) → IN_PROGRESS → COMPLETED; the response is the
model's own result (a video model's `{"video": {url, …}}`, an image model's `{"images": […]}`).
Status, response and cancel live under the app id (`fal-ai/kling-video`), not the full path.

    submitted(task, "http://…/fal-ai/kling-video")
    -> {"request_id": "…", "status": "IN_QUEUE", "queue_position": 0, "response_url": …, …}
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("QUEUED", "IN_PROGRESS")
STATUS = {"QUEUED": "IN_QUEUE", "IN_PROGRESS": "IN_PROGRESS"}
VIDEO_MODEL = re.compile(r"video|veo|kling|wan|seedance|hailuo|minimax|luma|ray|pika", re.I)
VIDEO_SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)}
IMAGE_SIZES = {"square_hd": (1024, 1024), "square": (512, 512), "portrait_4_3": (768, 1024),
               "portrait_16_9": (576, 1024), "landscape_4_3": (1024, 768),
               "landscape_16_9": (1024, 576)}  # fmt: skip


def fal_error(status: int, detail: str) -> APIError:
    return APIError(status, detail)


def not_found(request_id: str) -> APIError:
    return fal_error(404, f"Request {request_id} not found")


def render_error(error: APIError) -> dict[str, Any]:
    return {"detail": error.message}


def app_id(model: str) -> str:
    """The app a model path belongs to: its first two parts ("fal-ai/kling-video")."""
    return "/".join(model.split("/")[:2])


def parse_submit(model: str, body: Any) -> dict[str, Any]:
    """The arguments a model takes: a `prompt` (or an image to animate); a video's
    `duration` ("5"/"10") and `aspect_ratio`; an image's `image_size`."""
    if not isinstance(body, dict):
        raise fal_error(422, "The request body must be a JSON object of the model's arguments.")
    prompt = body.get("prompt") or ""
    if not isinstance(prompt, str) or (not prompt.strip() and not body.get("image_url")):
        raise fal_error(422, "prompt: field required")
    video = bool(VIDEO_MODEL.search(model))
    if video:
        duration = str(body.get("duration") or "5").removesuffix("s")
        if duration not in ("5", "6", "8", "10"):
            raise fal_error(422, f"duration: expected '5' or '10', got {body.get('duration')!r}")
        width, height = VIDEO_SIZES.get(str(body.get("aspect_ratio") or "16:9"), (1280, 720))
        seconds = int(duration)
    else:
        size = body.get("image_size") or "landscape_4_3"
        width, height = IMAGE_SIZES.get(str(size), (1024, 768))
        seconds = 0
    return {"model": model, "prompt": prompt, "video": video, "seconds": seconds,
            "width": width, "height": height}  # fmt: skip


def request_id(key: str) -> str:
    h = ids.hex_digest(key, "fal-request", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def urls(task: Task, base: str) -> dict[str, str]:
    """`base`: the app's queue URL (`…/fal-ai/kling-video`)."""
    here = f"{base}/requests/{task.id}"
    return {"response_url": here, "status_url": f"{here}/status", "cancel_url": f"{here}/cancel"}


def submitted(task: Task, base: str) -> dict[str, Any]:
    return {"request_id": task.id, "status": "IN_QUEUE", "queue_position": 0} | urls(task, base)


def render_status(task: Task, base: str, with_logs: bool) -> dict[str, Any]:
    status = "COMPLETED" if task.finished else STATUS.get(task.status, "IN_QUEUE")
    data: dict[str, Any] = {"status": status, "request_id": task.id} | urls(task, base)
    if status == "IN_QUEUE":
        data["queue_position"] = 0
    if with_logs and status != "IN_QUEUE":
        data["logs"] = [{"message": "Generating...", "level": "INFO", "source": "user",
                         "timestamp": f"{task.started_at}"}]  # fmt: skip
    if status == "COMPLETED":
        data["metrics"] = {"inference_time": float(task.updated_at - task.created)}
        if not task.succeeded:
            data["error"] = task.reason
    return data


def render_result(task: Task, file_url: str, size: int) -> dict[str, Any]:
    """The model's result: what `fal_client.result` returns."""
    p = task.params
    if p["video"]:
        return {"video": {"url": file_url, "content_type": "video/mp4",
                          "file_name": "output.mp4", "file_size": size}}  # fmt: skip
    image = {"url": file_url, "width": p["width"], "height": p["height"],
             "content_type": "image/png"}  # fmt: skip
    seed = int(ids.hex_digest(task.key, "fal-seed", 8), 16)
    return {"images": [image], "seed": seed, "has_nsfw_concepts": [False], "prompt": task.prompt,
            "timings": {"inference": float(task.updated_at - task.created)}}  # fmt: skip
