"""Image tokens from the real pixel size: the vendors' own worked examples, and sizes read back
from PNG/JPEG/WebP bytes. Expected numbers are the docs' (or worked by hand from the formula
in the comment), never taken from the module under test."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from mockserver.core.exchange import Attachment
from mockserver.tokens import media_tokens
from mockserver.tokens.media_tokens import (
    anthropic_image_tokens,
    gemini_image_tokens,
    image_tokens,
    openai_image_tokens,
)


def encoded(width: int, height: int, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("width", "height", "detail", "model", "expected"),
    [
        # OpenAI's worked examples (gpt-4o): 1024 x 1024 high -> 768 x 768, 4 tiles: 85 + 4*170.
        (1024, 1024, "high", "gpt-4o", 765),
        # 2048 x 4096 high -> 1024 x 2048 -> 768 x 1536: 2 x 3 tiles: 85 + 6*170.
        (2048, 4096, "high", "gpt-4o", 1105),
        # low detail: the base cost whatever the size.
        (4096, 8192, "low", "gpt-4o", 85),
        # auto counts as high; a small image is one tile and is not scaled up.
        (300, 200, "auto", "gpt-4.1", 85 + 170),
        (300, 200, None, "gpt-4o-2024-08-06", 85 + 170),
        # gpt-4o-mini: base 2833, tile 5667 (4 tiles).
        (1024, 1024, "high", "gpt-4o-mini", 2833 + 4 * 5667),
        # o1/o3: base 75, tile 150; gpt-5: 70 / 140.
        (1024, 1024, "high", "o3", 75 + 4 * 150),
        (512, 512, "high", "gpt-5", 70 + 140),
        # Patch models. 1024 x 1024: 32 x 32 = 1024 patches (under 1536); x 1.62 rounded up.
        (1024, 1024, "high", "gpt-4.1-mini", 1659),
        # OpenAI's example 1800 x 2400: scaled to 1056 x 1408 = 33 x 44 = 1452 patches; x 1.72.
        (1800, 2400, "low", "o4-mini", 2498),
        # 100 x 100: 4 x 4 = 16 patches x 2.46 = 39.36 -> 40.
        (100, 100, "high", "gpt-4.1-nano", 40),
    ],
)
def test_openai_formula(
    width: int, height: int, detail: str | None, model: str, expected: int
) -> None:
    assert openai_image_tokens(width, height, detail, model) == expected


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (200, 200, 54),  # the docs' table: ~54
        (1000, 1000, 1334),  # ~1334
        (1092, 1092, 1590),  # the largest 1:1 size sent unresized, ~1590
        # 3000 x 1000: long edge 1568 -> 1568 x 523 (rounded), 820,064 px / 750 = 1093.4 -> 1094.
        (3000, 1000, 1094),
        # 2000 x 2000: the 1.2 MP cap: side round(2000 * sqrt(1.2e6 / 4e6)) = 1095;
        # 1095 * 1095 / 750 = 1598.7 -> 1599.
        (2000, 2000, 1599),
    ],
)
def test_anthropic_formula(width: int, height: int, expected: int) -> None:
    assert anthropic_image_tokens(width, height) == expected


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (384, 384, 258),
        (100, 384, 258),
        (385, 100, 258),  # one 768 tile
        (1024, 1024, 4 * 258),
        (1600, 900, 3 * 2 * 258),
    ],
)
def test_gemini_formula(width: int, height: int, expected: int) -> None:
    assert gemini_image_tokens(width, height) == expected


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_sizes_are_read_from_the_bytes(fmt: str) -> None:
    data = encoded(640, 480, fmt)
    assert media_tokens.image_size(data) == (640, 480)
    text = base64.b64encode(data).decode()
    assert media_tokens.base64_image_size(text) == (640, 480)
    url = f"data:image/{fmt.lower()};base64,{text}"
    assert media_tokens.data_url_image_size(url) == (640, 480)


def test_wrapped_and_url_safe_base64() -> None:
    text = base64.b64encode(encoded(300, 200)).decode()
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    assert media_tokens.base64_image_size(wrapped) == (300, 200)
    url_safe = base64.urlsafe_b64encode(encoded(300, 200)).decode().rstrip("=")
    assert media_tokens.base64_image_size(url_safe) == (300, 200)


def test_what_cannot_be_read_is_unknown() -> None:
    assert media_tokens.data_url_image_size("https://example.com/cat.png") is None
    assert media_tokens.data_url_image_size("data:image/png;base64,AAAA") is None
    assert media_tokens.base64_image_size("not base64 at all!") is None
    assert media_tokens.image_size(b"") is None


def test_an_unknown_size_falls_back_per_vendor() -> None:
    remote = Attachment("image", detail="high")
    assert image_tokens(remote, "openai", "gpt-4o") == 765  # as 1024 x 1024
    assert image_tokens(remote, "anthropic") == 1399  # ceil(1024 * 1024 / 750)
    assert image_tokens(remote, "gemini") == 258
    known = Attachment("image", detail="high", width=2048, height=4096)
    assert image_tokens(known, "openai", "gpt-4o") == 1105
