from __future__ import annotations

import pytest

from mockserver.core.errors import APIError
from mockserver.protocols.doubao import images as ark


def sized(size: str | None, model: str = "doubao-seedream-4-0-250828") -> tuple[int, int]:
    body = {"model": model, "prompt": "x"} | ({"size": size} if size is not None else {})
    request = ark.parse(body)
    return request.width, request.height


def test_sizes_per_model() -> None:
    assert sized(None) == (2048, 2048)
    assert sized("4k") == (4096, 4096)
    assert sized("2560x1440") == (2560, 1440)
    assert sized(None, "doubao-seedream-3-0-t2i-250415") == (1024, 1024)
    assert sized("512x2048", "doubao-seedream-3-0-t2i-250415") == (512, 2048)
    for bad in ("1000x100", "5000x5000", "big"):
        with pytest.raises(APIError, match="size"):
            sized(bad)
    with pytest.raises(APIError, match="size"):
        sized("2K", "doubao-seedream-3-0-t2i-250415")


def test_seededit_needs_an_image_and_is_adaptive() -> None:
    with pytest.raises(APIError, match="image"):
        ark.parse({"model": "doubao-seededit-3-0-i2i-250628", "prompt": "x"})
    with pytest.raises(APIError, match="adaptive"):
        ark.parse(
            {"model": "doubao-seededit-3-0-i2i-250628", "prompt": "x", "image": "u", "size": "1K"}
        )


def test_usage_counts_pixels_over_256() -> None:
    request = ark.parse({"model": "doubao-seedream-4-0-250828", "prompt": "x", "size": "1K"})
    body = ark.render(request, 1, [(b"", "u1"), (b"", "u2")])
    assert body["usage"] == {"generated_images": 2, "output_tokens": 8192, "total_tokens": 8192}
    assert body["data"] == [{"url": "u1", "size": "1024x1024"}, {"url": "u2", "size": "1024x1024"}]
