"""Midjourney's submit answer, task object and errors (new-api's `dto/midjourney.go`).

Times are unix milliseconds; progress is "0%"…"100%"; a finished grid offers buttons whose
customIds drive `/mj/submit/action`.
"""

from __future__ import annotations

from typing import Any

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.protocols.midjourney.actions import grid_buttons, upscale_buttons
from mockserver.tasks.task import Task

STAGES = ("NOT_START", "SUBMITTED", "IN_PROGRESS")
BOT_TYPES = ("MID_JOURNEY", "NIJI_JOURNEY")


def task_id(key: str, created: int) -> str:
    """A 16-digit id like the proxy's: the submission's unix milliseconds and three digits."""
    digits = int(ids.hex_digest(key, "mj-id", 12), 16) % 1_000_000
    return f"{created * 1000 + digits // 1000}{digits % 1000:03d}"


def submitted(task_id: str) -> dict[str, Any]:
    return {"code": 1, "description": "Submit success", "result": task_id, "properties": {}}


def render_error(error: APIError) -> dict[str, Any]:
    """`{"description": "<description> <result>", "type": "upstream_error", "code": n}` (the
    result is empty for the gateway's own errors, hence the trailing space)."""
    code = int(error.code) if error.code and error.code.isdigit() else 4
    return {"description": f"{error.message} ", "type": "upstream_error", "code": code}


def _ms(seconds: int | None) -> int:
    return seconds * 1000 if seconds is not None else 0


def image_url(origin: str, task: Task) -> str:
    return f"{origin}/mj/image/{task.id}"


def render_task(task: Task, origin: str) -> dict[str, Any]:
    """The task object of fetch and list-by-condition."""
    status = "SUBMITTED" if task.status == "QUEUED" else task.status  # MJ has no QUEUED
    done = task.succeeded
    if not done:
        buttons: list[dict[str, Any]] = []
    elif task.action == "UPSCALE":
        buttons = upscale_buttons(task.key)
    else:
        buttons = grid_buttons(task.key)
    action = task.action
    return {
        "id": task.id,
        "action": action,
        "customId": task.params.get("custom_id", ""),
        "botType": task.params.get("bot_type", "MID_JOURNEY"),
        "prompt": task.prompt,
        "promptEn": task.prompt,
        "description": "Submit success",
        "state": task.params.get("state", ""),
        "submitTime": _ms(task.created),
        "startTime": _ms(task.started_at),
        "finishTime": _ms(task.finished_at),
        "imageUrl": image_url(origin, task) if done else "",
        "videoUrl": "",
        "videoUrls": [],
        "status": status,
        "progress": f"{task.progress}%",
        "failReason": task.reason if task.status == "FAILURE" else "",
        "buttons": buttons,
        "maskBase64": "",
        "properties": {"finalPrompt": task.prompt, "finalZhPrompt": ""},
    }
