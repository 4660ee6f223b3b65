"""OpenAI's Images API answers: `ImagesResponse` bodies, `image_generation.*` / `image_edit.*`
stream events, usage, DALL·E 3's revised prompt. Requests are read by `images_request`, against
the rules of each model in `images_models`.

Other image models (flux-*, doubao-seedream-*, qwen-image*...) take any
`WxH` size, and their answers carry `url`, `b64_json` and `revised_prompt` all three, `""`
when unused, as the gateway builds them when it converts a vendor's answer.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from msgspec import Struct

from mockserver.core.errors import APIError
from mockserver.protocols.openai.images_request import (
    ImageRequest,
    InputImage,
)

# Output image tokens of GPT image models by quality and size (OpenAI's pricing table).
OUTPUT_TOKENS = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}


def input_image_tokens(image: InputImage) -> int:
    """An input image's tokens, tiled as GPT-4o vision counts them (fit in 2048x2048, shortest
    side 768, 512-pixel tiles) with the GPT image models' smaller figures (65 + 129 a tile);
    an approximation: OpenAI publishes no exact formula for image inputs here."""
    scale = min(1.0, 2048 / max(image.width, image.height))
    width, height = image.width * scale, image.height * scale
    scale = min(1.0, 768 / min(width, height))
    tiles = -(-int(width * scale) // 512) * -(-int(height * scale) // 512)
    return 65 + 129 * tiles


def usage(
    request: ImageRequest, text_tokens: int, stated: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """A GPT image answer's usage, computed; `stated`: a rule's `usage:` (a recording's, in
    `prompt_tokens`/`completion_tokens`), whose counts are reported instead."""
    image_tokens = sum(input_image_tokens(image) for image in request.images)
    by_size = OUTPUT_TOKENS.get(request.quality or "medium", OUTPUT_TOKENS["medium"])
    pixels = request.width * request.height
    per_image = by_size.get(request.size) or max(16, round(by_size["1024x1024"] * pixels / 1024**2))
    output = per_image * request.n
    prompt = text_tokens + image_tokens
    if stated:
        output = stated.get("completion_tokens", output)
        prompt = stated.get("prompt_tokens", prompt)
        # The recorded split of the input is not kept: its input images' share, as computed.
        image_tokens = min(image_tokens, prompt)
        text_tokens = prompt - image_tokens
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
        "output_tokens": output,
        "total_tokens": prompt + output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
    }


class Picture(Struct, frozen=True):
    """One answered image: its bytes, where it is served, and the revised prompt if any."""

    data: bytes
    url: str
    revised_prompt: str | None = None


def render(
    request: ImageRequest,
    pictures: list[Picture],
    created: int,
    text_tokens: int,
    stated: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    items = [_item(request, picture) for picture in pictures]
    body: dict[str, Any] = {"created": created}
    rules = request.rules
    if rules is not None and rules.gpt_image:
        body["background"] = request.background
        body["data"] = items
        body["output_format"] = request.output_format
        body["quality"] = request.quality
        body["size"] = request.size
        body["usage"] = usage(request, text_tokens, stated)
    else:
        body["data"] = items
    return body


def _item(request: ImageRequest, picture: Picture) -> dict[str, Any]:
    # Encoded only when sent (a 1024x1024 picture is ~15 µs of base64 per request).
    b64 = (
        base64.b64encode(picture.data).decode("ascii")
        if request.response_format == "b64_json"
        else ""
    )
    if request.rules is None:  # converted by the gateway: all three keys, "" when unused
        return {
            "url": picture.url if request.response_format == "url" else "",
            "b64_json": b64 if request.response_format == "b64_json" else "",
            "revised_prompt": picture.revised_prompt or "",
        }
    item: dict[str, Any] = {}
    if request.response_format == "b64_json":
        item["b64_json"] = b64
    else:
        item["url"] = picture.url
    if picture.revised_prompt is not None:
        item["revised_prompt"] = picture.revised_prompt
    return item


def stream_events(
    request: ImageRequest,
    partials: list[bytes],
    pictures: list[Picture],
    created: int,
    text_tokens: int,
    *,
    edit: bool,
    stated: Mapping[str, int] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """(event name, payload) for a streamed GPT image answer: `partial_images` partial
    pictures, then the final one (per image of `n`)."""
    prefix = "image_edit" if edit else "image_generation"
    common = {
        "background": request.background,
        "created_at": created,
        "output_format": request.output_format,
        "quality": request.quality,
        "size": request.size,
    }
    events: list[tuple[str, dict[str, Any]]] = []
    for index, data in enumerate(partials):
        kind = f"{prefix}.partial_image"
        events.append(
            (
                kind,
                {
                    "type": kind,
                    "b64_json": base64.b64encode(data).decode("ascii"),
                    **common,
                    "partial_image_index": index,
                },
            )
        )
    for picture in pictures:
        kind = f"{prefix}.completed"
        events.append(
            (
                kind,
                {
                    "type": kind,
                    "b64_json": base64.b64encode(picture.data).decode("ascii"),
                    **common,
                    "usage": usage(request, text_tokens, stated),
                },
            )
        )
    return events


REVISIONS = (
    "A detailed, vivid illustration of {prompt}, rendered with soft natural light and a "
    "balanced composition.",
    "An artistic depiction of {prompt}, with rich colours, fine textures and a calm, "
    "harmonious background.",
    "A high-resolution image showing {prompt}, framed in the centre with gentle shadows and "
    "crisp detail.",
)


def revised_prompt(prompt: str, pick: int) -> str:
    """DALL·E 3's rewritten prompt, made from the prompt (the same prompt, the same words)."""
    return REVISIONS[pick % len(REVISIONS)].format(prompt=prompt.strip().rstrip("."))


def content_policy_error() -> APIError:
    return APIError(
        400,
        "Your request was rejected as a result of our safety system. Your prompt may contain "
        "text that is not allowed by our safety system.",
        type="invalid_request_error",
        code="content_policy_violation",
    )
