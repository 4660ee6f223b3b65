"""Input tokens of images (from their real pixel size) and audio, per each vendor's formula.

An image part's size is read from its bytes when the request carries them (a `data:` URL, an
Anthropic base64 source, Gemini `inlineData`): Pillow reads only the header. A remote URL or a
file id can't be fetched offline, so its size is unknown (`Attachment.width == 0`): OpenAI and
Anthropic then count a typical 1024 x 1024 picture (`UNKNOWN_SIZE`), Gemini one 258-token image.

The published formulas:
- OpenAI, tile models (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3): `detail: low` costs the
  model's base tokens; otherwise the image is scaled to fit 2048 x 2048, then down so its short
  side is 768 px, and costs base + per-tile tokens for each 512 px tile covering it.
- OpenAI, patch models (gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano): the image is covered by
  32 px patches; over 1,536 patches it is scaled down to fit 1,536 (whole patches per side);
  patches times the model's multiplier, rounded up; `detail` makes no difference. (Users
  have measured 1.2 for gpt-5-mini and 1.5 for gpt-5-nano on the live API; the published
  1.62 / 2.46 are kept until OpenAI's page changes.)
- Anthropic: scaled down (aspect kept) until its long edge is at most 1568 px and it is at most
  about 1.15 megapixels (~1,600 tokens); tokens = width x height / 750, rounded up.
- Gemini: 258 tokens when both sides are at most 384 px, else 258 per 768 x 768 tile.

Audio input (`input_audio`) is counted by `audio_tokens`, the one boundary the media work
(audio durations) replaces; until then a clip costs a fixed, plausible amount.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from typing import NamedTuple

from mockserver.core.exchange import Attachment

# URL-safe letters to the standard ones; line breaks (MIME-wrapped base64) dropped.
_URLSAFE = str.maketrans("-_", "+/", " \t\r\n")
# A remote image's size can't be known offline: count it as a common 1024 x 1024 picture.
UNKNOWN_SIZE = (1024, 1024)


class _Tiles(NamedTuple):
    base: int
    tile: int


# OpenAI "Images and vision: calculating costs", tile models (base, per tile).
_OPENAI_TILES = (
    ("gpt-4o-mini", _Tiles(2833, 5667)),
    ("computer-use", _Tiles(65, 129)),
    ("gpt-5", _Tiles(70, 140)),
    ("o1", _Tiles(75, 150)),
    ("o3", _Tiles(75, 150)),
)
_OPENAI_DEFAULT_TILES = _Tiles(85, 170)  # gpt-4o, gpt-4.1, gpt-4.5, and unknown models
# Patch models and their multipliers (longer prefixes first: "gpt-4.1-mini" before "gpt-4.1").
_OPENAI_PATCH_MULTIPLIERS = (
    ("gpt-4.1-mini", 1.62),
    ("gpt-4.1-nano", 2.46),
    ("gpt-5-mini", 1.62),
    ("gpt-5-nano", 2.46),
    ("o4-mini", 1.72),
)
PATCH = 32
MAX_PATCHES = 1536

ANTHROPIC_LONG_EDGE = 1568
ANTHROPIC_MAX_PIXELS = 1600 * 750  # ~1.15 MP: the docs' largest unresized sizes (1092 x 1092)
ANTHROPIC_PIXELS_PER_TOKEN = 750

GEMINI_IMAGE_TOKENS = 258
GEMINI_SMALL_SIDE = 384
GEMINI_TILE = 768

# Audio at fixed costs until durations are decoded: ~20 s of speech at gpt-4o-audio's ~10
# tokens per second; Gemini's 32 tokens per second of a 10 s clip.
OPENAI_AUDIO_TOKENS = 200
GEMINI_AUDIO_TOKENS = 320


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's header, or None when Pillow can't read it."""
    from PIL import Image  # with the first image part, not at start-up

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # not an image, truncated, or a decompression bomb: size unknown
        return None
    return (width, height) if width > 0 and height > 0 else None


def base64_image_size(text: str) -> tuple[int, int] | None:
    """The size of a base64-encoded image (standard or URL-safe alphabet, as google-genai
    sends it; padding and line breaks optional); None when it is not base64 or not an image."""
    text = text.translate(_URLSAFE).rstrip("=")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return image_size(data)


