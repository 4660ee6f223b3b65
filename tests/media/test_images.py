from __future__ import annotations

import io

import pytest
from PIL import Image

from mockserver.media.images import ImageRecipe, draw, image_size


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
@pytest.mark.parametrize("size", [(256, 256), (1792, 1024), (300, 517)])
def test_exact_size_and_format(fmt: str, size: tuple[int, int]) -> None:
    data = draw(
        ImageRecipe(
            seed=7, prompt="a lighthouse at dusk", width=size[0], height=size[1], format=fmt
        )
    )  # type: ignore[arg-type]
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == fmt.upper()
        assert image.size == size


def test_same_recipe_same_bytes_and_prompts_differ() -> None:
    fox = ImageRecipe(seed=1, prompt="a red fox", width=256, height=256)
    assert draw(fox) == draw(ImageRecipe(seed=1, prompt="a red fox", width=256, height=256))
    assert draw(fox) != draw(ImageRecipe(seed=1, prompt="a blue whale", width=256, height=256))
    assert draw(fox) != draw(ImageRecipe(seed=2, prompt="a red fox", width=256, height=256))
    assert draw(fox) != draw(
        ImageRecipe(seed=1, prompt="a red fox", width=256, height=256, variant=1)
    )


def test_pictures_are_visibly_different() -> None:
    """Not just different bytes: the pixels of two prompts differ over much of the picture."""
    one = Image.open(
        io.BytesIO(draw(ImageRecipe(seed=1, prompt="a red fox", width=128, height=128)))
    )
    two = Image.open(
        io.BytesIO(draw(ImageRecipe(seed=1, prompt="green hills", width=128, height=128)))
    )
    a, b = one.convert("RGB").tobytes(), two.convert("RGB").tobytes()
    differing = sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) > 16)
    assert differing > len(a) // 4


def test_transparent_background_has_alpha() -> None:
    data = draw(ImageRecipe(seed=1, prompt="x", width=64, height=64, transparent=True))
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]


def test_image_size_reads_uploads_and_rejects_others() -> None:
    data = draw(ImageRecipe(seed=1, prompt="x", width=40, height=30, format="jpeg"))
    assert image_size(data) == ("jpeg", 40, 30, "RGB")
    with pytest.raises(ValueError):
        image_size(b"not an image")
