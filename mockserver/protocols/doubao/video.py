"""Doubao Seedance video tasks (Volcengine Ark's content generation API, under the gateway's
`/volc/v1` and Ark's own `/api/v3`): the request, the task object, listings and Ark's errors.

    parse_create({"model": "doubao-seedance-1-0-pro-250528",
                  "content": [{"type": "text", "text": "a fox --rs 480p --dur 5"}]})
    -> {"model": ..., "prompt": "a fox", "seconds": 5, "width": 864, "height": 480, ...}
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.core import ids
from mockserver.protocols.doubao.errors import invalid, missing
from mockserver.tasks.task import Task

STAGES = ("QUEUED", "IN_PROGRESS")
STATUS = {"IN_PROGRESS": "running", "SUCCESS": "succeeded", "FAILURE": "failed"}
FPS = 24
# Seedance's output sizes by resolution and ratio (its docs' table).
SIZES = {
    "480p": {"16:9": (864, 480), "4:3": (736, 544), "1:1": (640, 640), "3:4": (544, 736),
             "9:16": (480, 864), "21:9": (960, 416)},
    "720p": {"16:9": (1248, 704), "4:3": (1120, 832), "1:1": (960, 960), "3:4": (832, 1120),
             "9:16": (704, 1248), "21:9": (1504, 640)},
    "1080p": {"16:9": (1920, 1088), "4:3": (1664, 1248), "1:1": (1440, 1440),
              "3:4": (1248, 1664), "9:16": (1088, 1920), "21:9": (2176, 928)},
}  # fmt: skip
RATIOS = (*SIZES["480p"], "adaptive")
# Parameters Seedance also reads from the prompt's text ("a fox --rs 720p --dur 5").
COMMAND = re.compile(r"\s*--(\w+)\s+(\S+)")
COMMAND_NAMES = {"rs": "resolution", "rt": "ratio", "dur": "duration", "cf": "camera_fixed",
                 "wm": "watermark"}  # fmt: skip
CHINA = timedelta(hours=8)  # Ark stamps ids in Beijing time
STATUS_FILTERS = ("queued", "running", "cancelled", "succeeded", "failed")


def _prompt_and_commands(text: str) -> tuple[str, dict[str, str]]:
    commands = {COMMAND_NAMES.get(name, name): value for name, value in COMMAND.findall(text)}
    return COMMAND.sub("", text).strip(), commands


def parse_create(body: Any) -> dict[str, Any]:
    """What Seedance checks: a model, a `content` list with a text or an image, a ratio,
    resolution and duration it offers (fields, or `--rs/--rt/--dur` commands in the text)."""
    if not isinstance(body, dict):
        raise invalid("body", "expected a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    content = body.get("content")
    if not isinstance(content, list) or not content:
        raise missing("content")
    prompt, images = "", 0
    commands: dict[str, str] = {}
    for index, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            prompt, commands = _prompt_and_commands(item["text"])
        elif kind == "image_url" and isinstance(item.get("image_url"), dict):
            images += 1
        else:
            raise invalid(f"content[{index}]", "expected a text or an image_url item")
    if not prompt and not images:
        raise missing("content.text")
    options = {name: body[name] for name in ("resolution", "ratio", "duration", "seed")
               if body.get(name) is not None} | commands  # fmt: skip
    resolution = str(options.get("resolution") or ("720p" if "lite" in model else "1080p"))
    if resolution not in SIZES:
        raise invalid("resolution", f"expected one of {', '.join(SIZES)}, got {resolution!r}")
    ratio = str(options.get("ratio") or ("adaptive" if images else "16:9"))
    if ratio not in RATIOS:
        raise invalid("ratio", f"expected one of {', '.join(RATIOS)}, got {ratio!r}")
    duration = str(options.get("duration") or "5")
    if duration not in ("5", "10"):
        raise invalid("duration", f"expected 5 or 10, got {duration!r}")
    width, height = SIZES[resolution]["16:9" if ratio == "adaptive" else ratio]
    seed = options.get("seed")
    return {
        "model": model,
        "prompt": prompt,
        "seconds": int(duration),
        "width": width,
        "height": height,
        "resolution": resolution,
        "ratio": ratio,
        "seed": int(str(seed)) if str(seed).lstrip("-").isdigit() else None,
        "callback_url": body.get("callback_url"),
    }


def task_id(key: str, created: int) -> str:
    """Ark's task id: "cgt-", the submission time (Beijing) and five characters."""
    stamp = datetime.fromtimestamp(created, UTC) + CHINA
    suffix = ids.base62(key, "doubao-task", 5).lower()
    return f"cgt-{stamp:%Y%m%d%H%M%S}-{suffix}"


def tokens(task: Task) -> int:
    """Seedance's token count for a video: width × height × fps × seconds / 1024."""
    p = task.params
    return int(p["width"] * p["height"] * FPS * p["seconds"] / 1024)


def status_of(task: Task) -> str:
    if task.status == "FAILURE" and task.code == "cancelled":
        return "cancelled"
    return STATUS.get(task.status, "queued")


def render_task(task: Task, video_url: str) -> dict[str, Any]:
    """The task object `GET …/tasks/{id}` answers."""
    p = task.params
    seed = p["seed"] if p.get("seed") is not None else int(ids.hex_digest(task.key, "seed", 8), 16)
    data: dict[str, Any] = {
        "id": task.id,
        "model": task.model,
        "status": status_of(task),
        "created_at": task.created,
        "updated_at": task.updated_at,
        "seed": seed,
        "resolution": p["resolution"],
        "ratio": p["ratio"],
        "duration": p["seconds"],
        "framespersecond": FPS,
        "service_tier": "default",
        "execution_expires_after": 172800,
    }
    if task.succeeded:
        data["content"] = {"video_url": video_url}
        count = tokens(task)
        data["usage"] = {"completion_tokens": count, "total_tokens": count}
    elif task.status == "FAILURE" and task.code != "cancelled":
        data["error"] = {"code": task.code or "InternalServiceError", "message": task.reason}
    return data


def parse_filters(query: dict[str, list[str]]) -> dict[str, Any]:
    """`page_num`, `page_size` (1..500), `filter.status`, `filter.task_ids` (repeated),
    `filter.model` of a listing."""

    def number(name: str, default: int, top: int) -> int:
        raw = (query.get(name) or [str(default)])[0]
        if not raw.isdigit() or not 1 <= int(raw) <= top:
            raise invalid(name, f"expected an integer in [1, {top}], got {raw!r}")
        return int(raw)

    status = (query.get("filter.status") or [""])[0]
    if status and status not in STATUS_FILTERS:
        raise invalid("filter.status", f"expected one of {', '.join(STATUS_FILTERS)}")
    return {
        "page_num": number("page_num", 1, 500),
        "page_size": number("page_size", 10, 500),
        "status": status,
        "task_ids": set(query.get("filter.task_ids") or []),
        "model": (query.get("filter.model") or [""])[0],
    }


def matches(task: Task, filters: dict[str, Any]) -> bool:
    return (
        (not filters["status"] or status_of(task) == filters["status"])
        and (not filters["task_ids"] or task.id in filters["task_ids"])
        and (not filters["model"] or task.model == filters["model"])
    )
