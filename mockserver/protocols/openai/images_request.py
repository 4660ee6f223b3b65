"""An Images API request -> `ImageRequest`: `POST /v1/images/generations` (JSON) and
`/v1/images/edits` (multipart fields and the uploaded images, already read by Pillow).

Each known model is checked as OpenAI checks it (`images_models`), with OpenAI's words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from mockserver.core.errors import APIError, invalid_request
from mockserver.protocols.openai.images_models import (
    DALL_E_2,
    DALL_E_3,
    DEFAULT_MODEL,
    MAX_N,
    ModelRules,
    rules_for,
)

_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
GATEWAY_SIZES = {"1K": 1024, "2K": 2048, "4K": 4096}


class InputImage(Struct, frozen=True):
    """An uploaded image of an edit: its bytes and what Pillow read from them."""

    data: bytes
    format: str
    width: int
    height: int
    mode: str
    filename: str = ""


class ImageRequest(Struct):
    model: str
    prompt: str
    n: int
    width: int
    height: int
    size: str  # as answered (`1024x1024`)
    response_format: str  # url | b64_json
    output_format: str  # png | jpeg | webp
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    compression: int = 100
    stream: bool = False
    partial_images: int = 0
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None
    rules: ModelRules | None = None

    @property
    def transparent(self) -> bool:
        return self.background == "transparent" and self.output_format in ("png", "webp")


def parse_generation(body: Any) -> ImageRequest:
    if not isinstance(body, Mapping):
        raise invalid_request("The request body must be a JSON object.")
    return _parse_common(body, edit=False)


def parse_edit(
    fields: Mapping[str, Any], images: list[InputImage], mask: InputImage | None
) -> ImageRequest:
    """An edit from its multipart fields (strings) and files, already read by Pillow."""
    if not images:
        raise invalid_request("Missing required parameter: 'image'.", param="image")
    request = _parse_common(fields, edit=True)
    request.images, request.mask = images, mask
    rules = request.rules
    if rules is DALL_E_2 or (rules is None and request.model.startswith("dall-e")):
        _check_dall_e_2_edit(images, mask)
    elif rules is not None:
        for image in images:
            if image.format not in ("png", "jpeg", "webp"):
                raise invalid_request(
                    f"Invalid input image - format must be in ['png', 'jpeg', 'webp'], "
                    f"got {image.format or 'unknown'}.",
                    param="image",
                    code="invalid_image_format",
                )
        if mask is not None:
            _check_mask(images[0], mask)
    if "size" not in fields or fields.get("size") in (None, "", "auto"):
        # No size asked: the edit keeps the input's (a supported one nearest its shape).
        request.width, request.height = _edit_size(request, images[0])
        request.size = f"{request.width}x{request.height}"
    return request


def _check_dall_e_2_edit(images: list[InputImage], mask: InputImage | None) -> None:
    image = images[0]
    if image.format != "png" or len(image.data) > 4 * 1024 * 1024:
        raise invalid_request("Uploaded image must be a PNG and less than 4 MB.", param="image")
    if image.width != image.height:
        raise invalid_request("Uploaded image must be square.", param="image")
    if mask is None and image.mode not in ("RGBA", "LA", "L"):
        raise invalid_request(
            f"Invalid input image - format must be in ['RGBA', 'LA', 'L'], got {image.mode}.",
            param="image",
        )
    if mask is not None:
        _check_mask(image, mask)


def _check_mask(image: InputImage, mask: InputImage) -> None:
    """The mask must be a PNG with an alpha channel, of the image's size."""
    if mask.format != "png":
        raise invalid_request("Uploaded mask must be a PNG and less than 4 MB.", param="mask")
    if mask.mode not in ("RGBA", "LA", "PA"):
        raise invalid_request(
            f"Invalid mask image - format must be in ['RGBA', 'LA'], got {mask.mode}. "
            "The mask needs an alpha channel: its transparent pixels mark where to edit.",
            param="mask",
            code="invalid_mask_image_format",
        )
    if (mask.width, mask.height) != (image.width, image.height):
        raise invalid_request(
            f"Invalid mask image - the mask is {mask.width}x{mask.height} but the image is "
            f"{image.width}x{image.height}; mask and image must have the same dimensions.",
            param="mask",
            code="invalid_mask_image_dimensions",
        )


