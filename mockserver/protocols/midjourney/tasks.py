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


NEEDS_MODAL = ("INPAINT",)  # actions that wait for `/submit/modal` (upstream code 21)
DIGITS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
DESCRIBE_WORDS = (
    "a quiet harbor at dawn, soft pastel light, film grain",
    "an isometric illustration of a tiny workshop, warm colors",
    "a portrait in the style of a renaissance painting, dramatic chiaroscuro",
    "a minimalist poster with bold geometric shapes, muted palette",
    "a misty pine forest seen from above, cinematic lighting",
    "a neon-lit street market at night, rain reflections, 35mm photo",
    "a watercolor sketch of a lighthouse on a cliff, loose brushwork",
    "a still life of fruit on a wooden table, chiaroscuro, oil painting",
)


def submitted(task: Task) -> dict[str, Any]:
    """The submit answer: code 1, or 21 for an action that waits for `/submit/modal` (new-api
    rewrites the proxy's other 21s and 22s to 1)."""
    if task.held:
        return {
            "code": 21,
            "description": "Waiting for window confirm",
            "result": task.id,
            "properties": {"finalPrompt": task.prompt, "remix": True},
        }
    return {"code": 1, "description": "Submit success", "result": task.id, "properties": {}}


def describe_text(key: str) -> str:
    """Four prompts for an image, numbered as Midjourney numbers them."""
    start = int(ids.hex_digest(key, "mj-describe", 2), 16)
    picked = [DESCRIBE_WORDS[(start + i) % len(DESCRIBE_WORDS)] for i in range(4)]
    return "\n\n".join(f"{DIGITS[i]} {text} --ar 1:1" for i, text in enumerate(picked))


def shorten_text(prompt: str) -> str:
    """Five ever shorter versions of a prompt (its words, fewer each time)."""
    words = prompt.split()
    options = []
    for i in range(5):
        keep = max(1, len(words) * (5 - i) // 6)
        options.append(f"{DIGITS[i]} {' '.join(words[:keep])}")
    return "\n\n".join(options)


def result_prompt(task: Task) -> str:
    """What a finished task shows as its prompt: describe's four prompts, shorten's options."""
    if task.succeeded and task.action == "DESCRIBE":
        return describe_text(task.key)
    if task.succeeded and task.action == "SHORTEN":
        return shorten_text(task.prompt)
    return task.prompt


def seed(task: Task) -> str:
    """The seed Midjourney reports for a task's image (`/task/{id}/image-seed`)."""
    return str(int(ids.hex_digest(task.key, "mj-seed", 8), 16) % 4_294_967_295)


def render_error(error: APIError) -> dict[str, Any]:
    """`{"description": "<description> <result>", "type": "upstream_error", "code": n}` (the
    result is empty for the gateway's own errors, hence the trailing space)."""
    code = int(error.code) if error.code and error.code.isdigit() else 4
    return {"description": f"{error.message} ", "type": "upstream_error", "code": code}


def _ms(seconds: int | None) -> int:
    return seconds * 1000 if seconds is not None else 0


def image_url(origin: str, task: Task) -> str:
    return f"{origin}/mj/image/{task.id}"


def video_url(origin: str, task: Task) -> str:
    return f"{origin}/mj/video/{task.id}.mp4"


def render_task(task: Task, origin: str) -> dict[str, Any]:
    """The task object of fetch and list-by-condition."""
    status = "SUBMITTED" if task.status == "QUEUED" else task.status  # MJ has no QUEUED
    if task.held:
        status = "MODAL"
    done = task.succeeded
    if not done or task.action in ("DESCRIBE", "SHORTEN", "VIDEO", "SWAP_FACE"):
        buttons: list[dict[str, Any]] = []
    elif task.action == "UPSCALE":
        buttons = upscale_buttons(task.key)
    else:
        buttons = grid_buttons(task.key)
    action = task.action
    prompt = result_prompt(task)
    return {
        "id": task.id,
        "action": action,
        "customId": task.params.get("custom_id", ""),
        "botType": task.params.get("bot_type", "MID_JOURNEY"),
        "prompt": prompt,
        "promptEn": prompt,
        "description": "Submit success",
        "state": task.params.get("state", ""),
        "submitTime": _ms(task.created),
        "startTime": _ms(task.started_at),
        "finishTime": _ms(task.finished_at),
        "imageUrl": image_url(origin, task) if done and action not in ("SHORTEN", "VIDEO") else "",
        "videoUrl": video_url(origin, task) if done and action == "VIDEO" else "",
        "videoUrls": [{"url": video_url(origin, task)}] if done and action == "VIDEO" else [],
        "status": status,
        "progress": "0%" if task.held else f"{task.progress}%",
        "failReason": task.reason if task.status == "FAILURE" else "",
        "buttons": buttons,
        "maskBase64": "",
        "properties": {"finalPrompt": prompt, "finalZhPrompt": ""},
    }
