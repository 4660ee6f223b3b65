"""Doubao Seedream / SeedEdit in Ark's own shape: `POST /api/v3/images/generations` (also under
the gateway's `/volc` prefix), as the Ark runtime SDK (`volcenginesdkarkruntime`,
`client.images.generate`) sends and reads it.

    {"model": "doubao-seedream-4-0-250828", "prompt": "a fox", "size": "2K",
     "response_format": "url", "watermark": false}
    -> {"model": ..., "created": 1735689600,
        "data": [{"url": "...", "size": "2048x2048"}],
        "usage": {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}}

Sizes: Seedream 4.x takes "1K" / "2K" / "4K" or "WxH" with 1280x720 to 4096x4096 pixels in
all and an aspect ratio within 1/16..16 (default 2048x2048); Seedream 3.0 "WxH" with each side
512..2048 (default 1024x1024); SeedEdit 3.0 only "adaptive" (the input image's size). Output
tokens are the pixels over 256, as Ark bills them. Errors come in Ark's envelope:
`{"error": {"code": "InvalidParameter", "message": "...", "param": "size", "type": "BadRequest"}}`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from mockserver.core.errors import APIError
from mockserver.protocols.doubao.errors import ark_error, invalid

DEFAULT_MODEL = "doubao-seedream-4-0-250828"
MAX_IMAGES = 15  # sequential_image_generation_options.max_images
PRESETS = {"1K": 1024, "2K": 2048, "4K": 4096}
_SIZE = re.compile(r"^(\d{2,5})[x*](\d{2,5})$")


class ArkImageRequest(Struct):
    model: str
    prompt: str
    width: int
    height: int
    response_format: str  # "url" | "b64_json"
    output_format: str  # "png" | "jpeg"
    images: list[str] = field(default_factory=list)  # reference images (URLs or data URLs)
    sequential: bool = False  # sequential_image_generation: auto
    max_images: int = MAX_IMAGES
    seed: int | None = None
    watermark: bool = True
    stream: bool = False


def content_policy_error() -> APIError:
    return ark_error(
        400,
        "InputTextSensitiveContentDetected",
        "The request failed because the input text may contain sensitive information.",
    )


def is_ark_image_model(model: str) -> bool:
    return model.startswith(("doubao-seedream", "doubao-seededit", "seedream", "seededit"))


def parse(body: Any) -> ArkImageRequest:
    if not isinstance(body, Mapping):
        raise ark_error(400, "InvalidParameter", "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ark_error(
            400,
            "MissingParameter",
            "The request failed because it is missing one or multiple required parameters.",
            "model",
        )
    if not is_ark_image_model(model):
        raise ark_error(
            404,
            "InvalidEndpointOrModel.NotFound",
            f"The model or endpoint {model} does not exist or you do not have access to it.",
            kind="NotFound",
        )
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ark_error(
            400,
            "MissingParameter",
            "The request failed because it is missing one or multiple required parameters.",
            "prompt",
        )
    images = _images(body.get("image"))
    edit = "seededit" in model
    if edit and not images:
        raise invalid("image", "SeedEdit needs an input image")
    width, height = _size(body.get("size"), model, edit)
    response_format = body.get("response_format") or "url"
    if response_format not in ("url", "b64_json"):
        raise invalid("response_format", f"expected url or b64_json, got {response_format!r}")
    output_format = body.get("output_format") or "jpeg"
    if output_format not in ("png", "jpeg"):
        raise invalid("output_format", f"expected png or jpeg, got {output_format!r}")
    sequential = body.get("sequential_image_generation") or "disabled"
    if sequential not in ("auto", "disabled"):
        raise invalid(
            "sequential_image_generation", f"expected auto or disabled, got {sequential!r}"
        )
    options = body.get("sequential_image_generation_options") or {}
    max_images = options.get("max_images", MAX_IMAGES) if isinstance(options, Mapping) else 0
    if not isinstance(max_images, int) or not 1 <= max_images <= MAX_IMAGES:
        raise invalid("max_images", f"expected an integer in [1, {MAX_IMAGES}]")
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or not -1 <= seed <= 2_147_483_647):
        raise invalid("seed", "expected an integer in [-1, 2147483647]")
    return ArkImageRequest(
        model=model,
        prompt=prompt,
        width=width,
        height=height,
        response_format=response_format,
        output_format=output_format,
        images=images,
        sequential=sequential == "auto",
        max_images=max_images,
        seed=seed if seed is not None and seed >= 0 else None,
        watermark=body.get("watermark", True) is not False,
        stream=body.get("stream") is True,
    )


def _images(value: Any) -> list[str]:
    if value is None:
        return []
    found = [value] if isinstance(value, str) else value
    if not isinstance(found, list) or not all(isinstance(v, str) and v for v in found):
        raise invalid("image", "expected a URL or base64 data URL, or a list of them")
    if len(found) > 14:
        raise invalid("image", "at most 14 reference images")
    return list(found)


def _size(value: Any, model: str, edit: bool) -> tuple[int, int]:
    if edit:
        if value not in (None, "adaptive"):
            raise invalid("size", f"SeedEdit only accepts adaptive, got {value!r}")
        return 1024, 1024  # the input image's size, read by the endpoint when it can
    legacy = "seedream-3" in model
    if value is None:
        return (1024, 1024) if legacy else (2048, 2048)
    if not isinstance(value, str):
        raise invalid("size", f"expected a string such as 2048x2048, got {value!r}")
    if value.upper() in PRESETS and not legacy:
        side = PRESETS[value.upper()]
        return side, side
    match = _SIZE.match(value)
    if match is None:
        raise invalid("size", f"expected 1K, 2K, 4K or WIDTHxHEIGHT, got {value!r}")
    width, height = int(match[1]), int(match[2])
    if legacy:
        if not (512 <= width <= 2048 and 512 <= height <= 2048):
            raise invalid("size", f"each side must be within [512, 2048], got {value}")
        return width, height
    pixels = width * height
    if not 1280 * 720 <= pixels <= 4096 * 4096 or not 1 / 16 <= width / height <= 16:
        raise invalid(
            "size",
            f"total pixels must be within [1280x720, 4096x4096] and the aspect ratio within "
            f"[1/16, 16], got {value}",
        )
    return width, height


def output_tokens(width: int, height: int, count: int) -> int:
    return count * (width * height // 256)


def render(
    request: ArkImageRequest, created: int, pictures: list[tuple[bytes, str]]
) -> dict[str, Any]:
    """The answer for `pictures` (their bytes and URL)."""
    data = []
    size = f"{request.width}x{request.height}"
    for content, url in pictures:
        if request.response_format == "b64_json":
            data.append({"b64_json": base64.b64encode(content).decode("ascii"), "size": size})
        else:
            data.append({"url": url, "size": size})
    tokens = output_tokens(request.width, request.height, len(pictures))
    usage = {"generated_images": len(pictures), "output_tokens": tokens, "total_tokens": tokens}
    return {"model": request.model, "created": created, "data": data, "usage": usage}


def stream_events(
    request: ArkImageRequest, created: int, pictures: list[tuple[bytes, str]]
) -> list[dict[str, Any]]:
    """Seedream 4.x `stream: true`: one `image_generation.partial_succeeded` event per picture,
    then `image_generation.completed` with the usage (event names from Ark's documentation
    [unverified]: the SDK's types don't name them)."""
    events = []
    body = render(request, created, pictures)
    for index, item in enumerate(body["data"]):
        events.append(
            {
                "type": "image_generation.partial_succeeded",
                "model": request.model,
                "created": created,
                "image_index": index,
                **item,
            }
        )
    events.append(
        {
            "type": "image_generation.completed",
            "model": request.model,
            "created": created,
            "usage": body["usage"],
        }
    )
    return events
