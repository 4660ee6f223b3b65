"""Pictures a person can tell apart, drawn with Pillow from the seed and the request.

`draw(ImageRecipe(seed=42, prompt="a red fox", width=512, height=512, format="png"))` gives
PNG bytes: a two-colour gradient and a few shapes whose colours and places come from the
prompt's words, with the prompt and the seed written on it. The same recipe gives the same
bytes on every run (no timestamps or metadata are written into the files).
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


def draw(recipe: ImageRecipe) -> bytes:
    image = render(recipe)
    out = io.BytesIO()
    if recipe.format == "png":
        # Level 1: a 1024x1024 picture in a few ms rather than ~60 (the files stay small).
        image.save(out, "PNG", compress_level=1)
    elif recipe.format == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=recipe.quality)
    else:
        image.save(out, "WEBP", quality=recipe.quality, method=0)
    return out.getvalue()


def render(recipe: ImageRecipe) -> Image.Image:
    width, height = recipe.width, recipe.height
    rng = random.Random(ids.seed_for(recipe.key, "pattern"))
    start, end = _colour(rng), _colour(rng)
    image = _gradient(width, height, start, end, rng.random() < 0.5)
    if recipe.transparent:
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(image, "RGBA")
    words = recipe.prompt.split() or ["(empty)"]
    # One shape per word: the same word always lands in the same place with the same colour.
    for word in words[:24]:
        shaper = random.Random(ids.seed_for(f"{recipe.seed}:{word.lower()}", "shape"))
        cx, cy = shaper.random() * width, shaper.random() * height
        radius = (0.05 + shaper.random() * 0.2) * min(width, height)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        fill = (*_colour(shaper), 170)
        if shaper.random() < 0.5:
            canvas.ellipse(box, fill=fill)
        else:
            canvas.rectangle(box, fill=fill)
    _write(canvas, recipe, width, height)
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
    canvas.rectangle((0, top - size // 4, width, height), fill=(0, 0, 0, 150))
    for index, line in enumerate(lines):
        canvas.text((size // 2, top + index * line_height), line, fill="white", font=font)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _gradient(
    width: int,
    height: int,
    start: tuple[int, int, int],
    end: tuple[int, int, int],
    vertical: bool,
) -> Image.Image:
    """A linear gradient from `start` to `end`, made from Pillow's own 256-step ramp."""
    ramp = Image.linear_gradient("L")  # 256x256, black at the top to white at the bottom
    ramp = ramp.resize((width, height)) if vertical else ramp.rotate(90).resize((width, height))
    first, last = Image.new("RGB", (width, height), start), Image.new("RGB", (width, height), end)
    return Image.composite(last, first, ramp).convert("RGBA")


def image_size(data: bytes) -> tuple[str, int, int, str]:
    """(format, width, height, mode) of an uploaded image; ValueError when it isn't one."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return (image.format or "").lower(), image.width, image.height, image.mode
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(str(error)) from None