def _parse_common(body: Mapping[str, Any], *, edit: bool) -> ImageRequest:
    model = _string(body, "model") or DEFAULT_MODEL
    rules = rules_for(model)
    prompt = body.get("prompt")
    if prompt is None or prompt == "":
        raise invalid_request("Missing required parameter: 'prompt'.", param="prompt")
    if not isinstance(prompt, str):
        raise _type_error("prompt", "a string", prompt)
    n = _integer(body, "n", 1)
    if rules is not None and len(prompt) > rules.max_prompt:
        raise invalid_request(
            f"Invalid 'prompt': string too long. Expected a string with maximum length "
            f"{rules.max_prompt}, but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )
    if n < 1:
        raise invalid_request(
            f"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {n} "
            "instead.",
            param="n",
            code="integer_below_min_value",
        )
    if rules is not None and rules.max_n == 1 and n != 1:
        raise invalid_request("You must provide n=1 for this model.", param="n")
    if n > MAX_N:
        raise invalid_request(
            f"Invalid 'n': integer above maximum value. Expected a value <= {MAX_N}, but got "
            f"{n} instead.",
            param="n",
            code="integer_above_max_value",
        )
    size = _string(body, "size") or (rules.default_size if rules else "1024x1024")
    width, height = _size(size, rules, model)
    quality = _choice(body, "quality", rules.qualities if rules else ())
    style = _choice(body, "style", rules.styles if rules else ())
    gpt_image = rules is not None and rules.gpt_image
    background = _choice(body, "background", ("transparent", "opaque", "auto") if gpt_image else ())
    output_format = _choice(body, "output_format", ("png", "jpeg", "webp")) or "png"
    response_format = _choice(body, "response_format", ("url", "b64_json"))
    if gpt_image:
        response_format = "b64_json"  # GPT image models always answer base64
    compression = _integer(body, "output_compression", 100)
    if not 0 <= compression <= 100:
        raise invalid_request(
            f"Invalid 'output_compression': expected a value between 0 and 100, but got "
            f"{compression} instead.",
            param="output_compression",
            code="invalid_value",
        )
    stream = _boolean(body, "stream")
    partial_images = _integer(body, "partial_images", 0)
    if stream and not gpt_image and rules is not None:
        raise invalid_request(
            f"Streaming is not supported for model {model}.", param="stream", code="invalid_value"
        )
    if not 0 <= partial_images <= 3:
        raise invalid_request(
            f"Invalid 'partial_images': integer above maximum value. Expected a value <= 3, "
            f"but got {partial_images} instead.",
            param="partial_images",
            code="integer_above_max_value",
        )
    if gpt_image and size == "auto":
        width, height = 1024, 1024
    if gpt_image and quality in (None, "auto"):
        quality = "medium"  # what `auto` settles on for the mock
    if rules is DALL_E_3 and quality is None:
        quality = "standard"
    if rules is DALL_E_3 and style is None:
        style = "vivid"
    if gpt_image and background in (None, "auto"):
        background = "opaque"
    return ImageRequest(
        model=model,
        prompt=prompt,
        n=n,
        width=width,
        height=height,
        size=f"{width}x{height}",
        response_format=response_format or "url",
        output_format=output_format if gpt_image or rules is None else "png",
        quality=quality,
        style=style,
        background=background,
        compression=compression,
        stream=stream,
        partial_images=partial_images,
        rules=rules,
    )


def _size(size: str, rules: ModelRules | None, model: str) -> tuple[int, int]:
    if rules is not None and size not in rules.sizes:
        if rules is DALL_E_2:
            listed = ", ".join(f"'{s}'" for s in rules.sizes)
            raise invalid_request(f"'{size}' is not one of [{listed}] - 'size'")
        if rules is DALL_E_3:
            raise APIError(
                400,
                "The size is not supported by this model.",
                type="invalid_request_error",
                code="invalid_size",
            )
        raise _enum_error("size", size, rules.sizes)
    if size == "auto":
        return 1024, 1024
    if size.upper() in GATEWAY_SIZES:  # Seedream's "1K" / "2K" / "4K"
        side = GATEWAY_SIZES[size.upper()]
        return side, side
    found = _SIZE.match(size)
    if found is None:
        raise invalid_request(
            f"Invalid value: '{size}'. Expected a size as WIDTHxHEIGHT, such as '1024x1024'.",
            param="size",
            code="invalid_value",
        )
    width, height = int(found[1]), int(found[2])
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise invalid_request(
            f"Invalid value: '{size}'. Each side must be between 16 and 4096 pixels "
            f"for model {model}.",
            param="size",
            code="invalid_value",
        )
    return width, height


def _edit_size(request: ImageRequest, image: InputImage) -> tuple[int, int]:
    rules = request.rules
    if rules is None:
        return image.width, image.height
    if rules is DALL_E_2:
        return request.width, request.height
    shape = image.width / image.height
    if shape > 1.2:
        return 1536, 1024
    if shape < 1 / 1.2:
        return 1024, 1536
    return 1024, 1024


def _string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _type_error(name, "a string", value)
    return value


def _integer(body: Mapping[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, str):  # a multipart field
        try:
            return int(value)
        except ValueError:
            raise _type_error(name, "an integer", value) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(name, "an integer", value)
    return value


def _boolean(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _choice(body: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _string(body, name)
    if value is not None and allowed and value not in allowed:
        raise _enum_error(name, value, allowed)
    return value


def _enum_error(name: str, value: str, allowed: tuple[str, ...]) -> APIError:
    listed = [f"'{a}'" for a in allowed]
    words = ", ".join(listed[:-1]) + f", and {listed[-1]}" if len(listed) > 1 else listed[0]
    return invalid_request(
        f"Invalid value: '{value}'. Supported values are: {words}.",
        param=name,
        code="invalid_value",
    )


def _type_error(name: str, expected: str, value: Any) -> APIError:
    kind = type(value).__name__.replace("str", "a string").replace("int", "an integer")
    return invalid_request(
        f"Invalid type for '{name}': expected {expected}, but got {kind} instead.",
        param=name,
        code="invalid_type",
    )
