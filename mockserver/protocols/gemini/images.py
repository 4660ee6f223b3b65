"""Gemini's image output: `generationConfig.responseModalities: [IMAGE]` (the default of the
`*-image*` models) adds an `inlineData` PNG part to each candidate, sized by
`imageConfig.aspectRatio` and `imageSize` ("1K", "2K", "4K").

The picture derives from the request's content (model, prompt, size, candidate index), so a
request sent again gets the same bytes; a reply's `file:` (a recorded picture) is sent as it is
when it has the asked size, else fitted to it.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.core import ids
from mockserver.core.exchange import Exchange

# gemini-2.5-flash-image's sizes at "1K", by aspect ratio.
ASPECT_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
IMAGE_SCALE = {"1K": 1, "2K": 2, "4K": 4}


def _config(exchange: Exchange) -> Mapping[str, Any]:
    body = exchange.body
    config = body.get("generationConfig", body.get("generation_config"))
    return config if isinstance(config, Mapping) else {}


def wants_image(exchange: Exchange) -> bool:
    config = _config(exchange)
    modalities = config.get("responseModalities", config.get("response_modalities"))
    if isinstance(modalities, list):
        return any(isinstance(m, str) and m.upper() == "IMAGE" for m in modalities)
    return "-image" in exchange.model


def text_wanted(exchange: Exchange) -> bool:
    """False when `responseModalities` lists IMAGE without TEXT: the answer is pictures only."""
    modalities = _config(exchange).get(
        "responseModalities", _config(exchange).get("response_modalities")
    )
    if not isinstance(modalities, list):
        return True
    return any(isinstance(m, str) and m.upper() == "TEXT" for m in modalities)


def image_size(exchange: Exchange) -> tuple[int, int]:
    image_config = _config(exchange).get("imageConfig") or _config(exchange).get("image_config")
    if not isinstance(image_config, Mapping):
        return ASPECT_SIZES["1:1"]
    aspect = image_config.get("aspectRatio", image_config.get("aspect_ratio"))
    width, height = ASPECT_SIZES.get(aspect if isinstance(aspect, str) else "1:1", (1024, 1024))
    scale_name = image_config.get("imageSize", image_config.get("image_size"))
    scale = IMAGE_SCALE.get(scale_name if isinstance(scale_name, str) else "1K", 1)
    return width * scale, height * scale


def image_part(exchange: Exchange, index: int, file: str | None = None) -> dict[str, Any]:
    """Candidate `index`'s picture: drawn, or `file` (a reply's `file:`) in the asked size."""
    width, height = image_size(exchange)
    if file is not None:
        mime, data = picture_file(file, width, height)
    else:
        edit = bool(exchange.messages) and any(
            a.kind == "image" for a in exchange.messages[-1].attachments
        )
        mime = "image/png"
        data = picture(exchange.model, exchange.last_user, width, height, index, edit)
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def add_images(
    candidates: list[dict[str, Any]], exchange: Exchange, files: Sequence[str | None] = ()
) -> None:
    """An image part at the end of each candidate that has content (its text parts dropped
    when only IMAGE was asked for); `files[i]`: candidate i's picture from disk."""
    text = text_wanted(exchange)
    for index, candidate in enumerate(candidates):
        content = candidate.get("content")
        if isinstance(content, dict):
            parts = content.setdefault("parts", [])
            if not text:
                parts[:] = [part for part in parts if "text" not in part or part.get("thought")]
            parts.append(image_part(exchange, index, files[index] if index < len(files) else None))


def image_chunks(
    chunks: list[dict[str, Any]], exchange: Exchange, files: Sequence[str | None] = ()
) -> list[dict[str, Any]]:
    """A stream's chunks with the image in the last one; with IMAGE alone, the chunks that
    carried only text are left out."""
    if not text_wanted(exchange):
        for chunk in chunks[:-1]:
            for candidate in chunk["candidates"]:
                parts = candidate.get("content", {}).get("parts", [])
                parts[:] = [part for part in parts if "text" not in part or part.get("thought")]
        chunks = [
            chunk
            for chunk in chunks[:-1]
            if any(c.get("content", {}).get("parts") for c in chunk["candidates"])
        ] + chunks[-1:]
    add_images(chunks[-1]["candidates"], exchange, files)
    return chunks


_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}


@functools.lru_cache(maxsize=16)
def _picture_file(path: str, digest: str, width: int, height: int) -> tuple[str, bytes]:
    from PIL import Image

    from mockserver.media.disk import convert
    from mockserver.media.recipes import DiskRecipe

    with Image.open(path) as image:
        fmt = _FORMATS.get(image.format or "", "png")
    data = convert(DiskRecipe(path, digest, "image", fmt, width, height))
    return f"image/{fmt}", data


def picture_file(path: str, width: int, height: int) -> tuple[str, bytes]:
    """(MIME type, bytes) of a picture from disk: as it is when it has the asked size (a
    recorded picture comes back byte for byte), else fitted to it in its own format."""
    from mockserver.media.disk import digest_of

    return _picture_file(path, digest_of(path), width, height)


@functools.lru_cache(maxsize=16)  # bounded: a request repeated soon is drawn once
def picture(model: str, prompt: str, width: int, height: int, index: int, edit: bool) -> bytes:
    from mockserver.media.images import draw
    from mockserver.media.recipes import ImageRecipe

    seed = ids.seed_for(ids.digest(model, prompt), "gemini-image") % 100_000
    caption = model + (" · edit" if edit else "")
    return draw(ImageRecipe(seed, prompt, width, height, variant=index, caption=caption))