def data_url_image_size(url: str) -> tuple[int, int] | None:
    """The size of a `data:image/png;base64,...` URL's image; None for a remote URL."""
    if not url.startswith("data:"):
        return None
    header, _, payload = url.partition(",")
    return base64_image_size(payload) if header.endswith(";base64") else None


def sized(attachment: Attachment, size: tuple[int, int] | None) -> Attachment:
    """`attachment` with its pixel size set (left unknown, 0 x 0, when `size` is None)."""
    if size is not None:
        attachment.width, attachment.height = size
    return attachment


def _size_of(attachment: Attachment) -> tuple[int, int]:
    if attachment.width > 0 and attachment.height > 0:
        return attachment.width, attachment.height
    return UNKNOWN_SIZE


def _patch_multiplier(model: str) -> float | None:
    name = model.rpartition("/")[2]
    for prefix, multiplier in _OPENAI_PATCH_MULTIPLIERS:
        if name.startswith(prefix):
            return multiplier
    return None


def _tiles_of(model: str) -> _Tiles:
    name = model.rpartition("/")[2]
    for prefix, tiles in _OPENAI_TILES:
        if name.startswith(prefix):
            return tiles
    return _OPENAI_DEFAULT_TILES


def openai_patches(width: int, height: int) -> int:
    """32 px patches covering the image, after scaling it down to fit `MAX_PATCHES`."""
    if math.ceil(width / PATCH) * math.ceil(height / PATCH) > MAX_PATCHES:
        shrink = math.sqrt(PATCH * PATCH * MAX_PATCHES / (width * height))
        across, down = width * shrink / PATCH, height * shrink / PATCH
        shrink *= min(math.floor(across) / across, math.floor(down) / down)
        width, height = int(width * shrink), int(height * shrink)
    return min(math.ceil(width / PATCH) * math.ceil(height / PATCH), MAX_PATCHES)


def openai_tiles(width: int, height: int) -> int:
    """512 px tiles covering the image after the 2048 px fit and the 768 px short side."""
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    return math.ceil(w / 512) * math.ceil(h / 512)


def openai_image_tokens(width: int, height: int, detail: str | None, model: str) -> int:
    multiplier = _patch_multiplier(model)
    if multiplier is not None:
        return math.ceil(openai_patches(width, height) * multiplier)
    tiles = _tiles_of(model)
    if detail == "low":
        return tiles.base
    return tiles.base + tiles.tile * openai_tiles(width, height)


def anthropic_image_tokens(width: int, height: int) -> int:
    scale = min(
        1.0,
        ANTHROPIC_LONG_EDGE / max(width, height),
        math.sqrt(ANTHROPIC_MAX_PIXELS / (width * height)),
    )
    if scale < 1.0:  # rounded: 3000 * (1568 / 3000) is 1567.999... in floating point
        width, height = round(width * scale), round(height * scale)
    return math.ceil(width * height / ANTHROPIC_PIXELS_PER_TOKEN)


def gemini_image_tokens(width: int, height: int) -> int:
    if width <= GEMINI_SMALL_SIDE and height <= GEMINI_SMALL_SIDE:
        return GEMINI_IMAGE_TOKENS
    tiles = math.ceil(width / GEMINI_TILE) * math.ceil(height / GEMINI_TILE)
    return GEMINI_IMAGE_TOKENS * tiles


def image_tokens(attachment: Attachment, vendor: str, model: str = "") -> int:
    """An image part's input tokens as `vendor` ("openai", "anthropic", "gemini") counts them."""
    if vendor == "gemini":
        if attachment.width <= 0 or attachment.height <= 0:
            return GEMINI_IMAGE_TOKENS  # a `fileData` URI: one image, as Google's docs price it
        return gemini_image_tokens(attachment.width, attachment.height)
    width, height = _size_of(attachment)
    if vendor == "anthropic":
        return anthropic_image_tokens(width, height)
    return openai_image_tokens(width, height, attachment.detail, model)


def audio_tokens(attachment: Attachment, vendor: str) -> int:
    """An audio part's input tokens (fixed until the media work decodes durations)."""
    return GEMINI_AUDIO_TOKENS if vendor == "gemini" else OPENAI_AUDIO_TOKENS
