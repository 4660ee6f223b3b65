"""Qwen-Image and Wan text-to-image in DashScope's own shape (the `dashscope` SDK's
`MultiModalConversation.call` and `ImageSynthesis.async_call` / `fetch`), bare under
`/api/v1` and under the gateway's `/alibailian/api/v1`.

Synchronous (qwen-image, qwen-image-edit):

    POST /api/v1/services/aigc/multimodal-generation/generation
    {"model": "qwen-image-plus", "input": {"messages": [{"role": "user",
        "content": [{"text": "a fox"}]}]}, "parameters": {"size": "1328*1328"}}
    -> {"output": {"choices": [{"finish_reason": "stop", "message": {"role": "assistant",
        "content": [{"image": "<url>"}]}}]}, "usage": {"width": 1328, "height": 1328,
        "image_count": 1}, "request_id": "..."}

Asynchronous (needs `X-DashScope-Async: enable`):

    POST /api/v1/services/aigc/text2image/image-synthesis
    {"model": "qwen-image", "input": {"prompt": "a fox"}, "parameters": {"n": 1}}
    -> {"output": {"task_status": "PENDING", "task_id": "<uuid>"}, "request_id": "..."}
    GET /api/v1/tasks/<task_id>
    -> {"output": {"task_id", "task_status": "SUCCEEDED", "submit_time", "scheduled_time",
        "end_time", "results": [{"orig_prompt", "actual_prompt", "url"}],
        "task_metrics": {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}},
        "usage": {"image_count": 1}, "request_id": "..."}

Errors: `{"request_id": "...", "code": "InvalidParameter", "message": "..."}`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from mockserver.core import ids
from mockserver.core.errors import APIError
from mockserver.tasks.task import Task

# Qwen-Image's five sizes (its default 1328*1328); Wan takes any side in 512..1440.
QWEN_SIZES = ("1664*928", "1472*1140", "1328*1328", "1140*1472", "928*1664")
QWEN_DEFAULT = "1328*1328"
WAN_DEFAULT = "1024*1024"
STAGES = ("SUBMITTED", "IN_PROGRESS")  # PENDING, RUNNING; then SUCCEEDED / FAILED
STATUS = {
    "NOT_START": "PENDING",
    "SUBMITTED": "PENDING",
    "QUEUED": "PENDING",
    "IN_PROGRESS": "RUNNING",
    "SUCCESS": "SUCCEEDED",
    "FAILURE": "FAILED",
}
_SIZE = re.compile(r"^(\d{3,4})\*(\d{3,4})$")


class DashScopeImageRequest(Struct):
    model: str
    prompt: str
    width: int
    height: int
    n: int = 1
    negative_prompt: str = ""
    images: list[str] = field(default_factory=list)  # edit inputs (URLs or data URLs)
    seed: int | None = None
    prompt_extend: bool = True
    watermark: bool = False


def dashscope_error(status: int, code: str, message: str) -> APIError:
    return APIError(status, message, code=code)


def invalid(message: str) -> APIError:
    return dashscope_error(400, "InvalidParameter", message)


CODES = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "AccessDenied",
    404: "ModelNotFound",
    429: "Throttling.RateQuota",
}


def render_error(error: APIError, key: str = "") -> dict[str, Any]:
    """DashScope's error; an error from elsewhere (a scripted fault) gets the code for its
    status."""
    code = error.code if error.code and "_" not in error.code else None
    code = code or CODES.get(error.status, "InternalError")
    return {"request_id": request_id(key or error.message), "code": code, "message": error.message}


def content_policy_error() -> APIError:
    return dashscope_error(
        400, "DataInspectionFailed", "Input data may contain inappropriate content."
    )


def request_id(key: str) -> str:
    h = ids.hex_digest(key, "dashscope-request", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def task_id(key: str) -> str:
    h = ids.hex_digest(key, "dashscope-task", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def is_image_model(model: str) -> bool:
    return model.startswith(("qwen-image", "wanx", "wan2", "flux", "stable-diffusion"))


def _model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("Model not exist.")  # DashScope says so for a missing model too
    if not is_image_model(model):
        raise invalid("Model not exist.")
    return model


def _parameters(body: Mapping[str, Any]) -> Mapping[str, Any]:
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        raise invalid("parameters must be an object")
    return parameters


def _size(value: Any, model: str) -> tuple[int, int]:
    qwen = model.startswith("qwen-image")
    text = value if value is not None else (QWEN_DEFAULT if qwen else WAN_DEFAULT)
    match = _SIZE.match(text) if isinstance(text, str) else None
    if match is None:
        raise invalid(f"The size is invalid: {value!r}; expected WIDTH*HEIGHT, such as 1024*1024")
    if qwen and text not in QWEN_SIZES:
        raise invalid(f"The size {text} is not supported; expected one of {', '.join(QWEN_SIZES)}")
    width, height = int(match[1]), int(match[2])
    if not qwen and not (512 <= width <= 1440 and 512 <= height <= 1440):
        raise invalid(f"The size {text} is invalid: each side must be within [512, 1440]")
    return width, height


def _common(
    model: str, prompt: str, parameters: Mapping[str, Any], images: list[str]
) -> DashScopeImageRequest:
    if not prompt.strip():
        raise invalid("Input prompt is required.")
    n = parameters.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= 4:
        raise invalid("The n parameter is invalid: expected an integer within [1, 4]")
    seed = parameters.get("seed")
    if seed is not None and (not isinstance(seed, int) or not 0 <= seed <= 2_147_483_647):
        raise invalid("The seed parameter is invalid: expected an integer within [0, 2147483647]")
    width, height = _size(parameters.get("size"), model)
    negative = parameters.get("negative_prompt") or ""
    return DashScopeImageRequest(
        model=model,
        prompt=prompt,
        width=width,
        height=height,
        n=n,
        negative_prompt=negative if isinstance(negative, str) else "",
        images=images,
        seed=seed,
        prompt_extend=parameters.get("prompt_extend", True) is not False,
        watermark=parameters.get("watermark") is True,
    )


def parse_multimodal(body: Any) -> DashScopeImageRequest:
    """The synchronous request: the prompt (and the images to edit) in one user message."""
    if not isinstance(body, Mapping):
        raise invalid("The request body must be a JSON object.")
    model = _model(body)
    payload = body.get("input")
    messages = payload.get("messages") if isinstance(payload, Mapping) else None
    if not isinstance(messages, list) or not messages:
        raise invalid("Input messages is required.")
    last = messages[-1]
    content = last.get("content") if isinstance(last, Mapping) else None
    if not isinstance(content, list):
        raise invalid("The content of the message must be a list of {text} / {image} items.")
    texts = [part["text"] for part in content if isinstance(part, Mapping) and "text" in part]
    images = [part["image"] for part in content if isinstance(part, Mapping) and "image" in part]
    if not all(isinstance(t, str) for t in texts) or not all(isinstance(i, str) for i in images):
        raise invalid("text and image items must be strings")
    if "edit" in model and not images:
        raise invalid("An image is required for image editing.")
    parameters = dict(_parameters(body))
    parameters.setdefault("n", 1)
    return _common(model, "\n".join(texts), parameters, images)


def parse_synthesis(body: Any) -> DashScopeImageRequest:
    """The asynchronous text-to-image request: `input.prompt`."""
    if not isinstance(body, Mapping):
        raise invalid("The request body must be a JSON object.")
    model = _model(body)
    payload = body.get("input")
    prompt = payload.get("prompt") if isinstance(payload, Mapping) else None
    if not isinstance(prompt, str):
        raise invalid("Input prompt is required.")
    negative = payload.get("negative_prompt") if isinstance(payload, Mapping) else None
    parameters = dict(_parameters(body))
    if isinstance(negative, str):
        parameters["negative_prompt"] = negative
    return _common(model, prompt, parameters, [])


def actual_prompt(request: DashScopeImageRequest) -> str:
    """What the prompt extension rewrote the prompt to (when it is on)."""
    if not request.prompt_extend:
        return request.prompt
    return f"{request.prompt.strip().rstrip('.')}, highly detailed, soft natural light."


def render_multimodal(request: DashScopeImageRequest, urls: list[str], key: str) -> dict[str, Any]:
    choices = [
        {
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": [{"image": url}]},
        }
        for url in urls
    ]
    return {
        "output": {"choices": choices},
        "usage": {"width": request.width, "height": request.height, "image_count": len(urls)},
        "request_id": request_id(key),
    }


def render_submitted(task: Task) -> dict[str, Any]:
    return {
        "output": {"task_status": STATUS.get(task.status, "PENDING"), "task_id": task.id},
        "request_id": request_id(task.key),
    }


def _time(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC) + datetime.timedelta(hours=8)
    return moment.strftime("%Y-%m-%d %H:%M:%S.000")  # Beijing time, as DashScope writes it


def render_task(task: Task, urls: list[str]) -> dict[str, Any]:
    """A fetched task: its status and times; its results once it succeeded."""
    status = STATUS.get(task.status, "PENDING")
    output: dict[str, Any] = {
        "task_id": task.id,
        "task_status": status,
        "submit_time": _time(task.created),
    }
    started = task.started_at
    if started is not None:
        output["scheduled_time"] = _time(started)
    if task.finished:
        output["end_time"] = _time(task.finished_at)
    body: dict[str, Any] = {"request_id": request_id(f"{task.key}:{task.step}")}
    n = int(task.params.get("n", 1))
    if task.succeeded:
        output["results"] = [
            {
                "orig_prompt": task.prompt,
                "actual_prompt": task.params.get("actual_prompt", task.prompt),
                "url": url,
            }
            for url in urls
        ]
        output["task_metrics"] = {"TOTAL": n, "SUCCEEDED": n, "FAILED": 0}
        body["usage"] = {"image_count": n}
    elif status == "FAILED":
        output["code"] = task.code or "InternalError"
        output["message"] = task.reason or "The image generation failed."
        output["task_metrics"] = {"TOTAL": n, "SUCCEEDED": 0, "FAILED": n}
    body["output"] = output
    return body


def render_unknown(task_id: str) -> dict[str, Any]:
    """What DashScope answers for a task it doesn't know (or no longer keeps)."""
    return {
        "request_id": request_id(task_id),
        "output": {"task_id": task_id, "task_status": "UNKNOWN"},
    }
