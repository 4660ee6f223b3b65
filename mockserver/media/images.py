"""Pictures a person can tell apart, drawn with Pillow from the seed and the request.

`draw(ImageRecipe(seed=42, prompt="a red fox", width=512, height=512, format="png"))` gives
PNG bytes: a two-colour gradient and a few shapes whose colours and places come from the
prompt's words, with the prompt and the seed written on it. The same recipe gives the same
bytes on every run (no timestamps or metadata are written into the files).

The picture is drawn on a palette canvas (one byte a pixel, at most 256 colours: a 192-step
gradient, one colour per shape, the caption's two): a PNG is written from it as an 8-bit
palette file, which zlib compresses without Pillow's per-row filter search — a new 1024x1024
PNG in ~5 ms rather than ~30 (the filter search alone was ~8 ms of it). JPEG and WebP, and a
transparent background, are converted to RGB(A) first.
"""

from __future__ import annotations

import io
import random
import textwrap

from PIL import Image, ImageDraw, ImageFont

from mockserver.core import ids
from mockserver.media.recipes import ImageRecipe

CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}

# Palette entries: the gradient's steps, then one per shape, then the caption's band and ink.
GRADIENT_STEPS = 192
SHAPES = 24
BAND = GRADIENT_STEPS + SHAPES
INK = BAND + 1
CLEAR = INK + 1  # the transparent background's entry


def draw(recipe: ImageRecipe) -> bytes:
    image = render(recipe)
    out = io.BytesIO()
    if recipe.format == "png":
        if recipe.transparent:
            # Level 1: a 1024x1024 picture in a few ms rather than ~60 (the files stay small).
            image.convert("RGBA").save(out, "PNG", compress_level=1)
        else:
            image.save(out, "PNG", compress_level=1)
    elif recipe.format == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=recipe.quality)
    else:
        mode = "RGBA" if recipe.transparent else "RGB"
        image.convert(mode).save(out, "WEBP", quality=recipe.quality, method=0)
    return out.getvalue()


def render(recipe: ImageRecipe) -> Image.Image:
    """The picture as a palette ("P") image; its `transparency` entry set when transparent."""
    width, height = recipe.width, recipe.height
    rng = random.Random(ids.seed_for(recipe.key, "pattern"))
    start, end = _colour(rng), _colour(rng)
    vertical = rng.random() < 0.5
    palette = _ramp(start, end)
    words = recipe.prompt.split() or ["(empty)"]
    shapers = [
        random.Random(ids.seed_for(f"{recipe.seed}:{word.lower()}", "shape"))
        for word in words[:SHAPES]
    ]
    # The shapes' colours come first from each word's generator, as places and sizes do.
    places = []
    for shaper in shapers:
        cx, cy = shaper.random() * width, shaper.random() * height
        radius = (0.05 + shaper.random() * 0.2) * min(width, height)
        # Blended into the background at 2/3, as a translucent shape would look over its middle.
        colour = _mix(_colour(shaper), _mix(start, end, 0.5), 2 / 3)
        places.append(((cx - radius, cy - radius, cx + radius, cy + radius), shaper.random()))
        palette += colour
    palette += (0, 0, 0) * (SHAPES - len(shapers))
    palette += (24, 24, 24, 255, 255, 255, 0, 0, 0)  # the band, the ink, the clear entry
    if recipe.transparent:
        image = Image.new("P", (width, height), CLEAR)
    else:
        image = _gradient(width, height, vertical)
    image.putpalette(palette + (0, 0, 0) * (256 - CLEAR - 1))
    canvas = ImageDraw.Draw(image)
    # One shape per word: the same word always lands in the same place with the same colour.
    for index, (box, kind) in enumerate(places):
        if kind < 0.5:
            canvas.ellipse(box, fill=GRADIENT_STEPS + index)
        else:
            canvas.rectangle(box, fill=GRADIENT_STEPS + index)
    _write(canvas, recipe, width, height)
    if recipe.transparent:
        image.info["transparency"] = CLEAR
    return image


def _write(canvas: ImageDraw.ImageDraw, recipe: ImageRecipe, width: int, height: int) -> None:
    """The prompt, wrapped, in a dark band at the bottom; the seed and variant above it."""
    size = max(10, min(width, height) // 24)
    font = ImageFont.load_default(size=size)
    columns = max(8, int(width / (size * 0.55)))
    lines = textwrap.wrap(recipe.prompt, columns)[:6] or ["(empty prompt)"]
    footer = f"seed {recipe.seed} · #{recipe.variant + 1}"
    if recipe.caption:
        footer += f" · {recipe.caption}"
    lines.append(footer)
    line_height = int(size * 1.3)
    top = height - line_height * len(lines) - size // 2
    canvas.rectangle((0, top - size // 4, width, height), fill=BAND)
    for index, line in enumerate(lines):
        canvas.text((size // 2, top + index * line_height), line, fill=INK, font=font)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    """`share` of `a` and the rest of `b`."""
    return (
        round(a[0] * share + b[0] * (1 - share)),
        round(a[1] * share + b[1] * (1 - share)),
        round(a[2] * share + b[2] * (1 - share)),
    )


def _ramp(start: tuple[int, int, int], end: tuple[int, int, int]) -> tuple[int, ...]:
    """GRADIENT_STEPS palette colours from `start` to `end`, flattened (r, g, b, r, ...)."""
    out: list[int] = []
    for step in range(GRADIENT_STEPS):
        out += _mix(end, start, step / (GRADIENT_STEPS - 1))
    return tuple(out)


def _gradient(width: int, height: int, vertical: bool) -> Image.Image:
    """Palette indices 0..GRADIENT_STEPS-1 along one axis: Pillow's own 256-step ramp, one
    column (or row) of it stretched over the picture."""
    ramp = Image.linear_gradient("L").point(lambda v: v * (GRADIENT_STEPS - 1) // 255)
    if vertical:
        strip = ramp.crop((0, 0, 1, 256)).resize((1, height), Image.Resampling.NEAREST)
        return strip.resize((width, height), Image.Resampling.NEAREST)
    strip = ramp.crop((0, 0, 1, 256)).transpose(Image.Transpose.ROTATE_90)
    strip = strip.resize((width, 1), Image.Resampling.NEAREST)
    return strip.resize((width, height), Image.Resampling.NEAREST)


def image_size(data: bytes) -> tuple[str, int, int, str]:
    """(format, width, height, mode) of an uploaded image; ValueError when it isn't one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return (image.format or "").lower(), image.width, image.height, image.mode
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(str(error)) from None
