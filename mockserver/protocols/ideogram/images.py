"""Ideogram's image API as the gateway passes it through (`/ideogram/...`): 3.0's multipart
`generate`, `edit`, `remix`, `reframe`, `replace-background`, and the legacy JSON `generate`
and multipart `remix`, `upscale`, `describe`. Answers in Ideogram's own shape:
`{"created": "<ISO datetime>", "data": [{prompt, resolution, is_image_safe, seed, url,
style_type}]}`; `describe` gives `{"descriptions": [{"text": ...}]}`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from msgspec import Struct

from mockserver.core.errors import APIError, invalid_request

V3_ACTIONS = ("generate", "edit", "remix", "reframe", "replace-background")
LEGACY_ACTIONS = ("generate", "remix", "upscale", "describe")
NEEDS_IMAGE = ("edit", "remix", "reframe", "replace-background", "upscale", "describe")
NEEDS_PROMPT = ("generate", "edit", "remix", "replace-background")
ASPECTS = [
    "1x3",
    "3x1",
    "1x2",
    "2x1",
    "9x16",
    "16x9",
    "10x16",
    "16x10",
    "2x3",
    "3x2",
    "3x4",
    "4x3",
    "4x5",
    "5x4",
    "1x1",
]  # v3 words
RENDERING_SPEEDS = ("FLASH", "TURBO", "DEFAULT", "QUALITY")
MAGIC_PROMPT = ("AUTO", "ON", "OFF")
STYLE_TYPES = ("AUTO", "GENERAL", "REALISTIC", "DESIGN", "FICTION")
_RESOLUTION = re.compile(r"^(\d{3,4})x(\d{3,4})$")


class IdeogramRequest(Struct):
    action: str
    prompt: str
    width: int
    height: int
    num_images: int = 1
    seed: int | None = None
    style_type: str = "GENERAL"
    legacy: bool = False


def size_for_aspect(aspect: str) -> tuple[int, int]:
    """About a megapixel in the aspect `WxH` (`16x9` → 1360x768), sides multiples of 16."""
    across, down = (int(part) for part in aspect.split("x"))
    width = math.sqrt(1024 * 1024 * across / down)
    height = width * down / across
    return int(round(width / 16) * 16), int(round(height / 16) * 16)


def parse_v3(
    action: str, fields: Mapping[str, str], image_size: tuple[int, int] | None
) -> IdeogramRequest:
    prompt = fields.get("prompt", "")
    if action in NEEDS_PROMPT and not prompt:
        raise invalid_request("prompt is required", param="prompt")
    if action in NEEDS_IMAGE and image_size is None:
        raise invalid_request("image is required", param="image")
    width, height = _size(fields.get("resolution"), fields.get("aspect_ratio"), image_size, action)
    for name, allowed in (
        ("rendering_speed", RENDERING_SPEEDS),
        ("magic_prompt", MAGIC_PROMPT),
        ("style_type", STYLE_TYPES),
    ):
        value = fields.get(name)
        if value and value not in allowed:
            raise invalid_request(
                f"Invalid {name} '{value}': expected one of {', '.join(allowed)}", param=name
            )
    return IdeogramRequest(
        action=action,
        prompt=prompt,
        width=width,
        height=height,
        num_images=_count(fields.get("num_images")),
        seed=_seed(fields.get("seed")),
        style_type=fields.get("style_type") or "GENERAL",
    )


def parse_legacy(action: str, body: Any, image_size: tuple[int, int] | None) -> IdeogramRequest:
    """`{"image_request": {...}}`, as JSON (generate) or as a multipart field (remix, upscale)."""
    if isinstance(body, str):
        try:
            body = {"image_request": orjson.loads(body)} if body else {}
        except orjson.JSONDecodeError:
            raise invalid_request("image_request must be a JSON object") from None
    request = body.get("image_request") if isinstance(body, Mapping) else None
    if action != "describe" and not isinstance(request, Mapping):
        raise invalid_request("image_request is required", param="image_request")
    request = request if isinstance(request, Mapping) else {}
    prompt = request.get("prompt") or ""
    if action in ("generate", "remix") and not prompt:
        raise invalid_request("prompt is required", param="image_request.prompt")
    if action in NEEDS_IMAGE and image_size is None:
        raise invalid_request("image_file is required", param="image_file")
    aspect = request.get("aspect_ratio")
    if aspect is not None:
        found = re.fullmatch(r"ASPECT_(\d+)_(\d+)", str(aspect))
        if found is None or f"{found[1]}x{found[2]}" not in ASPECTS:
            raise invalid_request(f"Invalid aspect_ratio '{aspect}'", param="aspect_ratio")
        width, height = size_for_aspect(f"{found[1]}x{found[2]}")
    elif image_size is not None:
        width, height = (
            image_size if action != "upscale" else (image_size[0] * 2, image_size[1] * 2)
        )
    else:
        width, height = 1024, 1024
    return IdeogramRequest(
        action=action,
        prompt=str(prompt),
        width=width,
        height=height,
        num_images=_count(request.get("num_images")),
        seed=_seed(request.get("seed")),
        style_type=str(request.get("style_type") or "GENERAL"),
        legacy=True,
    )


def _size(
    resolution: str | None, aspect: str | None, image_size: tuple[int, int] | None, action: str
) -> tuple[int, int]:
    if resolution and aspect:
        raise invalid_request("Only one of resolution and aspect_ratio may be given")
    if resolution:
        found = _RESOLUTION.match(resolution)
        if found is None:
            raise invalid_request(f"Invalid resolution '{resolution}'", param="resolution")
        return int(found[1]), int(found[2])
    if aspect:
        if aspect not in ASPECTS:
            raise invalid_request(
                f"Invalid aspect_ratio '{aspect}': expected one of {', '.join(ASPECTS)}",
                param="aspect_ratio",
            )
        return size_for_aspect(aspect)
    if image_size is not None and action != "reframe":
        return image_size
    return 1024, 1024


def _count(value: Any) -> int:
    if value in (None, ""):
        return 1
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise invalid_request(f"num_images must be an integer; got {value!r}") from None
    if not 1 <= count <= 8:
        raise invalid_request(f"num_images must be between 1 and 8; got {count}")
    return count


def _seed(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid_request(f"seed must be an integer; got {value!r}") from None


def render(
    request: IdeogramRequest, urls: list[str], seeds: list[int], prompt: str, created: int
) -> dict[str, Any]:
    moment = datetime.fromtimestamp(created, UTC).isoformat()
    return {
        "created": moment,
        "data": [
            {
                "prompt": prompt,
                "resolution": f"{request.width}x{request.height}",
                "is_image_safe": True,
                "seed": seed,
                "url": url,
                "style_type": request.style_type,
            }
            for url, seed in zip(urls, seeds, strict=True)
        ],
    }


def render_describe(text: str) -> dict[str, Any]:
    return {"descriptions": [{"text": text}]}


def not_found(path: str) -> APIError:
    return APIError(404, f"Invalid URL (POST {path})", type="invalid_request_error")
