"""Replicate's predictions: the request (`version` or an official model's path, `input`,
`webhook`), the prediction object (starting → processing → succeeded | failed | canceled) and
Replicate's problem-details errors.

A video model's output is the URL of an MP4 we serve; any other model's, a PNG's.

    render_prediction(task, api, output_url)
    -> {"id": "gm3qorzdhgbfurvjtvhg6dckhu", "model": "minimax/video-01", "status": "succeeded",
        "output": "…/replicate/files/gm3q….mp4", "urls": {"get": …, "cancel": …}, …}
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

STAGES = ("QUEUED", "IN_PROGRESS")
STATUS = {"IN_PROGRESS": "processing", "SUCCESS": "succeeded", "FAILURE": "failed"}
VIDEO_MODEL = re.compile(r"video|veo|kling|wan-|seedance|hailuo|ray|hunyuan|mochi|ltx", re.I)
VERSION = re.compile(r"^[0-9a-f]{64}$")
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
VIDEO_SIZE, VIDEO_SECONDS, IMAGE_SIDE = (1280, 720), 5, 1024


def replicate_error(status: int, title: str, detail: str) -> APIError:
    return APIError(status, detail, code=title)


def not_found() -> APIError:
    return replicate_error(404, "Not found", "The requested resource could not be found.")


def invalid(detail: str) -> APIError:
    return replicate_error(422, "Input validation failed", detail)


def render_error(error: APIError) -> dict[str, Any]:
    """Replicate's problem details: `{"title", "detail", "status"}`."""
    title = error.code if error.code and not error.code.islower() else None
    titles = {401: "Unauthenticated", 402: "Payment required", 404: "Not found",
              429: "Too many requests"}  # fmt: skip
    return {
        "title": title or titles.get(error.status, "Internal server error"),
        "detail": error.message,
        "status": error.status,
    }


def parse_create(body: Any, model: str | None) -> dict[str, Any]:
    """`POST /v1/predictions` names a `version` (64 hex digits, or "owner/name:version");
    `POST /v1/models/{owner}/{name}/predictions` names the model in its path. `input` is an
    object; its `prompt` is what a scenario matches."""
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    version = body.get("version")
    if model is None:
        if not isinstance(version, str) or not version:
            raise invalid("- version: version is required")
        name, _, digest = version.rpartition(":")
        if not VERSION.match(digest):
            raise invalid(f"- version: {version!r} is not a valid version id")
        model, version = name or "replicate/model", digest
    given = body.get("input")
    if not isinstance(given, dict):
        raise invalid("- input: input is required and must be an object")
    prompt = given.get("prompt") or ""
    is_video = bool(VIDEO_MODEL.search(model))
    width, height = VIDEO_SIZE if is_video else (IMAGE_SIDE, IMAGE_SIDE)
    return {
        "model": model,
        "version": version if isinstance(version, str) else ids.hex_digest(model, "version", 64),
        "prompt": prompt if isinstance(prompt, str) else str(prompt),
        "input": given,
        "video": is_video,
        "seconds": int(given["duration"]) if str(given.get("duration", "")).isdigit()
        else VIDEO_SECONDS,
        "width": width,
        "height": height,
        "callback_url": body.get("webhook"),
    }  # fmt: skip


def prediction_id(key: str) -> str:
    """26 lowercase letters and digits, as Replicate's."""
    number = int(ids.hex_digest(key, "replicate-prediction", 34), 16)
    chars = []
    for _ in range(26):
        number, digit = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def iso_time(seconds: int) -> str:
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S.%f}Z"


def status_of(task: Task) -> str:
    if task.status == "FAILURE" and task.code == "cancelled":
        return "canceled"
    return STATUS.get(task.status, "starting")


def output_name(task: Task) -> str:
    return f"{task.id}.mp4" if task.params["video"] else f"{task.id}.png"


def render_prediction(task: Task, api: str, files: str) -> dict[str, Any]:
    """The prediction object; `api` is the API's base (`…/replicate/v1`), `files` where the
    outputs are served."""
    status = status_of(task)
    done = task.succeeded
    logs = (
        "" if status == "starting" else f"Using seed: {int(ids.hex_digest(task.key, 's', 6), 16)}\n"
    )
    if done:
        logs += "Generated output\n"
    return {
        "id": task.id,
        "model": task.model,
        "version": task.params["version"],
        "input": task.params["input"],
        "logs": logs,
        "output": f"{files}/{output_name(task)}" if done else None,
        "data_removed": False,
        "error": task.reason if status == "failed" else None,
        "status": status,
        "created_at": iso_time(task.created),
        "started_at": iso_time(task.started_at) if task.started_at is not None else None,
        "completed_at": iso_time(task.finished_at) if task.finished_at is not None else None,
        "urls": {
            "get": f"{api}/predictions/{task.id}",
            "cancel": f"{api}/predictions/{task.id}/cancel",
            "web": f"https://replicate.com/p/{task.id}",
        },
        "metrics": {"predict_time": float(task.updated_at - task.created)} if done else {},
    }
